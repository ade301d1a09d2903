package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/outbox"
)

// orderRecord is an order as stored.
type orderRecord struct {
	PK            string       `dynamodbav:"PK"`
	SK            string       `dynamodbav:"SK"`
	ID            string       `dynamodbav:"id"`
	CustomerID    string       `dynamodbav:"customerId"`
	CustomerEmail string       `dynamodbav:"customerEmail"`
	CustomerName  string       `dynamodbav:"customerName"`
	Status        string       `dynamodbav:"status"`
	Lines         []lineRecord `dynamodbav:"lines"`
	Total         int64        `dynamodbav:"total"`
	Currency      string       `dynamodbav:"currency"`
	CreatedAt     time.Time    `dynamodbav:"createdAt"`
	UpdatedAt     time.Time    `dynamodbav:"updatedAt"`
	Version       int64        `dynamodbav:"version"`
}

// lineRecord is a line as stored. Its attribute names are the ones the
// first version wrote (Go field names), kept so stored orders stay readable.
type lineRecord struct {
	SKU       string `dynamodbav:"SKU"`
	Name      string `dynamodbav:"Name"`
	Quantity  int    `dynamodbav:"Quantity"`
	UnitPrice int64  `dynamodbav:"UnitPrice"`
	LineTotal int64  `dynamodbav:"LineTotal"`
}

