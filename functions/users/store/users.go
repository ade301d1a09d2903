package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
)

// userRecord is the stored form of a user.
type userRecord struct {
	PK           string `dynamodbav:"PK"`
	SK           string `dynamodbav:"SK"`
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
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	UserID string `dynamodbav:"userId"`
}

// CreateUser stores a new user, claims its email, stores its pending
// verification link and queues the event that mails it, in one
// transaction: two registrations racing for one email cannot both succeed,
// and no account exists without its verification email on the way.
// Returns account.ErrEmailTaken if the email is claimed.
func (s *Store) CreateUser(ctx context.Context, u account.User, passwordHash string, verify account.PendingLink, ev events.AccountEvent) error {
	user, err := attributevalue.MarshalMap(userRecord{
		PK: userPK(u.ID), SK: skProfile, ID: u.ID, Email: u.Email, Name: u.Name,
		PasswordHash: passwordHash, EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	})
	if err != nil {
		return wrap("create user", err)
	}
	claim, err := attributevalue.MarshalMap(emailRecord{PK: emailPK(u.Email), SK: skEmail, UserID: u.ID})
	if err != nil {
		return wrap("create user", err)
	}
	absent, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))).Build()
	if err != nil {
		return wrap("create user", err)
	}
	put := func(item map[string]types.AttributeValue) *types.Put {
		return &types.Put{
			TableName: &s.table, Item: item,
			ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names(),
		}
	}
	link, err := s.linkPut(account.VerifyEmail, verify)
	if err != nil {
		return wrap("create user", err)
	}
	event, err := s.outboxPut(ev)
	if err != nil {
		return wrap("create user", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: put(claim)}, {Put: put(user)}, {Put: link}, {Put: event}},
	})
	if reasons, ok := ddb.CancellationReasons(err); ok && ddb.ConditionFailedAt(reasons, 0) {
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
		TableName: &s.table, Key: ddb.Key(userPK(id), skProfile), ConsistentRead: aws.Bool(true),
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
		TableName: &s.table, Key: ddb.Key(emailPK(email), skEmail), ConsistentRead: aws.Bool(true),
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
	upd := expression.Set(expression.Name("name"), expression.Value(name)).
		Set(expression.Name("updatedAt"), expression.Value(now.UTC()))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(expression.AttributeExists(expression.Name("PK"))).Build()
	if err != nil {
		return account.User{}, wrap("update name", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: ddb.Key(userPK(id), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllNew,
	})
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
	upd := expression.Set(expression.Name("passwordHash"), expression.Value(newHash)).
		Set(expression.Name("updatedAt"), expression.Value(now.UTC())).
		Set(expression.Name("sessionEpoch"), expression.Value(u.SessionEpoch+1))
	cond := expression.Name("passwordHash").Equal(expression.Value(u.PasswordHash))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return wrap("change password", err)
	}
	update := ddb.Update(s.table, ddb.Key(userPK(u.ID), skProfile), expr)
	update.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	rev, err := s.revocationWrites(revoke, budget)
	if err != nil {
		return wrap("change password", err)
	}
	// A reset link mailed before the change would undo it: it ends too.
	dropReset := &types.Delete{TableName: &s.table, Key: ddb.Key(userPK(u.ID), linkSK(account.ResetPassword))}
	items := append([]types.TransactWriteItem{{Update: update}, {Delete: dropReset}}, rev...)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons, ok := ddb.CancellationReasons(err); ok {
		switch {
		case ddb.ConditionFailedAt(reasons, 0):
			return staleOrOwnWrite(reasons[0].Item, newHash)
		case budget.Max > 0 && ddb.ConditionFailedAt(reasons, len(items)-1):
			return limited(budget, revoke.RevokedAt)
		}
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
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("passwordHash"), expression.Value(newHash))).
		WithCondition(expression.Name("passwordHash").Equal(expression.Value(oldHash))).
		Build()
	if err != nil {
		return wrap("rehash password", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: ddb.Key(userPK(id), skProfile),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
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

// withUser reads the user's item under sort key sk, as an R, together with
// the user, in one consistent BatchGetItem. Either is nil when missing.
func withUser[R any](ctx context.Context, s *Store, userID, sk string) (*R, *userRecord, error) {
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: []map[string]types.AttributeValue{ddb.Key(userPK(userID), sk), ddb.Key(userPK(userID), skProfile)}, ConsistentRead: aws.Bool(true)},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if n := len(out.UnprocessedKeys[s.table].Keys); n > 0 {
		return nil, nil, fmt.Errorf("%d keys unprocessed", n)
	}
	var item *R
	var user *userRecord
	for _, av := range out.Responses[s.table] {
		switch k, _ := av["SK"].(*types.AttributeValueMemberS); {
		case k == nil:
			continue
		case k.Value == skProfile:
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
