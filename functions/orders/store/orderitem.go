package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/outbox"
)

// SKPrefix begins the sort key of every order item (ORDER#<orderId>).
const SKPrefix = "ORDER#"

// FilterPattern is the orders relay's event source mapping filter
// (functions/orders/ordersrelay): the writes of order items, inserts
// (placed) and modifications (changed, such as cancelled). template.yaml
// carries it; a test checks they agree.
const FilterPattern = `{"eventName":["INSERT","MODIFY"],"dynamodb":{"Keys":{"SK":{"S":[{"prefix":"` + SKPrefix + `"}]}}}}`

// Item is an order as stored, with the event its last write announced:
// every write of an order item is a change of the order with an event, so
// the stream record of the write is the event, and no outbox item of its
// own has to be written in the same transaction.
type Item struct {
	PK            string       `dynamodbav:"PK"`
	SK            string       `dynamodbav:"SK"`
	ID            string       `dynamodbav:"id"`
	CustomerID    string       `dynamodbav:"customerId"`
	CustomerEmail string       `dynamodbav:"customerEmail"`
	CustomerName  string       `dynamodbav:"customerName"`
	Status        string       `dynamodbav:"status"`
	Lines         []order.Line `dynamodbav:"lines"` // under the field names, as the first version wrote them
	Total         int64        `dynamodbav:"total"`
	Currency      string       `dynamodbav:"currency"`
	CreatedAt     time.Time    `dynamodbav:"createdAt"`
	UpdatedAt     time.Time    `dynamodbav:"updatedAt"` // when the event occurred
	Version       int64        `dynamodbav:"version"`
	// The event of the write that made the item what it is. Items written
	// before events rode on them have none (their event was an outbox
	// item of its own).
	EventID       string `dynamodbav:"eventId,omitempty"`
	EventType     string `dynamodbav:"eventType,omitempty"`
	CorrelationID string `dynamodbav:"correlationId,omitempty"`
	// StockTaken says the order took its lines' stock when it was placed,
	// so that its cancel gives the units back. Orders placed before stock
	// existed took none, and give none back.
	StockTaken bool `dynamodbav:"stockTaken,omitempty"`
	// The order's life cycle: every status it entered, oldest first (none
	// on orders placed before it was kept), its shipment once shipped,
	// and who cancelled it and why when the shop did.
	History     []order.Change  `dynamodbav:"history,omitempty"`
	Shipment    *order.Shipment `dynamodbav:"shipment,omitempty"`
	CancelledBy string          `dynamodbav:"cancelledBy,omitempty"`
	Reason      string          `dynamodbav:"reason,omitempty"`
	// The order's place on its status's queue (IndexByStatus, queues.go);
	// none on orders not written since the index came.
	Queue   string `dynamodbav:"queue,omitempty"`
	QueueAt string `dynamodbav:"queueAt,omitempty"`
}

// Attribute names an update of an order item sets besides the status.
const (
	AttrStatus        = "status"
	AttrUpdatedAt     = "updatedAt"
	AttrVersion       = "version"
	AttrEventID       = "eventId"
	AttrEventType     = "eventType"
	AttrCorrelationID = "correlationId"
	AttrHistory       = "history"
	AttrShipment      = "shipment"
	AttrCancelledBy   = "cancelledBy"
	AttrReason        = "reason"
)

// Event is the event the item announces, in the shape the event schema
// (shared/events) gives the queue's consumers. It occurred when the item
// was last updated.
func (it Item) Event() shared.OrderEvent {
	items := make([]shared.Line, len(it.Lines))
	for i, l := range it.Lines {
		items[i] = shared.Line(l)
	}
	// Each change's time is the clock of the function that made it: one
	// running behind the one before can write a time before the last
	// change's, which the event would be refused for. Such a change is
	// told as happening with the one before.
	var history []shared.StatusChange
	for i, h := range it.History {
		at := h.At.UTC()
		if i > 0 && at.Before(history[i-1].At) {
			at = history[i-1].At
		}
		history = append(history, shared.StatusChange{Status: string(h.Status), At: at})
	}
	return shared.OrderEvent{
		Header: shared.Header{
			Type:          it.EventType,
			Version:       shared.Version,
			ID:            it.EventID,
			OccurredAt:    it.UpdatedAt.UTC(),
			CorrelationID: it.CorrelationID,
		},
		Order: shared.Order{
			ID: it.ID, Status: it.Status, Items: items, Total: it.Total, Currency: it.Currency,
			CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC(),
			Shipment: (*shared.Shipment)(it.Shipment), History: history,
		},
		Customer:    shared.Customer{ID: it.CustomerID, Email: it.CustomerEmail, Name: it.CustomerName},
		CancelledBy: it.CancelledBy, Reason: it.Reason,
	}
}

// FromStream reads the event a stream record of an order item announces,
// as the relay sends it (an outbox.Reader): the event's id, type and
// correlation id, the order as its message group (an order's events in
// order), and the event as the body. ok is false for records that are not
// writes of order items, and for order items written before events rode on
// them. An order item that cannot be decoded is an error.
func FromStream(rec events.DynamoDBEventRecord) (m outbox.Message, ok bool, err error) {
	img := rec.Change.NewImage
	sk := img["SK"] // none: the zero value, not a string
	_, announced := img[AttrEventID]
	if op := events.DynamoDBOperationType(rec.EventName); op != events.DynamoDBOperationTypeInsert && op != events.DynamoDBOperationTypeModify ||
		sk.DataType() != events.DataTypeString || !strings.HasPrefix(sk.String(), SKPrefix) || !announced {
		return outbox.Message{}, false, nil
	}
	var it Item
	if err := attributevalue.UnmarshalMap(ddb.FromStreamImage(img), &it); err != nil {
		return outbox.Message{}, false, fmt.Errorf("order item: %w", err)
	}
	if it.EventID == "" || it.EventType == "" || it.ID == "" {
		return outbox.Message{}, false, fmt.Errorf("order item %s lacks its id, or its event's id or type", it.SK)
	}
	// Not validated here: the consumer does, and moves an event it cannot
	// take to its dead-letter queue with the reason.
	ev := it.Event()
	payload, _ := json.Marshal(ev) // an event of plain fields always marshals
	return outbox.Message{EventID: ev.ID, EventType: ev.Type, Group: it.ID, CorrelationID: ev.CorrelationID, Body: string(payload)}, true, nil
}
