package order_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
)

func TestOrderEvent(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	at := time.Date(2025, 3, 2, 13, 30, 0, 0, paris)
	tests := []struct {
		name      string
		status    order.Status
		eventType string
	}{
		{"created", order.Pending, events.OrderCreated},
		{"cancelled", order.Cancelled, events.OrderCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sampleOrder(tt.status)
			// Times in another zone come out in UTC.
			o.CreatedAt = o.CreatedAt.In(paris)
			o.UpdatedAt = o.UpdatedAt.In(paris)

			got := o.Event(tt.eventType, "01JNQ70000000000000000EVNT", "corr-123456", at)

			want := events.OrderEvent{
				Header: events.Header{
					Type:          tt.eventType,
					Version:       events.Version,
					ID:            "01JNQ70000000000000000EVNT",
					OccurredAt:    time.Date(2025, 3, 2, 12, 30, 0, 0, time.UTC),
					CorrelationID: "corr-123456",
				},
				Order: events.Order{
					ID:     "01JNQ6Z5V2G7W4X9K3M8P0R1ST",
					Status: string(tt.status),
					Items: []events.Line{
						{SKU: "A", Name: "Alpha", Quantity: 2, UnitPrice: 500, LineTotal: 1000},
						{SKU: "B", Name: "Beta", Quantity: 1, UnitPrice: 250, LineTotal: 250},
					},
					Total:     1250,
					Currency:  "USD",
					CreatedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
					UpdatedAt: time.Date(2025, 3, 1, 10, 1, 0, 0, time.UTC),
				},
				Customer: events.Customer{ID: "user-1", Email: "ada@example.com", Name: "Ada"},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Event() =\n%+v\nwant\n%+v", got, want)
			}
			for name, ts := range map[string]time.Time{"occurredAt": got.OccurredAt, "createdAt": got.Order.CreatedAt, "updatedAt": got.Order.UpdatedAt} {
				if ts.Location() != time.UTC {
					t.Errorf("%s is in %v, want UTC", name, ts.Location())
				}
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
			// What the relay sends is what consumers parse.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := events.ParseOrder(b)
			if err != nil {
				t.Fatalf("Parse(marshalled event) = %v", err)
			}
			if !reflect.DeepEqual(parsed, got) {
				t.Errorf("Parse(Marshal(ev)) =\n%+v\nwant\n%+v", parsed, got)
			}
		})
	}
}

// TestOrderEventCopiesLines checks that the event does not share its lines
// with the order, so changing one cannot change the other.
func TestOrderEventCopiesLines(t *testing.T) {
	o := sampleOrder(order.Pending)
	ev := o.Event(events.OrderCreated, "ev-1", "corr-1", time.Now())
	o.Lines[0].Quantity = 99
	if ev.Order.Items[0].Quantity != 2 {
		t.Errorf("event line changed with the order: %+v", ev.Order.Items[0])
	}
}

// TestPricedOrderEventValidates checks that an order priced by Price and
// cancelled by Cancel yields events the consumers accept.
func TestPricedOrderEventValidates(t *testing.T) {
	now := time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC)
	req := items(order.MaxLines)
	cat := map[string]order.Product{}
	for i, it := range req {
		req[i].Quantity = order.MaxQuantity
		cat[it.SKU] = order.Product{SKU: it.SKU, Name: it.SKU, UnitPrice: 99999, Currency: "USD", Active: true}
	}
	lines, total, currency, err := order.Price(req, cat)
	if err != nil {
		t.Fatal(err)
	}
	o := order.Order{ID: "01JNQ6Z5V2G7W4X9K3M8P0R1ST", Customer: order.Customer{ID: "u", Email: "u@example.com"},
		Status: order.Pending, Lines: lines, Total: total, Currency: currency, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := o.Event(events.OrderCreated, "ev-1", "corr-1", now).Validate(); err != nil {
		t.Errorf("created event: %v", err)
	}
	c, err := o.Cancel(now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Event(events.OrderCancelled, "ev-2", "corr-2", now.Add(time.Hour)).Validate(); err != nil {
		t.Errorf("cancelled event: %v", err)
	}
}
