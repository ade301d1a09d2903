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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/shared/ddb"
)

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
	db    *dynamodb.Client
	table string
}

// New returns a store on the named table.
func New(db *dynamodb.Client, table string) *Store { return &Store{db: db, table: table} }

// record is a claimed record, as Claim writes and reads it; Finish's update
// adds messageId and detail, which Claim never reads.
type record struct {
	PK             string `dynamodbav:"PK"`
	Status         string `dynamodbav:"status"`
	Owner          string `dynamodbav:"owner"`
	LeaseExpiresAt int64  `dynamodbav:"leaseExpiresAt"`
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
}

func key(eventID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": str("EVENT#" + eventID)}
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// names are the attributes the expressions name: status and owner are
// reserved words.
var names = map[string]string{"#status": "status", "#owner": "owner"}

// Claim takes the event for owner (one delivery attempt). It returns
// app.ErrDone if the event was already sent or rejected, app.ErrBusy if
// another delivery holds an unexpired lease.
func (s *Store) Claim(ctx context.Context, eventID, owner string, now time.Time) error {
	item, _ := attributevalue.MarshalMap(record{ // strings and numbers: it cannot fail
		PK: "EVENT#" + eventID, Status: Sending, Owner: owner,
		LeaseExpiresAt: now.Add(Lease).Unix(), ExpiresAt: now.Add(Retention).Unix(),
	})
	// SENT and REJECTED are final; only a lapsed SENDING lease may be taken over.
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(PK) OR (#status = :sending AND leaseExpiresAt <= :now)"),
		ExpressionAttributeNames:            map[string]string{"#status": "status"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":sending": str(Sending), ":now": ddb.Unix(now)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	// A failed condition is answered by the record that failed it.
	ccf, failed := ddb.ConditionFailure(err)
	var existing record
	if failed {
		err = attributevalue.UnmarshalMap(ccf.Item, &existing)
	}
	switch {
	case err != nil:
		return fmt.Errorf("claim %s: %w", eventID, err)
	case !failed, existing.Owner == owner && existing.Status == Sending:
		return nil // claimed, or our own claim: the SDK retried a put whose answer was lost
	case existing.Status == Sending:
		return app.ErrBusy
	default:
		return app.ErrDone
	}
}

// Finish records the outcome (app.Sent or app.Rejected) of owner's delivery.
func (s *Store) Finish(ctx context.Context, eventID, owner, status, messageID, detail string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key(eventID),
		UpdateExpression:         aws.String("SET #status = :status, messageId = :messageId, detail = :detail REMOVE leaseExpiresAt"),
		ConditionExpression:      aws.String("#owner = :owner"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(status), ":messageId": str(messageID), ":detail": str(detail), ":owner": str(owner),
		},
	})
	if err != nil {
		return fmt.Errorf("finish %s: %w", eventID, err)
	}
	return nil
}

// Release gives up owner's claim after a send that certainly did not
// happen, so the next delivery can claim the event at once.
func (s *Store) Release(ctx context.Context, eventID, owner string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: key(eventID),
		ConditionExpression:       aws.String("#owner = :owner AND #status = :sending"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(owner), ":sending": str(Sending)},
	})
	if _, failed := ddb.ConditionFailure(err); err != nil && !failed {
		return fmt.Errorf("release %s: %w", eventID, err)
	}
	return nil
}
