package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
)

// IdempotencyTTL is how long a key and the order it placed are remembered.
const IdempotencyTTL = 24 * time.Hour

const (
	// statusInFlight marks a key claimed by a request of an earlier
	// version, which claimed keys before placing the order. This version
	// writes the key with the order, in its transaction; it still honours
	// such a claim until its lease lapses.
	statusInFlight  = "IN_PROGRESS"
	statusCompleted = "COMPLETED"
)

// idempotencyRecord is a used key as stored: the request it served (its
// hash) and the order it placed. Records of earlier versions hold the
// order itself (Order) or a claim in flight (Owner, LeaseExpiresAt).
type idempotencyRecord struct {
	PK             string `dynamodbav:"PK"`
	SK             string `dynamodbav:"SK"`
	Status         string `dynamodbav:"status"`
	RequestHash    string `dynamodbav:"requestHash"`
	OrderID        string `dynamodbav:"orderId,omitempty"`
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
	Owner          string `dynamodbav:"owner,omitempty"`
	LeaseExpiresAt int64  `dynamodbav:"leaseExpiresAt,omitempty"`
	Order          *Item  `dynamodbav:"order,omitempty"`
}

// keyFree is the condition under which a key may be written: never used,
// expired (TTL deletion lags), or claimed in flight by an earlier version
// with a lapsed lease. A literal: with three alternatives the builder's
// nested Or/And calls and placeholders read worse than the condition.
const keyFree = "attribute_not_exists(PK) OR expiresAt <= :now OR (#status = :inflight AND leaseExpiresAt <= :now)"

func keyFreeValues(now time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":now":      &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		":inflight": &types.AttributeValueMemberS{Value: statusInFlight},
	}
}

// keyPut is the transaction item that records the key as having placed
// orderID, on condition that it is free. A failed condition returns the
// record that holds the key.
func (s *Store) keyPut(k order.Claim, orderID string, now time.Time) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(idempotencyRecord{
		PK: customerPK(k.CustomerID), SK: idempotencySK(k.Key), Status: statusCompleted,
		RequestHash: k.RequestHash, OrderID: orderID, ExpiresAt: now.Add(IdempotencyTTL).Unix(),
	})
	if err != nil {
		return nil, err
	}
	return &types.Put{
		TableName: &s.table, Item: item,
		ConditionExpression:                 aws.String(keyFree),
		ExpressionAttributeNames:            map[string]string{"#status": "status"},
		ExpressionAttributeValues:           keyFreeValues(now),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, nil
}

// KeyedOrder returns the order placed with an idempotency key, nil when the
// key is free, order.ErrIdempotencyReuse when it served another request and
// order.ErrIdempotencyBusy while an earlier version's request holds it.
// One consistent GetItem (and one more for a record that names its order).
func (s *Store) KeyedOrder(ctx context.Context, k order.Claim, now time.Time) (*order.Order, error) {
	rec, found, err := ddb.Get[idempotencyRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(k.CustomerID), idempotencySK(k.Key)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, wrap("read idempotency key", err)
	}
	if !found || rec.ExpiresAt <= now.Unix() || (rec.Status == statusInFlight && rec.LeaseExpiresAt <= now.Unix()) {
		return nil, nil
	}
	return s.replay(ctx, k, rec)
}

// replayOf answers a key whose write failed its condition, from the record
// that holds it.
func (s *Store) replayOf(ctx context.Context, k order.Claim, item map[string]types.AttributeValue) (*order.Order, error) {
	var rec idempotencyRecord
	if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
		return nil, wrap("replay idempotency key", err)
	}
	return s.replay(ctx, k, rec)
}

func (s *Store) replay(ctx context.Context, k order.Claim, rec idempotencyRecord) (*order.Order, error) {
	switch {
	case rec.RequestHash != k.RequestHash:
		return nil, order.ErrIdempotencyReuse
	case rec.Status != statusCompleted:
		return nil, order.ErrIdempotencyBusy
	case rec.Order != nil:
		// Completed by a version that kept the order in the record.
		o := orderOf(*rec.Order)
		return &o, nil
	default:
		// The order as it was placed, whatever happened to it since: the
		// replay repeats the first answer.
		o, err := s.Order(ctx, k.CustomerID, rec.OrderID)
		if err != nil {
			return nil, wrap("replay idempotency key", err)
		}
		o = o.AsPlaced()
		return &o, nil
	}
}