func newOrderRecord(o order.Order) orderRecord {
	lines := make([]lineRecord, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = lineRecord{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return orderRecord{
		PK: customerPK(o.Customer.ID), SK: orderSK(o.ID), ID: o.ID,
		CustomerID: o.Customer.ID, CustomerEmail: o.Customer.Email, CustomerName: o.Customer.Name,
		Status: string(o.Status), Lines: lines, Total: o.Total, Currency: o.Currency,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), Version: o.Version,
	}
}

func (r orderRecord) order() order.Order {
	lines := make([]order.Line, len(r.Lines))
	for i, l := range r.Lines {
		lines[i] = order.Line{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return order.Order{
		ID: r.ID, Customer: order.Customer{ID: r.CustomerID, Email: r.CustomerEmail, Name: r.CustomerName},
		Status: order.Status(r.Status), Lines: lines, Total: r.Total, Currency: r.Currency,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version,
	}
}

// outboxPut is the transaction item that writes ev to the outbox.
func (s *Store) outboxPut(ev events.OrderEvent) (*types.Put, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return outbox.Put(s.table, outbox.Record{
		EventID: ev.ID, EventType: ev.Type, Group: ev.Order.ID, // one order's events in order
		CorrelationID: ev.CorrelationID, Payload: string(payload), OccurredAt: ev.OccurredAt,
	})
}

// CreateOrder writes a new order and its order.created event in one
// transaction that also counts the order against the customer's quota
// and, when key is not nil, records the key as having placed the order.
// Either all of it is stored or none of it. When the key already placed an
// order for the same request, nothing is stored and that order comes back
// (read with one more call unless an earlier version's record holds it).
// Errors: order.ErrIdempotencyReuse (the key served another request),
// order.ErrIdempotencyBusy (a concurrent request with the key, or an
// earlier version's claim in flight), order.QuotaError (the window is
// full; a replay takes precedence, as it places nothing).
func (s *Store) CreateOrder(ctx context.Context, o order.Order, ev events.OrderEvent, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	rec := newOrderRecord(o)
	item, err := attributevalue.MarshalMap(rec)
	if err != nil {
		return nil, wrap("create order", err)
	}
	put, err := s.outboxPut(ev)
	if err != nil {
		return nil, wrap("create order", err)
	}
	count, err := s.quotaCount(o.Customer.ID, quota, o.CreatedAt)
	if err != nil {
		return nil, wrap("create order", err)
	}
	const orderItem, quotaItem, keyItem = 0, 2, 3
	writes := []types.TransactWriteItem{
		// A literal: "this key is new" reads plainer than the builder's #0.
		orderItem: {Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		1:         {Put: put},
		quotaItem: {Update: count},
	}
	if key != nil {
		kp, err := s.keyPut(*key, o.ID, now)
		if err != nil {
			return nil, wrap("create order", err)
		}
		writes = append(writes, types.TransactWriteItem{Put: kp})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if reasons, ok := ddb.CancellationReasons(err); ok {
		switch {
		case key != nil && ddb.ConditionFailedAt(reasons, keyItem):
			return s.replayOf(ctx, *key, reasons[keyItem].Item)
		case key != nil && keyItem < len(reasons) && aws.ToString(reasons[keyItem].Code) == "TransactionConflict":
			// Another transaction with the key is under way.
			return nil, order.ErrIdempotencyBusy
		case ddb.ConditionFailedAt(reasons, quotaItem):
			return nil, quota.Refused(o.CreatedAt)
		}
	}
	if err != nil {
		return nil, wrap("create order", err)
	}
	return nil, nil
}

// quotaCount is the transaction item that counts one order of the customer
// in the quota's window holding now, on condition that it has room. The
// item (CUSTOMER#<id> / QUOTA#<window start>) expires with its window.
func (s *Store) quotaCount(customerID string, q order.Quota, now time.Time) (*types.Update, error) {
	start := q.WindowStart(now)
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name("orders"), expression.Value(1)).
			Set(expression.Name("expiresAt"), expression.Value(start.Add(q.Window).Unix()))).
		WithCondition(expression.AttributeNotExists(expression.Name("orders")).
			Or(expression.Name("orders").LessThan(expression.Value(q.Max)))).
		Build()
	if err != nil {
		return nil, err
	}
	return ddb.Update(s.table, ddb.Key(customerPK(customerID), "QUOTA#"+strconv.FormatInt(start.Unix(), 10)), expr), nil
}

// Order returns the customer's order, or order.ErrNotFound. Another
// customer's order is not found: the key includes the customer.
func (s *Store) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	r, found, err := ddb.Get[orderRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(customerID), orderSK(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return order.Order{}, wrap("get order", err)
	}
	if !found {
		return order.Order{}, order.ErrNotFound
	}
	return r.order(), nil
}

// Orders returns up to limit orders of the customer, newest first, starting
// after the order id after (empty: from the newest). next is the id to pass
// as after for the following page, empty on the last page. One Query, which
// reads one order more than it returns so that a full last page is known to
// be the last.
func (s *Store) Orders(ctx context.Context, customerID string, limit int, after string) (list []order.Order, next string, err error) {
	key, err := expression.NewBuilder().WithKeyCondition(
		expression.Key("PK").Equal(expression.Value(customerPK(customerID))).
			And(expression.Key("SK").BeginsWith(orderPrefix)),
	).Build()
	if err != nil {
		return nil, "", wrap("list orders", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    key.KeyCondition(),
		ExpressionAttributeNames:  key.Names(),
		ExpressionAttributeValues: key.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
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

// maxUpdateAttempts bounds the read-decide-write rounds of an update that
// keeps losing to concurrent writers.
const maxUpdateAttempts = 3

// UpdateOrder applies change to the customer's order with optimistic
// concurrency: read, decide, and write the next order with its event in one
// transaction on condition that the version is unchanged. When another
// write got in between, it decides again on the fresh order, up to
// maxUpdateAttempts times, then answers order.ErrConcurrentWrite. Errors of
// change (say, order.ErrNotCancellable) come back as they are.
func (s *Store) UpdateOrder(ctx context.Context, customerID, id string, change order.Change) (order.Order, error) {
	for attempt := 1; ; attempt++ {
		prev, err := s.Order(ctx, customerID, id)
		if err != nil {
			return order.Order{}, err
		}
		next, ev, err := change(prev)
		if err != nil {
			return order.Order{}, err
		}
		err = s.replace(ctx, prev, next, ev)
		if errors.Is(err, order.ErrConcurrentWrite) && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return order.Order{}, err
		}
		return next, nil
	}
}

// replace writes next over prev if prev is still what is stored (same
// version), with ev, in one transaction.
func (s *Store) replace(ctx context.Context, prev, next order.Order, ev events.OrderEvent) error {
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
	put, err := s.outboxPut(ev)
	if err != nil {
		return wrap("update order", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{
				TableName: &s.table, Item: item, ConditionExpression: cond.Condition(),
				ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values(),
			}},
			{Put: put},
		},
	})
	if reasons, ok := ddb.CancellationReasons(err); ok && ddb.ConditionFailedAt(reasons, 0) {
		return fmt.Errorf("update order %s: %w", next.ID, order.ErrConcurrentWrite)
	}
	if err != nil {
		return wrap("update order", err)
	}
	return nil
}
