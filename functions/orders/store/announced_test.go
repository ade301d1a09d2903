package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/events"
)

// TestAnnouncedEventsValidate: the largest order Price accepts, stored,
// placed and cancelled, announces events the consumers accept, carrying
// the order as stored and the event's id and correlation id.
func TestAnnouncedEventsValidate(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	req := make([]order.ItemRequest, order.MaxLines)
	cat := map[string]order.Product{}
	for i := range req {
		sku := fmt.Sprintf("SKU-%03d", i)
		req[i] = order.ItemRequest{SKU: sku, Quantity: order.MaxQuantity}
		cat[sku] = order.Product{SKU: sku, Name: sku, UnitPrice: 99999, Currency: "USD", Active: true}
	}
	lines, total, currency, err := order.Price(req, cat)
	if err != nil {
		t.Fatal(err)
	}
	o := order.Order{ID: "01JNQ6Z5V2G7W4X9K3M8P0R1ST", Customer: order.Customer{ID: "u", Email: "u@example.com", Name: "U"},
		Status: order.Pending, Lines: lines, Total: total, Currency: currency, CreatedAt: now, UpdatedAt: now}
	created := store.Announced(o, events.OrderCreated, order.EventRef{ID: "ev-1", CorrelationID: "corr-1"})
	if err := created.Validate(); err != nil {
		t.Errorf("created event: %v", err)
	}
	if created.ID != "ev-1" || created.CorrelationID != "corr-1" || created.Order.Total != total || len(created.Order.Items) != order.MaxLines ||
		created.Customer.Email != "u@example.com" || !created.OccurredAt.Equal(now) {
		t.Errorf("created event = %+v", created.Header)
	}
	c, err := order.Cancel().Apply(o, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	cancelled := store.Announced(c, events.OrderCancelled, order.EventRef{ID: "ev-2", CorrelationID: "corr-2"})
	if err := cancelled.Validate(); err != nil {
		t.Errorf("cancelled event: %v", err)
	}
	if cancelled.Type != events.OrderCancelled || cancelled.Order.Status != string(order.Cancelled) || !cancelled.OccurredAt.Equal(now.Add(time.Hour)) {
		t.Errorf("cancelled event = %+v, order %+v", cancelled.Header, cancelled.Order)
	}
}

// TestAnnouncedHistoryNeverGoesBack: a change written by a function whose
// clock runs behind the one before's is told as happening with it, so the
// event is not refused for a history out of order.
func TestAnnouncedHistoryNeverGoesBack(t *testing.T) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	o := order.Order{ID: "01JNQ6Z5V2G7W4X9K3M8P0R1ST", Customer: order.Customer{ID: "u", Email: "u@example.com", Name: "U"},
		Status: order.Pending, Lines: []order.Line{{SKU: "SKU-1", Name: "One", Quantity: 1, UnitPrice: 100, LineTotal: 100}},
		Total: 100, Currency: "USD", CreatedAt: at, UpdatedAt: at, History: []order.Change{{Status: order.Pending, At: at}}}
	o, err := order.Confirm().Apply(o, at.Add(-40*time.Millisecond)) // a clock 40 ms behind
	if err != nil {
		t.Fatal(err)
	}
	ev := store.Announced(o, events.OrderConfirmed, order.EventRef{ID: "ev-1", CorrelationID: "corr-1"})
	if err := ev.Validate(); err != nil {
		t.Fatalf("confirmed event: %v", err)
	}
	if h := ev.Order.History; len(h) != 2 || !h[1].At.Equal(at) || h[1].Status != string(order.Confirmed) {
		t.Errorf("history %+v, want the confirmation at %v", h, at)
	}
}
