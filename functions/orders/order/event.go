package order

import (
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

// Change decides the next state of an order and the event announcing it,
// from the order as stored.
type Change func(prev Order) (next Order, ev events.OrderEvent, err error)

// Event describes a change of o as an event of the given type, in the
// shape the event schema (shared/events) gives the queue's consumers.
func (o Order) Event(eventType, eventID, correlationID string, at time.Time) events.OrderEvent {
	items := make([]events.Line, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = events.Line{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return events.OrderEvent{
		Header: events.Header{
			Type:          eventType,
			Version:       events.Version,
			ID:            eventID,
			OccurredAt:    at.UTC(),
			CorrelationID: correlationID,
		},
		Order: events.Order{
			ID: o.ID, Status: string(o.Status), Items: items, Total: o.Total, Currency: o.Currency,
			CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		},
		Customer: events.Customer{ID: o.Customer.ID, Email: o.Customer.Email, Name: o.Customer.Name},
	}
}
