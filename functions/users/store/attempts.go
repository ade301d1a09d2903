package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/ddb"
)

// attemptsRecord holds the failed logins for one email in a fixed window
// that starts at the first failure and ends at ExpiresAt (also the TTL).
// Each failure is a random id in a string set, not a number: adding the
// same id twice, as an SDK retry of a write whose answer was lost does,
// counts it once.
type attemptsRecord struct {
	PK        string   `dynamodbav:"PK"`
	SK        string   `dynamodbav:"SK"`
	Failures  []string `dynamodbav:"failures,stringset"`
	ExpiresAt int64    `dynamodbav:"expiresAt"`
}

// open returns the failures counted in the window and its end, or zeros
// when the window has ended (TTL deletion lags behind).
func (r attemptsRecord) open(now time.Time) (int, time.Time) {
	ends := time.Unix(r.ExpiresAt, 0)
	if !now.Before(ends) {
		return 0, time.Time{}
	}
	return len(r.Failures), ends
}

// LoginFailures returns the failed password checks counted against email in
// the current window, and when the window ends: one read, for callers that
// already know the user.
func (s *Store) LoginFailures(ctx context.Context, email string, now time.Time) (int, time.Time, error) {
	r, found, err := ddb.Get[attemptsRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: ddb.Key(loginPK(email), skAttempts), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return 0, time.Time{}, wrap("login failures", err)
	}
	if !found {
		return 0, time.Time{}, nil
	}
	failures, ends := r.open(now)
	return failures, ends, nil
}

// RecordLoginFailure counts one failed login against email. The first
// failure after a window ended opens a new window of the given length.
func (s *Store) RecordLoginFailure(ctx context.Context, email string, now time.Time, window time.Duration) error {
	idBytes := make([]byte, 8)
	if _, err := rand.Read(idBytes); err != nil {
		return wrap("record login failure", err)
	}
	id := hex.EncodeToString(idBytes)
	// Two attempts: if the window was opened by a concurrent first failure
	// between our update and our put, the second update counts into it.
	for range 2 {
		counted, err := s.countIntoOpenWindow(ctx, email, id, now)
		if err != nil || counted {
			return err
		}
		opened, err := s.openWindow(ctx, email, id, now, window)
		if err != nil || opened {
			return err
		}
	}
	return wrap("record login failure", errors.New("window contention"))
}

// countIntoOpenWindow adds one failure to the open window, if there is one.
func (s *Store) countIntoOpenWindow(ctx context.Context, email, id string, now time.Time) (bool, error) {
	// ADD into a string set takes a set; marshalling a []string would make
	// a list, so the value is given as a set already.
	add := expression.Add(expression.Name("failures"), expression.Value(&types.AttributeValueMemberSS{Value: []string{id}}))
	windowOpen := expression.Name("expiresAt").GreaterThan(expression.Value(ddb.Unix(now)))
	expr, err := expression.NewBuilder().WithUpdate(add).WithCondition(windowOpen).Build()
	if err != nil {
		return false, wrap("record login failure", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: ddb.Key(loginPK(email), skAttempts),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	applied, err := ddb.Applied(err)
	if err != nil {
		return false, wrap("record login failure", err)
	}
	return applied, nil
}

// openWindow starts a new window with one failure, unless one is open.
func (s *Store) openWindow(ctx context.Context, email, id string, now time.Time, window time.Duration) (bool, error) {
	item, err := attributevalue.MarshalMap(attemptsRecord{
		PK: loginPK(email), SK: skAttempts, Failures: []string{id}, ExpiresAt: now.Add(window).Unix(),
	})
	if err != nil {
		return false, wrap("record login failure", err)
	}
	noOpenWindow := expression.AttributeNotExists(expression.Name("PK")).
		Or(expression.Name("expiresAt").LessThanEqual(expression.Value(ddb.Unix(now))))
	expr, err := expression.NewBuilder().WithCondition(noOpenWindow).Build()
	if err != nil {
		return false, wrap("record login failure", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression: expr.Condition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	applied, err := ddb.Applied(err)
	if err != nil {
		return false, wrap("record login failure", err)
	}
	return applied, nil
}

// ClearLoginFailures forgets the failures counted against email, after a
// successful login.
func (s *Store) ClearLoginFailures(ctx context.Context, email string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: ddb.Key(loginPK(email), skAttempts)})
	if err != nil {
		return wrap("clear login failures", err)
	}
	return nil
}
