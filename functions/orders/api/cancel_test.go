package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
)

func cancelReq(id string) req {
	return req{route: "POST /v1/orders/{id}/cancel", path: map[string]string{"id": id},
		headers: map[string]string{"X-Request-Id": testCorrID}, caller: &ada}
}

func TestCancelOrder(t *testing.T) {
	tests := []struct {
		name       string
		status     order.Status
		wantStatus int
	}{
		{"pending", order.Pending, http.StatusOK},
		{"confirmed", order.Confirmed, http.StatusOK},
		{"shipped", order.Shipped, http.StatusConflict},
		{"cancelled", order.Cancelled, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			id := seedOrders(h, ada, 1, tt.status)[0]
			before, _ := h.mem.stored(ada.UserID, id)
			resp := h.do(t, cancelReq(id))
			after, _ := h.mem.stored(ada.UserID, id)

			if tt.wantStatus == http.StatusConflict {
				wantProblem(t, resp, http.StatusConflict, "order-not-cancellable")
				if !reflect.DeepEqual(after, before) {
					t.Errorf("order changed: %+v", after)
				}
				if n := len(h.mem.events()); n != 0 {
					t.Errorf("events = %d, want 0", n)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			now := testNow.Truncate(time.Millisecond)
			want := before
			want.Status, want.UpdatedAt = order.Cancelled, now
			if !reflect.DeepEqual(after, want) {
				t.Errorf("stored =\n%+v\nwant\n%+v", after, want)
			}
			if got := decode[orderJSON](t, resp); !reflect.DeepEqual(got, orderView(want)) {
				t.Errorf("body = %+v, want %+v", got, orderView(want))
			}
			evs := h.mem.events()
			if len(evs) != 1 {
				t.Fatalf("events = %d, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Type != events.OrderCancelled || ev.Order.ID != id || ev.Order.Status != string(order.Cancelled) ||
				ev.CorrelationID != testCorrID || ev.Customer.ID != ada.UserID || ev.ID == "" || ev.ID == id {
				t.Errorf("event = %+v", ev)
			}
			if !ev.OccurredAt.Equal(now) || !ev.Order.UpdatedAt.Equal(now) {
				t.Errorf("event times = %v / %v, want %v", ev.OccurredAt, ev.Order.UpdatedAt, now)
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("event does not validate: %v", err)
			}
		})
	}
}

func TestCancelOrderNotFound(t *testing.T) {
	h := newHarness(t)
	theirs := seedOrders(h, grace, 1, order.Pending)[0]
	tests := []struct {
		name string
		id   string
	}{
		{"malformed", "not-an-order"},
		{"lower case", strings.ToLower(theirs)},
		{"unknown", "01JNQ00000000000000000000Z"},
		{"another customer's", theirs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, h.do(t, cancelReq(tt.id)), http.StatusNotFound, "not-found")
		})
	}
	if stored, _ := h.mem.stored(grace.UserID, theirs); stored.Status != order.Pending {
		t.Errorf("another customer's order changed: %+v", stored)
	}
	if n := len(h.mem.events()); n != 0 {
		t.Errorf("events = %d, want 0", n)
	}
}
