package store

import (
	"cmp"
	"context"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
)

// eventTypes is the event a transition to each status announces.
var eventTypes = map[order.Status]string{
	order.Confirmed: events.OrderConfirmed,
	order.Shipped:   events.OrderShipped,
	order.Delivered: events.OrderDelivered,
	order.Cancelled: events.OrderCancelled,
}

// transitionExpr compiles t of order id, made at the time at and
// announcing ev, into the update and condition of one write of the order
// item: the statuses t starts from are the condition, and the update sets
// its status, appends the change to the history (started on orders placed
// before it was kept), sets what t sets, the event, and the order's place
// on its new status's queue, as t.Apply does to the order.
func transitionExpr(id string, t order.Transition, at time.Time, ev order.EventRef) expression.Expression {
	from := make([]expression.OperandBuilder, len(t.From))
	for i, st := range t.From {
		from[i] = expression.Value(string(st))
	}
	status, history := expression.Name(AttrStatus), expression.Name(AttrHistory)
	update := expression.Set(status, expression.Value(string(t.To))).
		Set(expression.Name(AttrUpdatedAt), expression.Value(at.UTC())).
		Set(expression.Name(AttrVersion), expression.Name(AttrVersion).Plus(expression.Value(1))).
		Set(history, expression.ListAppend(expression.IfNotExists(history, expression.Value([]order.Change{})),
			expression.Value([]order.Change{{Status: t.To, At: at.UTC()}}))).
		Set(expression.Name(AttrEventID), expression.Value(ev.ID)).
		Set(expression.Name(AttrEventType), expression.Value(eventTypes[t.To])).
		Set(expression.Name(AttrCorrelationID), expression.Value(ev.CorrelationID)).
		Set(expression.Name(AttrQueue), expression.Value(QueueOf(id, t.To))).
		Set(expression.Name(AttrQueueAt), expression.Value(order.QueuePositionAt(id, at)))
	if t.Shipment != nil {
		update = update.Set(expression.Name(AttrShipment), expression.Value(*t.Shipment))
	}
	if t.CancelledBy != "" {
		update = update.Set(expression.Name(AttrCancelledBy), expression.Value(t.CancelledBy)).
			Set(expression.Name(AttrReason), expression.Value(t.Reason))
	}
	expr, _ := expression.NewBuilder().WithUpdate(update).
		WithCondition(expression.AttributeExists(expression.Name("PK")).And(status.In(from[0], from[1:]...))).
		Build() // constant names and plain values: it cannot fail
	return expr
}

// refusal decides a transition whose condition failed, given the item as
// it was (nil: no such order), as decide does.
func refusal(t order.Transition, old map[string]types.AttributeValue, ev order.EventRef, op string) (order.Order, error) {
	if len(old) == 0 {
		return order.Order{}, order.ErrNotFound
	}
	var it Item
	if err := attributevalue.UnmarshalMap(old, &it); err != nil {
		return order.Order{}, wrap(op, err)
	}
	return decide(t, it, ev)
}

// decide answers t on an order item whose status t does not move: this
// very transition, applied, its answer lost (the SDK's retry), answers
// the stored order; a Repeatable one that finds the order already where
// it leads answers it unchanged; otherwise t.Refused.
func decide(t order.Transition, it Item, ev order.EventRef) (order.Order, error) {
	o := orderOf(it)
	if ev.ID != "" && it.EventID == ev.ID {
		return o, nil
	}
	if _, err := t.Apply(o, o.UpdatedAt); err != nil || t.Allows(o.Status) {
		// Allowed now but refused then: a concurrent write moved it; the
		// caller's repeat decides again.
		return order.Order{}, cmp.Or(err, t.Refused)
	}
	return o, nil
}

// ownerRecord is the order's owner item (PK ORDER#<id>, SK OWNER), written
// with the order in its transaction, by which staff reach any customer's
// order by its id alone: whose it is (the key of its order item), and what
// a cancel gives back (the lines and stockTaken, which never change after
// the order is placed). An item, not a global secondary index: it is read
// consistently, so an order placed a moment ago is found, and a table
// gains one index at a time on AWS (ByStatus is the one).
type ownerRecord struct {
	PK         string       `dynamodbav:"PK"`
	SK         string       `dynamodbav:"SK"`
	OrderPK    string       `dynamodbav:"orderPk"`
	Lines      []order.Line `dynamodbav:"lines"`
	StockTaken bool         `dynamodbav:"stockTaken"`
}

func ownerPK(id string) string { return "ORDER#" + id }

const skOwner = "OWNER"

