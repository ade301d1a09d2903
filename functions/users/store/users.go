package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
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
}

func (r userRecord) credentials() account.Credentials {
	return account.Credentials{
		User: account.User{
			ID: r.ID, Email: r.Email, Name: r.Name, EmailVerified: r.EmailVerified,
			CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
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
	err := s.tx().
		put(emailRecord{key: emailKey(u.Email), UserID: u.ID}, absent()).
		put(userRecord{
			key: userKey(u.ID), ID: u.ID, Email: u.Email, Name: u.Name, PasswordHash: passwordHash,
			EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		}, absent()).
		link(account.VerifyEmail, verify).event(ev).run(ctx)
	if _, ok := failed(err, 0); ok {
		return account.ErrEmailTaken
	}
	if err != nil {
		return wrap("create user", err)
	}
	return nil
}

// User returns the user with the given id, or account.ErrNotFound.
func (s *Store) User(ctx context.Context, id string) (account.Credentials, error) {
	r, found, err := ddb.Get[userRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: userKey(id).av(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return account.Credentials{}, wrap("get user", err)
	}
	if !found {
		return account.Credentials{}, account.ErrNotFound
	}
	return r.credentials(), nil
}

// nobody is a user id no user has: UserByEmail reads it when an email is
// not registered, so that both answers take two reads.
const nobody = "00000000000000000000000000"

// UserByEmail returns the user registered under email, or
// account.ErrNotFound. It reads twice either way (the claim, then the user
// or an item that never exists), so its time does not tell whether the
// email is registered.
func (s *Store) UserByEmail(ctx context.Context, email string) (account.Credentials, error) {
	claim, found, err := ddb.Get[emailRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: emailKey(email).av(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return account.Credentials{}, wrap("user by email", err)
	}
	id := claim.UserID
	if !found || id == "" {
		id = nobody
	}
	u, err := s.User(ctx, id)
	if err != nil {
		return account.Credentials{}, err
	}
	if !found {
		return account.Credentials{}, account.ErrNotFound // cannot happen: nobody has no item
	}
	return u, nil
}

// UpdateName sets the user's display name and returns the updated user.
func (s *Store) UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error) {
	out, err := s.tx().update(userKey(id), set("name", name, "updatedAt", now.UTC()), exists()).updateItem(ctx, types.ReturnValueAllNew)
	applied, err := ddb.Applied(err)
	if err != nil {
		return account.User{}, wrap("update name", err)
	}
	if !applied {
		return account.User{}, account.ErrNotFound
	}
	var r userRecord
	if err := attributevalue.UnmarshalMap(out.Attributes, &r); err != nil {
		return account.User{}, wrap("update name", err)
	}
	return r.credentials().User, nil
}

// ChangePassword replaces u's password hash if it is still u.PasswordHash,
// raises the session epoch, which invalidates every refresh token family
// and device token of the user, deletes a pending reset link, and writes
// revoke, which ends the access tokens issued before: all in one
// transaction, counting revoke against budget. Returns
// account.ErrStaleWrite if the password changed since it was read, and
// account.Limited when the budget is spent, writing nothing.
func (s *Store) ChangePassword(ctx context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error {
	err := s.tx().
		update(userKey(u.ID), set("passwordHash", newHash, "updatedAt", now.UTC(), "sessionEpoch", u.SessionEpoch+1),
								is("passwordHash", u.PasswordHash)).old().
		delete(linkKey(u.ID, account.ResetPassword)). // a reset link mailed before the change would undo it
		revocation(revoke, budget).run(ctx)
	if stored, ok := failed(err, 0); ok {
		return staleOrOwnWrite(stored, newHash)
	}
	if _, ok := failed(err, -1); ok && budget.Max > 0 {
		return limited(budget, revoke.RevokedAt)
	}
	if err != nil {
		return wrap("change password", err)
	}
	return nil
}

// RehashPassword replaces a hash made with old parameters by one made with
// the current parameters, without touching sessions. A lost race is harmless
// and reported as account.ErrStaleWrite.
func (s *Store) RehashPassword(ctx context.Context, id, oldHash, newHash string) error {
	_, err := s.tx().update(userKey(id), set("passwordHash", newHash), is("passwordHash", oldHash)).old().updateItem(ctx, "")
	if ccf, ok := ddb.ConditionFailure(err); ok {
		return staleOrOwnWrite(ccf.Item, newHash)
	}
	if err != nil {
		return wrap("rehash password", err)
	}
	return nil
}

// staleOrOwnWrite reads a failed password update: if the stored hash is the
// one being written, the SDK retried an update whose answer was lost and
// the write did happen; otherwise the password changed meanwhile.
func staleOrOwnWrite(stored map[string]types.AttributeValue, newHash string) error {
	var r userRecord
	if stored != nil && attributevalue.UnmarshalMap(stored, &r) == nil && r.PasswordHash == newHash {
		return nil
	}
	return account.ErrStaleWrite
}

// withUser reads the user's item at k, as an R, together with the user, in
// one consistent BatchGetItem. Either is nil when missing.
func withUser[R any](ctx context.Context, s *Store, userID string, k key) (*R, *userRecord, error) {
	items, err := s.batchGet(ctx, k, userKey(userID))
	if err != nil {
		return nil, nil, err
	}
	var item *R
	var user *userRecord
	for _, av := range items {
		switch sk, _ := av["SK"].(*types.AttributeValueMemberS); {
		case sk == nil:
			continue
		case sk.Value == userKey(userID).SK:
			user = new(userRecord)
			err = attributevalue.UnmarshalMap(av, user)
		default:
			item = new(R)
			err = attributevalue.UnmarshalMap(av, item)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return item, user, nil
}
