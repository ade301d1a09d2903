// Package store remembers, in the notification service's own table, which
// events have been mailed, so a redelivered or duplicated event does not
// mail the customer twice.
//
// A record is claimed (SENDING, with a lease) before the send and marked
// SENT or REJECTED after it. A function that dies mid-send leaves a lease
// that lapses, so the redelivered message is retried rather than stuck.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/shared/ddb"
)

// Client is the part of the DynamoDB API the store uses.
type Client interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Timings of a dedupe record.
const (
	// Lease is how long a claim blocks other deliveries of the same event.
	// It exceeds the function timeout and is shorter than the queue's
	// visibility timeout, so a redelivery after a crash finds it lapsed.
	Lease = 2 * time.Minute
	// Retention is how long a record is kept: longer than a message can
	// live in the queue and the dead-letter queue together.
	Retention = 35 * 24 * time.Hour
)

// Sending is the status of a claimed record; Finish sets app.Sent or
// app.Rejected.
const Sending = "SENDING"

// Store is the notifications table.
type Store struct {
	db    Client
	table string
}

// New returns a store on the named table.
func New(db Client, table string) *Store { return &Store{db: db, table: table} }

type record struct {
	PK             string `dynamodbav:"PK"`
	Status         string `dynamodbav:"status"`
	Owner          string `dynamodbav:"owner"`
	LeaseExpiresAt int64  `dynamodbav:"leaseExpiresAt"`
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
	MessageID      string `dynamodbav:"messageId,omitempty"`
	Detail         string `dynamodbav:"detail,omitempty"`
}

func key(eventID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "EVENT#" + eventID}}
}

// Claim takes the event for owner (one delivery attempt). It returns
// app.ErrDone if the event was already sent or rejected, app.ErrBusy if
// another delivery holds an unexpired lease.
func (s *Store) Claim(ctx context.Context, eventID, owner string, now time.Time) error {
	item, err := attributevalue.MarshalMap(record{
		PK: "EVENT#" + eventID, Status: Sending, Owner: owner,
		LeaseExpiresAt: now.Add(Lease).Unix(), ExpiresAt: now.Add(Retention).Unix(),
	})
	// SENT and REJECTED are final; only a lapsed SENDING lease may be taken over.
	free := expression.AttributeNotExists(expression.Name("PK")).Or(
		expression.Name("status").Equal(expression.Value(Sending)).
			And(expression.Name("leaseExpiresAt").LessThanEqual(expression.Value(now.Unix()))),
	)
	var expr expression.Expression
	if err == nil {
		expr, err = expression.NewBuilder().WithCondition(free).Build()
	}
	if err == nil {
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: &s.table, Item: item,
			ConditionExpression:                 expr.Condition(),
			ExpressionAttributeNames:            expr.Names(),
			ExpressionAttributeValues:           expr.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
	}
	ccf, failed := ddb.ConditionFailure(err)
	switch {
	case err == nil:
		return nil
	case failed:
		var existing record
		if err := attributevalue.UnmarshalMap(ccf.Item, &existing); err != nil {
			return fmt.Errorf("claim %s: %w", eventID, err)
		}
		switch {
		case existing.Owner == owner && existing.Status == Sending:
			return nil // our own claim: the SDK retried a put whose answer was lost
		case existing.Status == Sending:
			return app.ErrBusy
		default:
			return app.ErrDone
		}
	default:
		return fmt.Errorf("claim %s: %w", eventID, err)
	}
}

// Finish records the outcome (app.Sent or app.Rejected) of owner's delivery.
func (s *Store) Finish(ctx context.Context, eventID, owner, status, messageID, detail string) error {
	outcome := expression.Set(expression.Name("status"), expression.Value(status)).
		Set(expression.Name("messageId"), expression.Value(messageID)).
		Set(expression.Name("detail"), expression.Value(detail)).
		Remove(expression.Name("leaseExpiresAt"))
	expr, err := expression.NewBuilder().
		WithUpdate(outcome).
		WithCondition(expression.Name("owner").Equal(expression.Value(owner))).
		Build()
	if err == nil {
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 &s.table,
			Key:                       key(eventID),
			UpdateExpression:          expr.Update(),
			ConditionExpression:       expr.Condition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		})
	}
	if err != nil {
		return fmt.Errorf("finish %s: %w", eventID, err)
	}
	return nil
}

// Release gives up owner's claim after a send that certainly did not
// happen, so the next delivery can claim the event at once.
func (s *Store) Release(ctx context.Context, eventID, owner string) error {
	ours := expression.Name("owner").Equal(expression.Value(owner)).
		And(expression.Name("status").Equal(expression.Value(Sending)))
	expr, err := expression.NewBuilder().WithCondition(ours).Build()
	if err == nil {
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                 &s.table,
			Key:                       key(eventID),
			ConditionExpression:       expr.Condition(),
			ExpressionAttributeNames:  expr.Names(),
			ExpressionAttributeValues: expr.Values(),
		})
	}
	if _, failed := ddb.ConditionFailure(err); err != nil && !failed {
		return fmt.Errorf("release %s: %w", eventID, err)
	}
	return nil
}