// OwnerItem is the owner item of order it (ownerRecord).
func OwnerItem(it Item) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(ownerRecord{PK: ownerPK(it.ID), SK: skOwner, OrderPK: it.PK, Lines: it.Lines, StockTaken: it.StockTaken})
}

// locate reads order id's owner item (one consistent GetItem), or answers
// order.ErrNotFound.
func (s *Store) locate(ctx context.Context, id string) (ownerRecord, error) {
	return get[ownerRecord](ctx, s, "find order", ddb.Key(ownerPK(id), skOwner), order.ErrNotFound)
}

// Transition moves any customer's order id along t at the time at,
// announcing its event ev (order.confirmed, order.shipped,
// order.delivered or order.cancelled), and returns the order: staff's
// transitions. It finds the order by its owner item (one GetItem), then
// makes one write: an UpdateItem conditioned on the statuses t starts
// from, or, when a cancel gives the stock back, one transaction of that
// update and a stock ADD per line (cancelTx, the lines from the owner
// item), so that of concurrent transitions exactly one takes effect and
// the stock comes back once. The SDK's retry of a write whose answer was
// lost finds the order with its own event and answers it; a repeat of a
// Repeatable transition answers the order unchanged, writing nothing.
// Errors: order.ErrNotFound, t.Refused.
func (s *Store) Transition(ctx context.Context, id string, t order.Transition, at time.Time, ev order.EventRef) (order.Order, error) {
	ref, err := s.locate(ctx, id)
	if err != nil {
		return order.Order{}, err
	}
	key, expr := ddb.Key(ref.OrderPK, orderSK(id)), transitionExpr(id, t, at, ev)
	if t.To == order.Cancelled && ref.StockTaken && len(ref.Lines) > 0 {
		return onConflict(func() (order.Order, error) { return s.cancelTx(ctx, key, t, expr, ref.Lines, ev, nil) })
	}
	it, err := updateItem[Item](ctx, s, key, expr)
	if failed, ok := ddb.ConditionFailure(err); ok {
		return refusal(t, failed.Item, ev, "transition order")
	}
	if err != nil {
		return order.Order{}, wrap("transition order", err)
	}
	return orderOf(it), nil
}

// onConflict runs write, and again while its transaction meets another
// one on the order, up to 3 times in all: on AWS a transaction that meets
// a concurrent write of the order (a concurrent cancel) is cancelled as a
// conflict rather than failing its condition, and the next run decides
// again.
func onConflict(write func() (order.Order, error)) (order.Order, error) {
	for attempt := 1; ; attempt++ {
		o, err := write()
		if reasons, ok := ddb.CancellationReasons(err); !ok || attempt == 3 || !conflictAt(reasons, 0) {
			return o, err
		}
	}
}

// cancelTx writes a cancel (t compiled into expr, on the order item at
// key) and gives the lines' units back, in one transaction, and answers
// the cancelled order: cancelled, or when nil, the order read back by one
// more call (a transaction returns no item). Of concurrent cancels one
// gives back; the others fail the condition and are decided by refusal.
func (s *Store) cancelTx(ctx context.Context, key map[string]types.AttributeValue, t order.Transition, expr expression.Expression, lines []order.Line, ev order.EventRef, cancelled *order.Order) (order.Order, error) {
	update := ddb.Update(s.table, key, expr)
	update.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	writes := []types.TransactWriteItem{{Update: update}}
	for _, l := range lines {
		// To a shard of the SKU chosen at random, as orders take.
		writes = append(writes, types.TransactWriteItem{Update: s.shardUpdate(l.SKU, rand.IntN(s.shards), addUnits(l.SKU, int64(l.Quantity)))})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
	if reasons, ok := ddb.CancellationReasons(err); ok && ddb.ConditionFailedAt(reasons, 0) {
		// Refused, or this very cancel applied and its answer lost: the
		// SDK's retry finds it done, with its event on the order.
		return refusal(t, reasons[0].Item, ev, "cancel order")
	}
	switch {
	case err != nil:
		return order.Order{}, wrap("cancel order", err)
	case cancelled != nil:
		return *cancelled, nil
	}
	it, err := s.orderAt(ctx, key)
	return orderOf(it), err
}

// updateItem applies expr to the item at key with one UpdateItem and
// decodes the item as it is after into an R. The error of a failed
// condition holds the item as it was (ddb.ConditionFailure).
func updateItem[R any](ctx context.Context, s *Store, key map[string]types.AttributeValue, expr expression.Expression) (r R, err error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key,
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		err = attributevalue.UnmarshalMap(out.Attributes, &r)
	}
	return r, err
}
