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
	"github.com/serverless-shop/backend/shared/events"
)

// orderItem is o as stored, announcing the event ev of type eventType
// (orderitem.go). The item's version counts its writes (1, then 2 after a
// cancel) and nothing reads it: the cancel's condition is the order's
// status. It is kept because the released version's cancel adds to it, and
// fails on an item without it.
func orderItem(o order.Order, eventType string, ev order.EventRef) Item {
	return Item{
		PK: customerPK(o.Customer.ID), SK: orderSK(o.ID), ID: o.ID,
		CustomerID: o.Customer.ID, CustomerEmail: o.Customer.Email, CustomerName: o.Customer.Name,
		Status: string(o.Status), Lines: o.Lines, Total: o.Total, Currency: o.Currency,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), Version: 1,
		EventID: ev.ID, EventType: eventType, CorrelationID: ev.CorrelationID,
	}
}

// Announced is the event the relay publishes when o is stored announcing
// ev of type eventType: what the stream record of the write becomes.
func Announced(o order.Order, eventType string, ev order.EventRef) events.OrderEvent {
	return orderItem(o, eventType, ev).Event()
}

// orderOf is the order a stored item holds.
func orderOf(it Item) order.Order {
	return order.Order{
		ID: it.ID, Customer: order.Customer{ID: it.CustomerID, Email: it.CustomerEmail, Name: it.CustomerName},
		Status: order.Status(it.Status), Lines: it.Lines, Total: it.Total, Currency: it.Currency,
		CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC(),
	}
}

// CreateOrder writes a new order announcing its order.created event (ev),
// in one transaction that also counts the order against the customer's
// quota and, when key is not nil, records the key as having placed the
// order. Either all of it is stored or none of it; the table's stream then
// carries the event to the relay. When the key already placed an order for
// the same request, nothing is stored and that order comes back (read with
// one more call).
// Errors: order.ErrIdempotencyReuse (the key served another request),
// order.ErrIdempotencyBusy (a concurrent request with the key),
// quota.Refused(o.CreatedAt) (the window is full; a replay takes
// precedence, as it places nothing).
func (s *Store) CreateOrder(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	item, err := attributevalue.MarshalMap(orderItem(o, events.OrderCreated, ev))
	if err != nil {
		return nil, wrap("create order", err)
	}
	count, err := s.quotaCount(o.Customer.ID, quota, o.CreatedAt)
	if err != nil {
		return nil, wrap("create order", err)
	}
	const orderItem, quotaItem, keyItem = 0, 1, 2
	writes := []types.TransactWriteItem{
		// A literal: "this key is new" reads plainer than the builder's #0.
		orderItem: {Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
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
	r, found, err := ddb.Get[Item](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(customerID), orderSK(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return order.Order{}, wrap("get order", err)
	}
	if !found {
		return order.Order{}, order.ErrNotFound
	}
	return orderOf(r), nil
}

// Orders returns up to limit orders of the customer, newest first, starting
// after the order id after (empty: from the newest). next is the id to pass
// as after for the following page, empty on the last page. One Query, which
// reads one order more than it returns so that a full last page is known to
// be the last.
func (s *Store) Orders(ctx context.Context, customerID string, limit int, after string) (list []order.Order, next string, err error) {
	key, err := expression.NewBuilder().WithKeyCondition(
		expression.Key("PK").Equal(expression.Value(customerPK(customerID))).
			And(expression.Key("SK").BeginsWith(SKPrefix)),
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
	var items []Item
	if err := attributevalue.UnmarshalListOfMaps(out.Items[:min(limit, len(out.Items))], &items); err != nil {
		return nil, "", wrap("list orders", err)
	}
	list = make([]order.Order, len(items))
	for i, it := range items {
		list[i] = orderOf(it)
	}
	if len(out.Items) > limit {
		next = list[limit-1].ID
	}
	return list, next, nil
}

// CancelOrder cancels the customer's order at the time at, announcing its
// order.cancelled event (ev), and returns the cancelled order: one
// conditional UpdateItem compiled from order.Cancel (the statuses it
// starts from are the condition, its status the update), so that of
// concurrent cancels exactly one takes effect. The SDK's retry of a cancel
// whose answer was lost finds the order cancelled with its own event, and
// answers it too.
// Errors: order.ErrNotFound (no such order of the customer),
// order.ErrNotCancellable (its status does not allow it, also when a
// concurrent cancel won).
func (s *Store) CancelOrder(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	t := order.Cancel()
	from := make([]expression.OperandBuilder, len(t.From))
	for i, st := range t.From {
		from[i] = expression.Value(string(st))
	}
	status := expression.Name(AttrStatus)
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(status, expression.Value(string(t.To))).
			Set(expression.Name(AttrUpdatedAt), expression.Value(at.UTC())).
			Set(expression.Name(AttrVersion), expression.Name(AttrVersion).Plus(expression.Value(1))).
			Set(expression.Name(AttrEventID), expression.Value(ev.ID)).
			Set(expression.Name(AttrEventType), expression.Value(events.OrderCancelled)).
			Set(expression.Name(AttrCorrelationID), expression.Value(ev.CorrelationID))).
		WithCondition(expression.AttributeExists(expression.Name("PK")).
			And(status.In(from[0], from[1:]...))).
		Build()
	if err != nil {
		return order.Order{}, wrap("cancel order", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: ddb.Key(customerPK(customerID), orderSK(id)),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var stored map[string]types.AttributeValue
	switch failed, ok := ddb.ConditionFailure(err); {
	case ok && len(failed.Item) == 0:
		return order.Order{}, order.ErrNotFound
	case ok && ev.ID != "" && announces(failed.Item, ev.ID):
		// An UpdateItem has no request token: when the answer to this
		// very cancel was lost, the SDK's retry finds it done, with its
		// event on the order.
		stored = failed.Item
	case ok:
		return order.Order{}, t.Refused
	case err != nil:
		return order.Order{}, wrap("cancel order", err)
	default:
		stored = out.Attributes
	}
	var it Item
	if err := attributevalue.UnmarshalMap(stored, &it); err != nil {
		return order.Order{}, wrap("cancel order", err)
	}
	return orderOf(it), nil
}

// announces reports whether a stored order item carries the event eventID.
func announces(item map[string]types.AttributeValue, eventID string) bool {
	v, ok := item[AttrEventID].(*types.AttributeValueMemberS)
	return ok && v.Value == eventID
}
