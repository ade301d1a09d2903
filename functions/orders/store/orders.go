package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"

	"github.com/serverless-shop/backend/shared/ddb"
)

// OutboxTTL is how long an outbox item stays in the table after it is
// written: far longer than the relay ever lags, short enough to stay small.
const OutboxTTL = 7 * 24 * time.Hour

type orderRecord struct {
	PK            string       `dynamodbav:"PK"`
	SK            string       `dynamodbav:"SK"`
	ID            string       `dynamodbav:"id"`
	CustomerID    string       `dynamodbav:"customerId"`
	CustomerEmail string       `dynamodbav:"customerEmail"`
	CustomerName  string       `dynamodbav:"customerName"`
	Status        string       `dynamodbav:"status"`
	Lines         []order.Line `dynamodbav:"lines"`
	Total         int64        `dynamodbav:"total"`
	Currency      string       `dynamodbav:"currency"`
	CreatedAt     time.Time    `dynamodbav:"createdAt"`
	UpdatedAt     time.Time    `dynamodbav:"updatedAt"`
	Version       int64        `dynamodbav:"version"`
}

func newOrderRecord(o order.Order) orderRecord {
	return orderRecord{
		PK: customerPK(o.Customer.ID), SK: orderSK(o.ID), ID: o.ID,
		CustomerID: o.Customer.ID, CustomerEmail: o.Customer.Email, CustomerName: o.Customer.Name,
		Status: string(o.Status), Lines: o.Lines, Total: o.Total, Currency: o.Currency,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), Version: o.Version,
	}
}

func (r orderRecord) order() order.Order {
	return order.Order{
		ID: r.ID, Customer: order.Customer{ID: r.CustomerID, Email: r.CustomerEmail, Name: r.CustomerName},
		Status: order.Status(r.Status), Lines: r.Lines, Total: r.Total, Currency: r.Currency,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version,
	}
}

// outboxRecord is an event waiting to be relayed to the queue.
type outboxRecord struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	EventID       string `dynamodbav:"eventId"`
	EventType     string `dynamodbav:"eventType"`
	OrderID       string `dynamodbav:"orderId"`
	CorrelationID string `dynamodbav:"correlationId"`
	Payload       string `dynamodbav:"payload"`
	ExpiresAt     int64  `dynamodbav:"expiresAt"`
}

func outboxPut(table string, ev events.OrderEvent) (*types.Put, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	item, err := attributevalue.MarshalMap(outboxRecord{
		PK: outboxPK(ev.ID), SK: skEvent, EventID: ev.ID, EventType: ev.Type, OrderID: ev.Order.ID,
		CorrelationID: ev.CorrelationID, Payload: string(payload), ExpiresAt: ev.OccurredAt.Add(OutboxTTL).Unix(),
	})
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: &table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}, nil
}

// CreateOrder writes a new order and its order.created event in one
// transaction, and, when completion is not nil, completes the idempotency
// record with the response in the same transaction. Either all of it is
// stored or none of it.
func (s *Store) CreateOrder(ctx context.Context, o order.Order, ev events.OrderEvent, completion *Completion) error {
	item, err := attributevalue.MarshalMap(newOrderRecord(o))
	if err != nil {
		return wrap("create order", err)
	}
	outbox, err := outboxPut(s.table, ev)
	if err != nil {
		return wrap("create order", err)
	}
	writes := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: outbox},
	}
	if completion != nil {
		u, err := s.completeUpdate(o.Customer.ID, *completion)
		if err != nil {
			return wrap("create order", err)
		}
		writes = append(writes, types.TransactWriteItem{Update: u})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if reasons, ok := ddb.CancellationReasons(err); ok && completion != nil && ddb.ConditionFailedAt(reasons, 2) {
		return order.ErrIdempotencyBusy // our claim on the key lapsed and was taken over
	}
	if err != nil {
		return wrap("create order", err)
	}
	return nil
}

// Order returns the customer's order, or order.ErrNotFound. Another
// customer's order is not found: the key includes the customer.
func (s *Store) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(customerID), orderSK(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return order.Order{}, wrap("get order", err)
	}
	if out.Item == nil {
		return order.Order{}, order.ErrNotFound
	}
	var r orderRecord
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return order.Order{}, wrap("get order", err)
	}
	return r.order(), nil
}

// Orders returns up to limit orders of the customer, newest first, starting
// after the order id after (empty: from the newest). next is the id to pass
// as after for the following page, empty on the last page. One Query, which
// reads one order more than it returns so that a full last page is known to
// be the last.
func (s *Store) Orders(ctx context.Context, customerID string, limit int, after string) (list []order.Order, next string, err error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: customerPK(customerID)},
			":prefix": &types.AttributeValueMemberS{Value: orderPrefix},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(limit + 1)),
	}
	if after != "" {
		in.ExclusiveStartKey = ddb.Key(customerPK(customerID), orderSK(after))
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", wrap("list orders", err)
	}
	items := out.Items
	if len(items) > limit {
		items = items[:limit]
	}
	list = make([]order.Order, 0, len(items))
	for _, item := range items {
		var r orderRecord
		if err := attributevalue.UnmarshalMap(item, &r); err != nil {
			return nil, "", wrap("list orders", err)
		}
		list = append(list, r.order())
	}
	if len(out.Items) > limit {
		next = list[len(list)-1].ID
	}
	return list, next, nil
}

// UpdateOrder replaces prev by next if prev is still what is stored (same
// version), and writes ev with it in one transaction. Returns
// order.ErrConcurrentWrite if the order changed since prev was read.
func (s *Store) UpdateOrder(ctx context.Context, prev, next order.Order, ev events.OrderEvent) error {
	item, err := attributevalue.MarshalMap(newOrderRecord(next))
	if err != nil {
		return wrap("update order", err)
	}
	cond, err := expression.NewBuilder().WithCondition(
		expression.Name("version").Equal(expression.Value(prev.Version)),
	).Build()
	if err != nil {
		return wrap("update order", err)
	}
	outbox, err := outboxPut(s.table, ev)
	if err != nil {
		return wrap("update order", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: &s.table, Item: item, ConditionExpression: cond.Condition(),
				ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
			}},
			{Put: outbox},
		},
	})
	if reasons, ok := ddb.CancellationReasons(err); ok && ddb.ConditionFailedAt(reasons, 0) {
		return order.ErrConcurrentWrite
	}
	if err != nil {
		return wrap("update order", err)
	}
	return nil
}
