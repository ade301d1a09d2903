package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/ddb"
)

// Login attempts are counted in buckets (account.Throttle): one per email
// (LOGIN#<email> / ATTEMPTS) and one per device that logged in before
// (DEVICE#<token hash> / DEVICE, which also says whose device it is). An
// attempt is taken before the password is checked, conditioned on the
// bucket being as it was read: two attempts at once cannot both spend the
// same free attempt. A source address's failed logins (SOURCE#<address> /
// FAILURES) are counted after the check, with one atomic increment each.

func sourcePK(address string) string { return "SOURCE#" + address }
func devicePK(hash string) string    { return "DEVICE#" + hash }

const (
	skDevice   = "DEVICE"
	skFailures = "FAILURES"
)

// failuresRecord is an address's failed logins as stored; forgetAtMs,
// an hour after the last failure, is when they start over (expiresAt, the
// table's TTL, the same moment in seconds).
type failuresRecord struct {
	Failures   int   `dynamodbav:"failures"`
	LastMs     int64 `dynamodbav:"lastMs"`
	ForgetAtMs int64 `dynamodbav:"forgetAtMs"`
}

func (r failuresRecord) failures(now time.Time) account.Failures {
	if now.UnixMilli() >= r.ForgetAtMs || r.Failures == 0 {
		return account.Failures{}
	}
	return account.Failures{Count: r.Failures, Last: time.UnixMilli(r.LastMs).UTC()}
}

// bucketRecord is a bucket as stored. forgetAtMs is when it starts over;
// for account and source buckets expiresAt (the table's TTL, seconds) is
// the same moment, for a device the device's own expiry.
type bucketRecord struct {
	Attempts   int   `dynamodbav:"attempts"`
	NextAtMs   int64 `dynamodbav:"nextAtMs"`
	ForgetAtMs int64 `dynamodbav:"forgetAtMs"`
}

// bucket is the bucket at now: empty once forgotten (TTL deletion lags).
func (r bucketRecord) bucket(now time.Time) account.Bucket {
	if r.ForgetAtMs != 0 && now.UnixMilli() >= r.ForgetAtMs || r.Attempts == 0 {
		return account.Bucket{}
	}
	b := account.Bucket{Attempts: r.Attempts}
	if r.NextAtMs != 0 {
		b.NextAt = time.UnixMilli(r.NextAtMs).UTC()
	}
	return b
}

