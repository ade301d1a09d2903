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

// Idempotency timings.
const (
	// IdempotencyTTL is how long a key and its response are remembered.
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

type idempotencyRecord struct {
	PK             string `dynamodbav:"PK"`
	SK             string `dynamodbav:"SK"`
	Status         string `dynamodbav:"status"`
	RequestHash    string `dynamodbav:"requestHash"`
	Owner          string `dynamodbav:"owner"`
	LeaseExpiresAt int64  `dynamodbav:"leaseExpiresAt"`
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
	ResponseStatus int    `dynamodbav:"responseStatus,omitempty"`
	ResponseBody   string `dynamodbav:"responseBody,omitempty"`
	OrderID        string `dynamodbav:"orderId,omitempty"`
}

// Claim identifies a request holding an idempotency key.
type Claim struct {
	CustomerID  string
	Key         string
	RequestHash string
	Owner       string // unique per request attempt
}

// Completion is the response to remember for a claimed key.
type Completion struct {
	Claim
	Status  int
	Body    []byte
	OrderID string
}

// Replay is a remembered response.
type Replay struct {
	Status  int
	Body    []byte
	OrderID string
}

// ClaimKey claims an idempotency key for a request, scoped to the customer.
// It returns a Replay when the key already completed with the same request,
// order.ErrIdempotencyReuse when it was used with a different request, and
// order.ErrIdempotencyBusy while another request holds it. One conditional
// write; the existing record comes back with the failed condition.
func (s *Store) ClaimKey(ctx context.Context, c Claim, now time.Time) (*Replay, error) {
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
		// Free, expired (TTL deletion lags), or in flight with a lapsed lease.
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
	case existing.Status == statusCompleted:
		return &Replay{Status: existing.ResponseStatus, Body: []byte(existing.ResponseBody), OrderID: existing.OrderID}, nil
	default:
		return nil, order.ErrIdempotencyBusy
	}
}

// ReleaseKey gives up a claim whose request failed before storing anything,
// so that a corrected retry with the same key can run. Only the claim's
// owner can release it.
func (s *Store) ReleaseKey(ctx context.Context, c Claim) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(c.CustomerID), idempotencySK(c.Key)),
		ConditionExpression:      aws.String("#owner = :owner AND #status = :inflight"),
		ExpressionAttributeNames: map[string]string{"#owner": "owner", "#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":owner":    &types.AttributeValueMemberS{Value: c.Owner},
			":inflight": &types.AttributeValueMemberS{Value: statusInFlight},
		},
	})
	if err != nil && !isConditionFailure(err) {
		return wrap("release idempotency key", err)
	}
	return nil
}

// completeUpdate is the transaction item that stores the response of a
// claimed key, on condition that the claim is still ours.
func (s *Store) completeUpdate(customerID string, c Completion) (*types.Update, error) {
	return &types.Update{
		TableName:                &s.table,
		Key:                      ddb.Key(customerPK(customerID), idempotencySK(c.Key)),
		UpdateExpression:         aws.String("SET #status = :completed, responseStatus = :code, responseBody = :body, orderId = :order REMOVE leaseExpiresAt"),
		ConditionExpression:      aws.String("#owner = :owner AND #status = :inflight"),
		ExpressionAttributeNames: map[string]string{"#status": "status", "#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":completed": &types.AttributeValueMemberS{Value: statusCompleted},
			":inflight":  &types.AttributeValueMemberS{Value: statusInFlight},
			":code":      &types.AttributeValueMemberN{Value: strconv.Itoa(c.Status)},
			":body":      &types.AttributeValueMemberS{Value: string(c.Body)},
			":order":     &types.AttributeValueMemberS{Value: c.OrderID},
			":owner":     &types.AttributeValueMemberS{Value: c.Owner},
		},
	}, nil
}
