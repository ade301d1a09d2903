package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
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
		EventID: ev.ID, EventType: eventType, CorrelationID: ev.CorrelationID, StockTaken: true,
		History: o.History, Shipment: o.Shipment, CancelledBy: o.CancelledBy, Reason: o.Reason,
		Queue: QueueOf(o.ID, o.Status), QueueAt: order.QueuePosition(o),
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
		History: it.History, Shipment: it.Shipment, CancelledBy: it.CancelledBy, Reason: it.Reason,
	}
}

// CreateOrder writes a new order announcing its order.created event (ev)
// and its owner item (staff's way to it), in one transaction that also
// counts the order against the customer's
// quota, takes each line's units from one shard of its product's stock,
// chosen at random (takeWrites, stockplan.go) and, when key is not nil,
// records the key as having placed the order. Either all of it is stored
// or none of it; the table's stream then carries the event to the relay.
// When the key already placed an order for the same request, nothing is
// stored and that order comes back (read with one more call). With the
// stock split over shards, a take refused by its shard (short, or another
// transaction on it) makes the order read every shard of its SKUs once,
// consistently, and try again from the shards that hold the units (ADR 9):
// it is out of stock only when that read shows a line's total short, and
// busy (a retry.MaxAttemptsError: 503) after maxTakeAttempts.
// Errors: order.ErrIdempotencyReuse (the key served another request),
// order.ErrIdempotencyBusy (a concurrent request with the key),
// quota.Refused(o.CreatedAt) (the window is full; a replay takes
// precedence, as it places nothing), order.OutOfStock's naming every
// short line (after the replay and the quota).
func (s *Store) CreateOrder(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	stored := orderItem(o, events.OrderCreated, ev)
	item, _ := attributevalue.MarshalMap(stored) // plain fields: it cannot fail
	owner, _ := OwnerItem(stored)
	const orderItem, quotaItem, keyItem = 0, 1, 2
	fixed := []types.TransactWriteItem{
		// A literal: "this key is new" reads plainer than the builder's #0.
		orderItem: {Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		quotaItem: {Update: s.quotaCount(o.Customer.ID, quota, o.CreatedAt)},
	}
	if key != nil {
		fixed = append(fixed, types.TransactWriteItem{Put: s.keyPut(*key, o.ID, now)})
	}
	fixed = append(fixed, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: owner}})
	takes := firstTakes(o.Lines, s.shards, rand.IntN)
	for attempt := 1; ; attempt++ {
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: slices.Concat(fixed, s.takeWrites(takes))})
		reasons, ok := ddb.CancellationReasons(err)
		if !ok {
			if err != nil {
				return nil, wrap("create order", err)
			}
			return nil, nil
		}
		switch {
		case key != nil && ddb.ConditionFailedAt(reasons, keyItem):
			return s.replayOf(ctx, *key, reasons[keyItem].Item)
		case key != nil && conflictAt(reasons, keyItem):
			// Another transaction with the key is under way.
			return nil, order.ErrIdempotencyBusy
		case ddb.ConditionFailedAt(reasons, quotaItem):
			return nil, quota.Refused(o.CreatedAt)
		}
		takeReasons := reasons[min(len(fixed), len(reasons)):]
		if s.shards == 1 {
			// One item per SKU: its stock as it was is the answer.
			if short := shortLines(takeReasons); len(short) > 0 {
				return nil, order.OutOfStock(short)
			}
			return nil, wrap("create order", err)
		}
		if !takeRefused(takeReasons) {
			return nil, wrap("create order", err)
		}
		if attempt == maxTakeAttempts {
			// Buyers kept taking the units this one planned on: busy
			// (503 with Retry-After), never out of stock while units remain.
			return nil, wrap("create order", &retry.MaxAttemptsError{Attempt: attempt, Err: err})
		}
		// A shard was short (or another order was taking from it): read
		// every shard of the order's SKUs once, consistently, and take
		// from the shards that hold the units; out of stock only when the
		// read shows a line's total short (ADR 9, the last units).
		skus := make([]string, len(o.Lines))
		for i, l := range o.Lines {
			skus[i] = l.SKU
		}
		stock, err := s.shardStock(ctx, skus...)
		if err != nil {
			return nil, err
		}
		var short []order.Short
		if takes, short = planTakes(o.Lines, stock, rand.IntN); len(short) > 0 {
			return nil, order.OutOfStock(short)
		}
		if len(fixed)+len(takes) > maxTransactItems {
			// Lines split over more shards than a transaction holds: a
			// retry later finds the stock as staff spread it again.
			return nil, wrap("create order", &retry.MaxAttemptsError{Attempt: attempt, Err: errTooManyTakes})
		}
	}
}

// maxTakeAttempts bounds an order's transactions when its shards run short
// under concurrent buyers: each refused attempt means another order took
// units (or was taking them) meanwhile.
const maxTakeAttempts = 8

// maxTransactItems is TransactWriteItems' limit of items.
const maxTransactItems = 100

var errTooManyTakes = errors.New("the order's lines split over more shards than a transaction holds")

// takeRefused reports whether a take of a cancelled transaction failed its
// condition or met another transaction on its shard: what a read of the
// shards and another plan can cure.
func takeRefused(reasons []types.CancellationReason) bool {
	return slices.ContainsFunc(reasons, func(r types.CancellationReason) bool {
		return slices.Contains([]string{"ConditionalCheckFailed", "TransactionConflict"}, aws.ToString(r.Code))
	})
}

// conflictAt reports whether item i of a cancelled transaction met
// another transaction.
func conflictAt(reasons []types.CancellationReason, i int) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == "TransactionConflict"
}

