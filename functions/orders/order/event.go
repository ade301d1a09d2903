package order

import (
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

// Event describes a change of o as an event of the given type.
func (o Order) Event(eventType, eventID, correlationID string, at time.Time) events.OrderEvent {
	items := make([]events.Line, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = events.Line(l)
	}
	return events.OrderEvent{
		Type:          eventType,
		Version:       events.Version,
		ID:            eventID,
		OccurredAt:    at.UTC(),
		CorrelationID: correlationID,
		Order: events.Order{
			ID: o.ID, Status: string(o.Status), Items: items, Total: o.Total, Currency: o.Currency,
			CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		},
		Customer: events.Customer{ID: o.Customer.ID, Email: o.Customer.Email, Name: o.Customer.Name},
	}
}
