package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
)

// IdempotencyTTL is how long a key and the order it placed are remembered.
const IdempotencyTTL = 24 * time.Hour

// statusCompleted is the status of every key record: the key has placed
// its order (the record is written in the order's transaction).
const statusCompleted = "COMPLETED"

// idempotencyRecord is a used key as stored: the request it served (its
// hash) and the order it placed.
type idempotencyRecord struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Status      string `dynamodbav:"status"`
	RequestHash string `dynamodbav:"requestHash"`
	OrderID     string `dynamodbav:"orderId"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"`
}

// keyFree is the condition under which a key may be written: never used,
// or expired (TTL deletion lags).
const keyFree = "attribute_not_exists(PK) OR expiresAt <= :now"

// keyPut is the transaction item that records the key as having placed
// orderID, on condition that it is free. A failed condition returns the
// record that holds the key.
func (s *Store) keyPut(k order.Claim, orderID string, now time.Time) *types.Put {
	item, _ := attributevalue.MarshalMap(idempotencyRecord{
		PK: customerPK(k.CustomerID), SK: idempotencySK(k.Key), Status: statusCompleted,
		RequestHash: k.RequestHash, OrderID: orderID, ExpiresAt: now.Add(IdempotencyTTL).Unix(),
	}) // strings and numbers: it cannot fail
	return &types.Put{
		TableName: &s.table, Item: item,
		ConditionExpression:                 aws.String(keyFree),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": ddb.Unix(now)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// KeyedOrder returns the order placed with an idempotency key, nil when the
// key is free, and order.ErrIdempotencyReuse when it served another
// request. One consistent GetItem, and for a used key one more (its order).
func (s *Store) KeyedOrder(ctx context.Context, k order.Claim, now time.Time) (*order.Order, error) {
	rec, err := get[idempotencyRecord](ctx, s, "read idempotency key", ddb.Key(customerPK(k.CustomerID), idempotencySK(k.Key)), nil)
	if err != nil || rec.ExpiresAt <= now.Unix() { // no record: the zero one, expired
		return nil, err
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
	if rec.RequestHash != k.RequestHash {
		return nil, order.ErrIdempotencyReuse
	}
	// The order as it was placed, whatever happened to it since: the
	// replay repeats the first answer.
	o, err := s.Order(ctx, k.CustomerID, rec.OrderID)
	if err != nil {
		return nil, wrap("replay idempotency key", err)
	}
	o = o.AsPlaced()
	return &o, nil
}