// quotaCount is the transaction item that counts one order of the customer
// in the quota's window holding now, on condition that it has room. The
// item (CUSTOMER#<id> / QUOTA#<window start>) expires with its window.
func (s *Store) quotaCount(customerID string, q order.Quota, now time.Time) *types.Update {
	start := q.WindowStart(now)
	expr, _ := expression.NewBuilder().
		WithUpdate(expression.Add(expression.Name("orders"), expression.Value(1)).
			Set(expression.Name("expiresAt"), expression.Value(start.Add(q.Window).Unix()))).
		WithCondition(expression.AttributeNotExists(expression.Name("orders")).
			Or(expression.Name("orders").LessThan(expression.Value(q.Max)))).
		Build() // constant names and plain values: it cannot fail
	return ddb.Update(s.table, ddb.Key(customerPK(customerID), "QUOTA#"+strconv.FormatInt(start.Unix(), 10)), expr)
}

// takeWrites are the transaction items that take each take's units from
// its shard of the product's stock, on condition that it holds as many: a
// missing shard holds none. A shard that is short comes back as it was.
func (s *Store) takeWrites(takes []take) []types.TransactWriteItem {
	writes := make([]types.TransactWriteItem, len(takes))
	for i, t := range takes {
		units := expression.Name("units")
		u := s.shardUpdate(t.SKU, t.Shard, expression.NewBuilder().WithUpdate(expression.Set(units, units.Minus(expression.Value(t.Units)))).
			WithCondition(units.GreaterThanEqual(expression.Value(t.Units))))
		u.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		writes[i] = types.TransactWriteItem{Update: u}
	}
	return writes
}

// shortLines are the lines whose stock take failed its condition, given
// the cancellation reasons of the takes, in line order.
func shortLines(reasons []types.CancellationReason) []order.Short {
	var short []order.Short
	for i := range reasons {
		if ddb.ConditionFailedAt(reasons, i) {
			var r stockRecord
			_ = attributevalue.UnmarshalMap(reasons[i].Item, &r) // no item: 0 left
			short = append(short, order.Short{Line: i, Left: r.Units})
		}
	}
	return short
}

// Order returns the customer's order, or order.ErrNotFound. Another
// customer's order is not found: the key includes the customer.
func (s *Store) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	it, err := s.orderAt(ctx, ddb.Key(customerPK(customerID), orderSK(id)))
	return orderOf(it), err
}

// orderAt reads the order item at key, consistently, or answers
// order.ErrNotFound.
func (s *Store) orderAt(ctx context.Context, key map[string]types.AttributeValue) (Item, error) {
	return get[Item](ctx, s, "get order", key, order.ErrNotFound)
}

// Orders returns up to limit orders of the customer, newest first, starting
// after the order id after (empty: from the newest). next is the id to pass
// as after for the following page, empty on the last page. One Query, which
// reads one order more than it returns so that a full last page is known to
// be the last.
func (s *Store) Orders(ctx context.Context, customerID string, limit int, after string) (list []order.Order, next string, err error) {
	in := &dynamodb.QueryInput{ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit + 1))}
	if after != "" {
		in.ExclusiveStartKey = ddb.Key(customerPK(customerID), orderSK(after))
	}
	items, _, err := s.query(ctx, in, expression.Key("PK").Equal(expression.Value(customerPK(customerID))).
		And(expression.Key("SK").BeginsWith(SKPrefix)))
	if err != nil {
		return nil, "", wrap("list orders", err)
	}
	if len(items) > limit {
		next = items[limit-1].ID
	}
	list = make([]order.Order, min(limit, len(items)))
	for i := range list {
		list[i] = orderOf(items[i])
	}
	return list, next, nil
}

// query runs in, a Query of order items, on the table and the key
// condition, and decodes its items; more reports that it stopped before
// the condition's last item.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, key expression.KeyConditionBuilder) (items []Item, more bool, err error) {
	expr, _ := expression.NewBuilder().WithKeyCondition(key).Build() // a complete condition: it cannot fail
	in.TableName, in.KeyConditionExpression = &s.table, expr.KeyCondition()
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = expr.Names(), expr.Values()
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, err
	}
	err = attributevalue.UnmarshalListOfMaps(out.Items, &items)
	return items, out.LastEvaluatedKey != nil, err
}

// CancelOrder cancels the customer's order at the time at, announcing its
// order.cancelled event (ev), gives its lines' units back to their stock,
// and returns the cancelled order. It reads the order (its lines), then
// writes one transaction (cancelTx): the order's update compiled from
// order.Cancel (the statuses it starts from are the condition, its status
// the update) and a stock ADD per line, so that of concurrent cancels
// exactly one takes effect and the stock comes back once. The SDK's retry
// of a cancel whose answer was lost finds the order cancelled with its own
// event: the transaction is refused, so nothing is given back twice, and
// the cancel is answered. (No client request token: DynamoDB would answer
// a retry after a conflict with the first attempt's cancellation.)
// Errors: order.ErrNotFound (no such order of the customer),
// order.ErrNotCancellable (its status does not allow it, also when a
// concurrent cancel won).
func (s *Store) CancelOrder(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	t, key := order.Cancel(), ddb.Key(customerPK(customerID), orderSK(id))
	return onConflict(func() (order.Order, error) {
		it, err := s.orderAt(ctx, key)
		if err != nil {
			return order.Order{}, err
		}
		if !t.Allows(order.Status(it.Status)) {
			return decide(t, it, ev) // refused, or this very cancel applied, its answer lost
		}
		cancelled, _ := t.Apply(orderOf(it), at)
		lines := it.Lines
		if !it.StockTaken {
			lines = nil // placed before stock existed: nothing to give back
		}
		return s.cancelTx(ctx, key, t, transitionExpr(id, t, at, ev), lines, ev, &cancelled)
	})
}
