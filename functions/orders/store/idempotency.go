package store

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
)

// Idempotency timings.
const (
	// IdempotencyTTL is how long a key and its order are remembered.
	IdempotencyTTL = 24 * time.Hour
	// IdempotencyLease is how long a request holds its key while in flight.
	// It exceeds the function timeout, so a live request never loses it; a
	// request that died leaves a lease that a retry may take over once it
	// lapses (its transaction never ran, so nothing was stored).
	IdempotencyLease = 60 * time.Second
)

const (
	statusInFlight  = "IN_PROGRESS"
	statusCompleted = "COMPLETED"
)

// idempotencyRecord is a claimed key as stored. A completed key holds the
// order as it was placed, so a replay answers what the first request did.
type idempotencyRecord struct {
	PK             string       `dynamodbav:"PK"`
	SK             string       `dynamodbav:"SK"`
	Status         string       `dynamodbav:"status"`
	RequestHash    string       `dynamodbav:"requestHash"`
	Owner          string       `dynamodbav:"owner"`
	LeaseExpiresAt int64        `dynamodbav:"leaseExpiresAt"`
	ExpiresAt      int64        `dynamodbav:"expiresAt"`
	Order          *orderRecord `dynamodbav:"order,omitempty"`
	OrderID        string       `dynamodbav:"orderId,omitempty"`
}

// ClaimKey claims an idempotency key for a request, scoped to the customer.
// It returns the order placed by an earlier request when the key already
// completed with the same request, order.ErrIdempotencyReuse when it was
// used with a different request, and order.ErrIdempotencyBusy while another
// request holds it. One conditional write; the existing record comes back
// with the failed condition.
func (s *Store) ClaimKey(ctx context.Context, c order.Claim, now time.Time) (*order.Order, error) {
	item, err := attributevalue.MarshalMap(idempotencyRecord{
		PK: customerPK(c.CustomerID), SK: idempotencySK(c.Key), Status: statusInFlight,
		RequestHash: c.RequestHash, Owner: c.Owner,
		LeaseExpiresAt: now.Add(IdempotencyLease).Unix(), ExpiresAt: now.Add(IdempotencyTTL).Unix(),
	})
	if err != nil {
		return nil, wrap("claim idempotency key", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		// Free, expired (TTL deletion lags), or in flight with a lapsed
		// lease. A literal: with three alternatives the builder's nested
		// Or/And calls and placeholders read worse than the condition.
		ConditionExpression:      aws.String("attribute_not_exists(PK) OR expiresAt <= :now OR (#status = :inflight AND leaseExpiresAt <= :now)"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":      &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
			":inflight": &types.AttributeValueMemberS{Value: statusInFlight},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, nil
	}
	ccf, ok := ddb.ConditionFailure(err)
	if !ok {
		return nil, wrap("claim idempotency key", err)
	}
	var existing idempotencyRecord
	if err := attributevalue.UnmarshalMap(ccf.Item, &existing); err != nil {
		return nil, wrap("claim idempotency key", err)
	}
	switch {
	case existing.Owner == c.Owner:
		// Our own claim: the SDK retried a put whose answer was lost.
		return nil, nil
	case existing.RequestHash != c.RequestHash:
		return nil, order.ErrIdempotencyReuse
	case existing.Status != statusCompleted:
		return nil, order.ErrIdempotencyBusy
	case existing.Order != nil:
		o := existing.Order.order()
		return &o, nil
	default:
		// Completed by the first version, which kept the rendered
		// response instead of the order: read the order it names.
		o, err := s.Order(ctx, c.CustomerID, existing.OrderID)
		if err != nil {
			return nil, wrap("replay idempotency key", err)
		}
		return &o, nil
	}
}

// ReleaseKey gives up a claim whose request failed before storing anything,
// so that a corrected retry with the same key can run. Only the claim's
// owner can release it.
func (s *Store) ReleaseKey(ctx context.Context, c order.Claim) error {
	cond, err := expression.NewBuilder().WithCondition(ownClaim(c)).Build()
	if err != nil {
		return wrap("release idempotency key", err)
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(c.CustomerID), idempotencySK(c.Key)),
		ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
	})
	// Not applied means the claim is no longer ours to release: done, or
	// taken over after it expired. Either way there is nothing to undo.
	if _, err := ddb.Applied(err); err != nil {
		return wrap("release idempotency key", err)
	}
	return nil
}

// ownClaim holds while the key is still in flight under this claim.
func ownClaim(c order.Claim) expression.ConditionBuilder {
	return expression.Name("owner").Equal(expression.Value(c.Owner)).
		And(expression.Name("status").Equal(expression.Value(statusInFlight)))
}

// completeUpdate is the transaction item that completes a claimed key with
// the order placed, on condition that the claim is still ours.
func (s *Store) completeUpdate(c order.Claim, placed orderRecord) (*types.Update, error) {
	update := expression.Set(expression.Name("status"), expression.Value(statusCompleted)).
		Set(expression.Name("order"), expression.Value(placed)).
		Set(expression.Name("orderId"), expression.Value(placed.ID)).
		Remove(expression.Name("leaseExpiresAt"))
	expr, err := expression.NewBuilder().WithCondition(ownClaim(c)).WithUpdate(update).Build()
	if err != nil {
		return nil, err
	}
	return &types.Update{
		TableName:                 &s.table,
		Key:                       ddb.Key(customerPK(c.CustomerID), idempotencySK(c.Key)),
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}, nil
}
