package store

import (
	"cmp"
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// userRecord is the stored form of a user.
type userRecord struct {
	key
	ID           string `dynamodbav:"id"`
	Email        string `dynamodbav:"email"`
	Name         string `dynamodbav:"name"`
	PasswordHash string `dynamodbav:"passwordHash"`
	SessionEpoch int64  `dynamodbav:"sessionEpoch"`
	// Absent on users created before verification existed, who therefore
	// count as unverified until they verify.
	EmailVerified bool      `dynamodbav:"emailVerified"`
	CreatedAt     time.Time `dynamodbav:"createdAt"`
	UpdatedAt     time.Time `dynamodbav:"updatedAt"`
	// Role is token.RoleStaff for staff; a customer's is absent, as on
	// every account made before roles.
	Role string `dynamodbav:"role,omitempty"`
}

func (r userRecord) credentials() account.Credentials {
	return account.Credentials{
		User: account.User{
			ID: r.ID, Email: r.Email, Name: r.Name, EmailVerified: r.EmailVerified,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Role: r.Role,
		},
		PasswordHash: r.PasswordHash,
		SessionEpoch: r.SessionEpoch,
	}
}

// emailRecord claims an email for one user.
type emailRecord struct {
	key
	UserID string `dynamodbav:"userId"`
}

// CreateUser stores a new user, claims its email, stores its pending
// verification link and queues the event that mails it, in one
// transaction: two registrations racing for one email cannot both succeed,
// and no account exists without its verification email on the way.
// Returns account.ErrEmailTaken if the email is claimed.
func (s *Store) CreateUser(ctx context.Context, u account.User, passwordHash string, verify account.PendingLink, ev events.AccountEvent) error {
	return s.tx().
		put(emailRecord{key: emailKey(u.Email), UserID: u.ID}, absent()).failsWith(account.ErrEmailTaken).
		put(userRecord{
			key: userKey(u.ID), ID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: passwordHash,
			EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		}, absent()).
		link(account.VerifyEmail, verify).event(ev).run(ctx, "create user")
}

// User returns the user with the given id, or account.ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (account.Credentials, error) {
	r, found, err := ddb.Get[userRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: userKey(id).av(), ConsistentRead: aws.Bool(true),
	})
	if err == nil && !found {
		return account.Credentials{}, account.ErrNotFound
	}
	return r.credentials(), wrap("get user", err)
}

// nobody is a user id no user has: UserByEmail reads it when an email is
// not registered, so that both answers take two reads.
const nobody = "00000000000000000000000000"

// UserByEmail returns the user registered under email, or
// account.ErrNotFound. It reads twice either way (the claim, then the user
// or an item that never exists), so its time does not tell whether the
// email is registered.
func (s *Store) UserByEmail(ctx context.Context, email string) (account.Credentials, error) {
	claim, _, err := ddb.Get[emailRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: emailKey(email).av(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return account.Credentials{}, wrap("user by email", err)
	}
	return s.User(ctx, cmp.Or(claim.UserID, nobody))
}

// UpdateName sets the user's display name and returns the updated user.
func (s *Store) UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error) {
	var r userRecord
	err := s.tx().update(userKey(id), set("name", name, "updatedAt", now.UTC()), exists()).failsWith(account.ErrNotFound).
		alone(ctx, "update name", &r)
	return r.credentials().User, err
}

// ChangePassword replaces u's password hash if it is still u.PasswordHash,
// raises the session epoch, which invalidates every refresh token family
// and device token of the user, deletes a pending reset link, and writes
// revoke, which ends the access tokens issued before: all in one
// transaction, counting revoke against budget. Returns
// account.ErrStaleWrite if the password changed since it was read, and
// account.Limited when the budget is spent, writing nothing.
func (s *Store) ChangePassword(ctx context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error {
	return s.tx().
		update(userKey(u.ID), set("passwordHash", newHash, "updatedAt", now.UTC(), "sessionEpoch", u.SessionEpoch+1), is("passwordHash", u.PasswordHash)).
		fails(ownWrite(func(r userRecord) bool { return r.PasswordHash == newHash })).
		// A reset link mailed before the change would undo it.
		delete(linkKey(u.ID, account.ResetPassword)).
		revocation(revoke, budget).run(ctx, "change password")
}

// SetRole makes u staff (role token.RoleStaff) or a customer (any other
// role: the attribute is removed) if its session epoch is still
// u.SessionEpoch, raises the epoch, which ends every session and device of
// the user as a password change does, and writes revoke, which ends the
// access tokens issued before: all in one transaction. It is an operator's
// action (cmd/staff), so revoke counts against no budget. Returns
// account.ErrStaleWrite if the user changed since it was read.
func (s *Store) SetRole(ctx context.Context, u account.Credentials, role string, now time.Time, revoke revocation.Entry) error {
	upd := set("sessionEpoch", u.SessionEpoch+1, "updatedAt", now.UTC())
	if role == token.RoleStaff {
		upd = upd.Set(expression.Name("role"), expression.Value(role))
	} else {
		upd = upd.Remove(expression.Name("role"))
	}
	retried := ownWrite(func(r userRecord) bool {
		return r.SessionEpoch == u.SessionEpoch+1 && (r.Role == token.RoleStaff) == (role == token.RoleStaff)
	})
	return s.tx().update(userKey(u.ID), upd, is("sessionEpoch", u.SessionEpoch)).fails(retried).
		revocation(revoke, account.Limit{}).run(ctx, "set role")
}

// RehashPassword replaces a hash made with old parameters by one made with
// the current parameters, without touching sessions. A lost race is harmless
// and reported as account.ErrStaleWrite.
func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) error {
	return s.tx().update(userKey(id), set("passwordHash", newHash), is("passwordHash", oldHash)).
		fails(ownWrite(func(r userRecord) bool { return r.PasswordHash == newHash })).
		alone(ctx, "rehash password", nil)
}

// ownWrite answers a failed write of an R: nil when the item, as it is,
// is what the write makes it (done), since the SDK retried a write whose
// answer was lost; account.ErrStaleWrite when it changed meanwhile.
func ownWrite[R any](done func(R) bool) func(item) error {
	return func(old item) error {
		if r, ok := decode[R](old); ok && done(r) {
			return nil
		}
		return account.ErrStaleWrite
	}
}

// withUser reads the user's item at k, an R, together with the user, in
// one consistent BatchGetItem (an operation op), and returns the item as
// its domain value D, and the user; missing when either is.
func withUser[R, D any](ctx context.Context, s *Store, op, userID string, k key, domain func(R) D, missing error) (D, account.Credentials, error) {
	var r R
	var user userRecord
	switch found, err := s.batchGet(ctx, map[key]any{k: &r, userKey(userID): &user}); {
	case err != nil:
		return *new(D), account.Credentials{}, wrap(op, err)
	case found < 2:
		return *new(D), account.Credentials{}, missing
	}
	return domain(r), user.credentials(), nil
}