// deviceRecord is a device that logged in to an account (or proved its
// mailbox), with its bucket. Epoch is the account's session epoch when
// the token was issued. UserID is the account's: an email can change hands
// (a registration cancelled and made again), its devices cannot.
type deviceRecord struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Email     string `dynamodbav:"email"`
	Epoch     int64  `dynamodbav:"epoch"`
	UserID    string `dynamodbav:"userId,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
	bucketRecord
}

// devicePut is the transaction item that stores the device of g, for
// account.DeviceTTL from now.
func (s *Store) devicePut(g account.DeviceGrant, now time.Time) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(deviceRecord{
		PK: devicePK(g.Token.Hash()), SK: skDevice, Email: g.Email, UserID: g.UserID, Epoch: g.Epoch, ExpiresAt: now.Add(account.DeviceTTL).Unix(),
	})
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: &s.table, Item: item}, nil
}

// LoginState reads, in one consistent BatchGetItem, the email's claim, the
// email's bucket, the source's failures and the presented device
// (deviceHash "" for none), and then the user the claim names. A device of
// another email, or of another account that had the email before (a
// cancelled registration), is no device of this one.
func (s *Store) LoginState(ctx context.Context, email, source, deviceHash string, now time.Time) (account.LoginState, error) {
	keys := []map[string]types.AttributeValue{ddb.Key(emailPK(email), skEmail), ddb.Key(loginPK(email), skAttempts)}
	if source != "" {
		keys = append(keys, ddb.Key(sourcePK(source), skFailures))
	}
	if deviceHash != "" {
		keys = append(keys, ddb.Key(devicePK(deviceHash), skDevice))
	}
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}},
	})
	if err != nil {
		return account.LoginState{}, wrap("login state", err)
	}
	if n := len(out.UnprocessedKeys[s.table].Keys); n > 0 {
		return account.LoginState{}, wrap("login state", fmt.Errorf("%d keys unprocessed", n))
	}
	var st account.LoginState
	var userID, deviceUser string
	for _, item := range out.Responses[s.table] {
		var k struct {
			PK string `dynamodbav:"PK"`
		}
		if err := attributevalue.UnmarshalMap(item, &k); err != nil {
			return account.LoginState{}, wrap("login state", err)
		}
		switch k.PK {
		case emailPK(email):
			var r emailRecord
			err = attributevalue.UnmarshalMap(item, &r)
			userID = r.UserID
		case loginPK(email):
			var r bucketRecord
			err = attributevalue.UnmarshalMap(item, &r)
			st.Account = r.bucket(now)
		case sourcePK(source):
			var r failuresRecord
			err = attributevalue.UnmarshalMap(item, &r)
			st.Source = r.failures(now)
		case devicePK(deviceHash):
			var r deviceRecord
			err = attributevalue.UnmarshalMap(item, &r)
			if r.Email == email && now.Unix() < r.ExpiresAt {
				st.Device = &account.Device{Hash: deviceHash, Email: r.Email, Epoch: r.Epoch, Bucket: r.bucket(now)}
				deviceUser = r.UserID
			}
		}
		if err != nil {
			return account.LoginState{}, wrap("login state", err)
		}
	}
	if st.Device != nil && deviceUser != userID {
		st.Device = nil // the device of an account the email no longer names
	}
	if userID == "" {
		return st, nil
	}
	creds, err := s.User(ctx, userID)
	if errors.Is(err, account.ErrNotFound) {
		return st, nil // a claim without its user: treat as unknown
	}
	if err != nil {
		return account.LoginState{}, err
	}
	st.Credentials, st.Found = creds, true
	return st, nil
}

// bucketUpdate is the transaction item that sets the bucket at key from
// was to next, on condition that it is still was (or forgotten, when was is
// empty). A device's bucket (device true) lives in the device's item, which
// must still exist (a login at once may have replaced it); any other
// bucket's item is its own, whose TTL, expiresAt, is set to forget.
func (s *Store) bucketUpdate(key map[string]types.AttributeValue, was, next account.Bucket, forget, now time.Time, device bool) (*types.Update, error) {
	var nextAt int64
	if !next.NextAt.IsZero() {
		nextAt = next.NextAt.UnixMilli()
	}
	upd := expression.Set(expression.Name("attempts"), expression.Value(next.Attempts)).
		Set(expression.Name("nextAtMs"), expression.Value(nextAt)).
		Set(expression.Name("forgetAtMs"), expression.Value(forget.UnixMilli()))
	if !device {
		upd = upd.Set(expression.Name("expiresAt"), expression.Value(forget.Unix()))
	}
	var cond expression.ConditionBuilder
	if was.Attempts == 0 {
		// Empty when read: missing, never counted, or forgotten.
		cond = expression.AttributeNotExists(expression.Name("attempts")).
			Or(expression.Name("attempts").Equal(expression.Value(0))).
			Or(expression.Name("forgetAtMs").LessThanEqual(expression.Value(now.UnixMilli())))
	} else {
		cond = expression.Name("attempts").Equal(expression.Value(was.Attempts)).
			And(expression.Name("forgetAtMs").GreaterThan(expression.Value(now.UnixMilli())))
	}
	if device {
		cond = cond.And(expression.AttributeExists(expression.Name("email")))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return nil, err
	}
	return ddb.Update(s.table, key, expr), nil
}

// TakeAttempt writes t: the guard bucket, on condition that it is as read.
// Returns account.ErrStaleWrite when another attempt counted first: read
// again and take again.
func (s *Store) TakeAttempt(ctx context.Context, t account.AttemptTake, now time.Time) error {
	guardKey := ddb.Key(loginPK(t.Email), skAttempts)
	if t.Device != "" {
		guardKey = ddb.Key(devicePK(t.Device), skDevice)
	}
	guard, err := s.bucketUpdate(guardKey, t.GuardWas, t.Guard, t.GuardForget, now, t.Device != "")
	if err != nil {
		return wrap("take attempt", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: guard.TableName, Key: guard.Key, UpdateExpression: guard.UpdateExpression,
		ConditionExpression: guard.ConditionExpression, ExpressionAttributeNames: guard.ExpressionAttributeNames,
		ExpressionAttributeValues: guard.ExpressionAttributeValues,
	})
	if _, ok := ddb.ConditionFailure(err); ok {
		return account.ErrStaleWrite
	}
	if err != nil {
		return wrap("take attempt", err)
	}
	return nil
}

// CompleteLogin writes a successful login at once: the new session, the
// device token handed out (replacing the presented one) and, when the
// account's bucket was the guard, that bucket cleared; on condition that
// the user's session epoch is still c.Epoch, so that a login whose
// password was checked before a reset or change cannot start a session
// after it. Returns account.ErrStaleWrite when the epoch moved on. A retry
// of a transaction that was applied but whose answer was lost finds the
// session it wrote and succeeds.
func (s *Store) CompleteLogin(ctx context.Context, c account.LoginCompletion, now time.Time) error {
	session, err := attributevalue.MarshalMap(familyRecord{
		PK: userPK(c.Refresh.UserID), SK: familySK(c.Refresh.FamilyID), UserID: c.Refresh.UserID, FamilyID: c.Refresh.FamilyID,
		CurrentHash: c.Refresh.Hash(), FamilyProof: c.Refresh.FamilyProof(), Epoch: c.Epoch,
		CreatedAt: now.UTC(), ExpiresAt: now.Add(account.RefreshTTL).Unix(),
	})
	if err != nil {
		return wrap("complete login", err)
	}
	device, err := s.devicePut(account.DeviceGrant{Token: c.NewDevice, Email: c.Email, UserID: c.Refresh.UserID, Epoch: c.Epoch}, now)
	if err != nil {
		return wrap("complete login", err)
	}
	absent, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name("PK"))).Build()
	if err != nil {
		return wrap("complete login", err)
	}
	epoch, err := expression.NewBuilder().WithCondition(expression.Name("sessionEpoch").Equal(expression.Value(c.Epoch))).Build()
	if err != nil {
		return wrap("complete login", err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: &s.table, Item: session, ConditionExpression: absent.Condition(), ExpressionAttributeNames: absent.Names(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{ConditionCheck: &types.ConditionCheck{
			TableName: &s.table, Key: ddb.Key(userPK(c.Refresh.UserID), skProfile),
			ConditionExpression: epoch.Condition(), ExpressionAttributeNames: epoch.Names(), ExpressionAttributeValues: epoch.Values(),
		}},
		{Put: device},
	}
	if c.OldDevice != "" {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: ddb.Key(devicePK(c.OldDevice), skDevice)}})
	}
	if c.ClearAccount {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: ddb.Key(loginPK(c.Email), skAttempts)}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons, ok := ddb.CancellationReasons(err); ok {
		if ddb.ConditionFailedAt(reasons, 0) {
			var existing familyRecord
			if attributevalue.UnmarshalMap(reasons[0].Item, &existing) == nil && existing.CurrentHash == c.Refresh.Hash() {
				return nil // our own write: the SDK retried a transaction whose answer was lost
			}
		}
		if ddb.ConditionFailedAt(reasons, 1) {
			return account.ErrStaleWrite
		}
	}
	if err != nil {
		return wrap("complete login", err)
	}
	return nil
}

// CountSourceFailure adds a failed login to the source's failures with one
// atomic UpdateItem, so failures at once are all counted and successful
// logins never touch the item. Failures forgotten (forget after the last
// one) start over from one; first is whether the caller read none, which
// decides which of the two it tries first (the other follows only when
// another failure got there first).
func (s *Store) CountSourceFailure(ctx context.Context, source string, first bool, forget time.Duration, now time.Time) error {
	key := ddb.Key(sourcePK(source), skFailures)
	nowMs, forgetAt := now.UnixMilli(), now.Add(forget)
	live := expression.Name("forgetAtMs").GreaterThan(expression.Value(nowMs))
	add, err := expression.NewBuilder().WithCondition(live).WithUpdate(
		expression.Add(expression.Name("failures"), expression.Value(1)).
			Set(expression.Name("lastMs"), expression.Value(nowMs)).
			Set(expression.Name("forgetAtMs"), expression.Value(forgetAt.UnixMilli())).
			Set(expression.Name("expiresAt"), expression.Value(forgetAt.Unix()))).Build()
	if err != nil {
		return wrap("count source failure", err)
	}
	restart, err := expression.NewBuilder().
		WithCondition(expression.AttributeNotExists(expression.Name("forgetAtMs")).Or(expression.Not(live))).
		WithUpdate(expression.Set(expression.Name("failures"), expression.Value(1)).
			Set(expression.Name("lastMs"), expression.Value(nowMs)).
			Set(expression.Name("forgetAtMs"), expression.Value(forgetAt.UnixMilli())).
			Set(expression.Name("expiresAt"), expression.Value(forgetAt.Unix()))).Build()
	if err != nil {
		return wrap("count source failure", err)
	}
	tries := []expression.Expression{add, restart}
	if first {
		tries = []expression.Expression{restart, add}
	}
	for range 3 {
		for _, e := range tries {
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: &s.table, Key: key, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
				ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			})
			if _, ok := ddb.ConditionFailure(err); ok {
				continue
			}
			if err != nil {
				return wrap("count source failure", err)
			}
			return nil
		}
	}
	return wrap("count source failure", errors.New("the failures kept starting over"))
}

// ClearAttempts forgets the attempts counted against email, after the
// password was proved some other way (a password change).
func (s *Store) ClearAttempts(ctx context.Context, email string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: ddb.Key(loginPK(email), skAttempts)})
	if err != nil {
		return wrap("clear attempts", err)
	}
	return nil
}
