package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/principal"
)

func reorderReq(id string, headers map[string]string) req {
	h := map[string]string{"X-Request-Id": testCorrID}
	for k, v := range headers {
		h[k] = v
	}
	return req{route: "POST /v1/orders/{id}/reorder", path: map[string]string{"id": id}, headers: h, caller: &ada}
}

// seedOrder stores an order of p with the given lines, priced as they were
// when it was placed, and returns its id.
func seedOrder(h *harness, p principal.Principal, status order.Status, lines ...order.Line) string {
	o := order.Order{
		ID: h.newID(), Customer: order.Customer{ID: p.UserID, Email: p.Email, Name: p.Name}, Status: status,
		Lines: lines, Currency: "USD", CreatedAt: testNow.Add(-30 * 24 * time.Hour), UpdatedAt: testNow,
	}
	for _, l := range lines {
		o.Total += l.LineTotal
	}
	h.mem.put(o)
	return o.ID
}

func TestReorder(t *testing.T) {
	h := newHarness(t)
	// Placed a month ago at older prices, then cancelled.
	earlier := seedOrder(h, ada, order.Cancelled,
		order.Line{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1100, LineTotal: 2200},
		order.Line{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 800, LineTotal: 800})
	before, _ := h.mem.stored(ada.UserID, earlier)

	resp := h.do(t, reorderReq(earlier, nil))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
	got := decode[orderJSON](t, resp)
	now := testNow.Truncate(time.Millisecond)
	want := orderJSON{
		ID: got.ID, Status: order.Pending,
		Items: []lineJSON{ // today's prices
			{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1290, LineTotal: 2580},
			{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 850, LineTotal: 850},
		},
		Total: 3430, Currency: "USD", CreatedAt: now, UpdatedAt: now,
	}
	if got.ID == earlier || !reflect.DeepEqual(got, want) {
		t.Errorf("body =\n%+v\nwant a new order\n%+v", got, want)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/orders/"+got.ID {
		t.Errorf("Location = %q, want /v1/orders/%s", loc, got.ID)
	}
	if after, _ := h.mem.stored(ada.UserID, earlier); !reflect.DeepEqual(after, before) {
		t.Errorf("the earlier order changed: %+v", after)
	}
	evs := h.mem.events()
	if len(evs) != 1 || evs[0].Type != events.OrderCreated || evs[0].Order.ID != got.ID || evs[0].CorrelationID != testCorrID {
		t.Fatalf("events = %+v, want one order.created of the new order", evs)
	}
}

func TestReorderIdempotentReplay(t *testing.T) {
	h := newHarness(t)
	earlier := seedOrders(h, ada, 1, order.Shipped)[0]
	key := map[string]string{idemHeader: "reorder-1"}

	first := h.do(t, reorderReq(earlier, key))
	replay := h.do(t, reorderReq(earlier, key))
	if first.StatusCode != http.StatusCreated || replay.StatusCode != http.StatusCreated {
		t.Fatalf("statuses %d, %d; want 201, 201", first.StatusCode, replay.StatusCode)
	}
	if replay.Body != first.Body || replay.Header.Get(HeaderReplayed) != "true" || first.Header.Get(HeaderReplayed) != "" {
		t.Errorf("replay = %s (replayed %q), want the first answer %s marked replayed", replay.Body, replay.Header.Get(HeaderReplayed), first.Body)
	}
	if n := len(h.mem.events()); n != 1 {
		t.Errorf("events = %d, want 1", n)
	}
	// The key now stands for those items: other items under it are refused.
	other := createReq(`{"items":[{"sku":"BRW-V60-02","quantity":1}]}`, key)
	wantProblem(t, h.do(t, other), http.StatusUnprocessableEntity, "idempotency-key-reused")
}

func TestReorderNotFound(t *testing.T) {
	h := newHarness(t)
	theirs := seedOrders(h, grace, 1, order.Pending)[0]
	for _, id := range []string{"not-an-order", strings.ToLower(theirs), "01JNQ00000000000000000000Z", theirs} {
		wantProblem(t, h.do(t, reorderReq(id, map[string]string{idemHeader: "k"})), http.StatusNotFound, "not-found")
	}
	if n := len(h.mem.events()); n != 0 || len(h.mem.creates) != 0 {
		t.Errorf("events %d, CreateOrder calls %d; want none", n, len(h.mem.creates))
	}
}

func TestReorderOfARetiredProduct(t *testing.T) {
	h := newHarness(t)
	earlier := seedOrder(h, ada, order.Shipped,
		order.Line{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290},
		order.Line{SKU: "MUG-OLD", Name: "Old mug", Quantity: 1, UnitPrice: 1500, LineTotal: 1500})

	p := wantProblem(t, h.do(t, reorderReq(earlier, map[string]string{idemHeader: "k-retired"})), http.StatusUnprocessableEntity, "unknown-product")
	if fields := p.Fields(); !reflect.DeepEqual(fields, []string{"items[1].sku"}) {
		t.Errorf("fields = %v, want [items[1].sku]", fields)
	}
	if n := len(h.mem.events()); n != 0 {
		t.Errorf("events = %d, want 0", n)
	}
	// Nothing was placed, so the key is still free for a corrected request
	// (it was looked up, in case it had placed this request before).
	if len(h.mem.creates) != 0 || h.mem.keyReads != 1 {
		t.Errorf("CreateOrder calls %d, key reads %d; want none and one", len(h.mem.creates), h.mem.keyReads)
	}
	if resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: "k-retired"})); resp.StatusCode != http.StatusCreated {
		t.Errorf("corrected request with the key: %d %s", resp.StatusCode, resp.Body)
	}
}
