package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
)

// testNow is the service's clock; the sub-millisecond part checks that
// stored times are truncated to milliseconds.
var testNow = time.Date(2025, 3, 2, 12, 30, 15, 123456789, time.UTC)

var (
	ada   = order.Customer{ID: "user-ada", Email: "ada@example.com", Name: "Ada Lovelace"}
	grace = order.Customer{ID: "user-grace", Email: "grace@example.com", Name: "Grace Hopper"}
)

// testProducts is apptest.Catalog: TEA-EARL-100 first, then COF-ESP-250.
var testProducts = apptest.Catalog()

// fixture is the service on a store holding testProducts, with ids that
// grow with every call, as ULIDs do, and a clock the test moves.
type fixture struct {
	svc   *app.Service
	store *apptest.Faulty
	ids   int
	later time.Duration
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: apptest.NewFaulty()}
	f.store.PutProducts(testProducts...)
	f.store.PutStock(1000, apptest.SKUs(testProducts)...)
	f.svc = app.New(app.Config{Store: f.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewID: f.newID, Now: func() time.Time { return testNow.Add(f.later) }})
	return f
}

func (f *fixture) newID() string { f.ids++; return fmt.Sprintf("01JNQ%021d", f.ids) }

// seed stores an order of the customer, placed a month ago with the lines
// at the prices of then, and returns its id.
func (f *fixture) seed(c order.Customer, status order.Status, lines ...order.Line) string {
	if lines == nil {
		lines = []order.Line{{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1100, LineTotal: 1100}}
	}
	o := order.Order{ID: f.newID(), Customer: c, Status: status, Lines: lines, Currency: "USD",
		CreatedAt: testNow.Add(-30 * 24 * time.Hour), UpdatedAt: testNow.Add(-time.Hour)}
	for _, l := range lines {
		o.Total += l.LineTotal
	}
	f.store.Put(o)
	return o.ID
}

func (f *fixture) stored(c order.Customer, id string) order.Order {
	o, _ := f.store.MemStore.Order(context.Background(), c.ID, id)
	return o
}

func (f *fixture) place(items []order.ItemRequest, key *string) (app.Placed, error) {
	return f.svc.PlaceOrder(context.Background(), app.PlaceOrder{Customer: ada, EmailVerified: true, Items: items, IdempotencyKey: key, CorrelationID: "corr-1"})
}

func (f *fixture) reorder(id string, key *string) (app.Placed, error) {
	return f.svc.Reorder(context.Background(), id, app.PlaceOrder{Customer: ada, EmailVerified: true, IdempotencyKey: key, CorrelationID: "corr-1"})
}

// placedNothing fails the test when an order or event was stored.
func (f *fixture) placedNothing(t *testing.T) {
	t.Helper()
	if n := len(f.store.Claims()); n != 0 || len(f.store.Events()) != 0 {
		t.Errorf("CreateOrder calls %d, events %v; want nothing stored", n, f.store.Events())
	}
}

func fields(err error) []string {
	var p *problem.Error
	if !errors.As(err, &p) {
		return nil
	}
	var names []string
	for _, fe := range p.Fields {
		names = append(names, fe.Field)
	}
	return names
}

func ptr(s string) *string { return &s }

// wantEvent checks that the store holds one event, the one a change of
// the order announced.
func (f *fixture) wantEvent(t *testing.T, typ string, o order.Order) {
	t.Helper()
	evs := f.store.Events()
	if len(evs) != 1 {
		t.Errorf("events = %+v, want one", evs)
		return
	}
	ev := evs[0]
	if ev.Type != typ || ev.Order.ID != o.ID || ev.Order.Status != string(o.Status) || ev.Order.Total != o.Total ||
		ev.Customer != (events.Customer{ID: o.Customer.ID, Email: o.Customer.Email, Name: o.Customer.Name}) ||
		ev.CorrelationID != "corr-1" || ev.ID == "" || ev.ID == o.ID || !ev.OccurredAt.Equal(o.UpdatedAt) {
		t.Errorf("event = %+v, want %s of %+v", ev, typ, o)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("event does not validate: %v", err)
	}
}

func TestPlaceOrder(t *testing.T) {
	f := newFixture(t)
	placed, err := f.place(orderItems, nil)
	if err != nil || placed.Replayed {
		t.Fatalf("PlaceOrder = %+v, %v", placed, err)
	}
	now := testNow.Truncate(time.Millisecond)
	want := order.Order{
		ID: placed.Order.ID, Customer: ada, Status: order.Pending, Total: 3430, Currency: "USD", CreatedAt: now, UpdatedAt: now,
		History: []order.Change{{Status: order.Pending, At: now}},
		Lines: []order.Line{
			{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1290, LineTotal: 2580},
			{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 850, LineTotal: 850},
		},
	}
	if !order.ValidID(placed.Order.ID) || !reflect.DeepEqual(placed.Order, want) || !reflect.DeepEqual(f.stored(ada, want.ID), want) {
		t.Errorf("placed %+v, stored %+v; want %+v", placed.Order, f.stored(ada, want.ID), want)
	}
	if claims := f.store.Claims(); len(claims) != 1 || claims[0] != nil {
		t.Errorf("CreateOrder keys %v; want one call without a key", claims)
	}
	f.wantEvent(t, events.OrderCreated, want)
}

func TestPlaceOrderRefuses(t *testing.T) {
	tests := []struct {
		name       string
		unverified bool
		items      []order.ItemRequest
		key        *string
		wantKind   problem.Kind
		wantErr    error
		wantFields []string
	}{
		{name: "unverified email, before the items are judged", unverified: true, wantErr: order.ErrEmailUnverified},
		// What is a valid request, and how each is priced, order's tests say.
		{name: "every field error", items: []order.ItemRequest{item("bad", 101), item("COF-ESP-250", 1), item("COF-ESP-250", -1)},
			wantKind: problem.Invalid, wantFields: []string{"items[0].sku", "items[0].quantity", "items[2].sku", "items[2].quantity"}},
		{name: "unknown sku", items: []order.ItemRequest{item("COF-ESP-250", 1), item("NOPE-1", 1)}, wantKind: problem.Unprocessable, wantFields: []string{"items[1].sku"}},
		{name: "key with a space", items: orderItems, key: ptr("two words"), wantKind: problem.Invalid, wantFields: []string{"Idempotency-Key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.svc.PlaceOrder(context.Background(), app.PlaceOrder{Customer: ada, EmailVerified: !tt.unverified, Items: tt.items, IdempotencyKey: tt.key})
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) || tt.wantErr == nil && problem.Of(err, tt.wantKind) == nil {
				t.Fatalf("error %v, want %v or a problem of kind %v", err, tt.wantErr, tt.wantKind)
			}
			if got := fields(err); !reflect.DeepEqual(got, tt.wantFields) {
				t.Errorf("fields %v, want %v", got, tt.wantFields)
			}
			f.placedNothing(t)
		})
	}
}

// TestPlaceOrderIdempotency: a key is claimed for its customer and items,
// and a retry answers the order it placed, marked replayed; what the key
// replays, to whom, and when it is busy or reused, is the store's contract
// (functions/orders/store's conformance tests; that a busy key is passed
// on, api's TestProblems "key busy").
func TestPlaceOrderIdempotency(t *testing.T) {
	f := newFixture(t)
	key := ptr("8e0f8a52-3c3b-4a55-9a8e-0b8f8f2f7c11")
	first, err := f.place(orderItems, key)
	if err != nil {
		t.Fatal(err)
	}
	want := order.Claim{CustomerID: ada.ID, Key: *key, RequestHash: app.RequestHash(orderItems)}
	if claims := f.store.Claims(); len(claims) != 1 || claims[0] == nil || *claims[0] != want {
		t.Errorf("CreateOrder keys %v, want one call with %+v", claims, want)
	}
	replay, err := f.place(orderItems, key)
	if err != nil || !replay.Replayed || !reflect.DeepEqual(replay.Order, first.Order) || len(f.store.Events()) != 1 {
		t.Errorf("replay = %+v, %v, %d events; want the first answer, replayed, and one event", replay, err, len(f.store.Events()))
	}
	if _, err := f.place(orderItems[:1], key); !errors.Is(err, order.ErrIdempotencyReuse) {
		t.Errorf("other items with the key: %v, want ErrIdempotencyReuse", err)
	}
}

// TestPlaceOrderReplaysAfterAProductIsRetired: a retry of a keyed request
// replays the order it placed even when one of its products has since left
// the catalog, which a new request would be refused.
func TestPlaceOrderReplaysAfterAProductIsRetired(t *testing.T) {
	f := newFixture(t)
	first, err := f.place(orderItems, ptr("key-retired-later"))
	if err != nil {
		t.Fatal(err)
	}
	retired := testProducts[0] // TEA-EARL-100
	retired.Active = false
	f.store.PutProducts(retired)
	f.later = app.CatalogFresh // the function reads the catalog again
	if replay, err := f.place(orderItems, ptr("key-retired-later")); err != nil || !replay.Replayed || !reflect.DeepEqual(replay.Order, first.Order) {
		t.Errorf("retry = %+v, %v; want the first answer replayed", replay, err)
	}
	if _, err := f.place(orderItems, nil); problem.Of(err, problem.Unprocessable) == nil {
		t.Errorf("a new request: %v, want unprocessable", err)
	}
}

// TestPlaceOrderKeyStaysFreeOnFailure: a keyed request that stores nothing
// leaves its key free, so a corrected retry places the order.
func TestPlaceOrderKeyStaysFreeOnFailure(t *testing.T) {
	for _, tt := range []struct {
		name   string
		items  []order.ItemRequest
		method string // that fails
	}{
		{"unknown product", []order.ItemRequest{{SKU: "NOPE-1", Quantity: 2}}, ""},
		{"unknown product, key read fails", []order.ItemRequest{{SKU: "NOPE-1", Quantity: 2}}, "KeyedOrder"},
		{"catalog read fails", orderItems, "Products"},
		{"transaction fails", orderItems, "CreateOrder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.store.Fail(tt.method, errors.New("throttled"))
			if _, err := f.place(tt.items, ptr("key-1")); err == nil {
				t.Fatal("no error")
			}
			if n := len(f.store.Events()); n != 0 {
				t.Fatalf("%d events; want nothing stored", n)
			}
			f.store.Fail(tt.method, nil)
			if placed, err := f.place(orderItems, ptr("key-1")); err != nil || placed.Replayed {
				t.Errorf("corrected retry = %+v, %v; want a new order", placed, err)
			}
		})
	}
}

func TestOrderQuota(t *testing.T) {
	f := newFixture(t)
	for i := range order.DefaultOrdersPerHour {
		if _, err := f.place(orderItems, nil); err != nil {
			t.Fatalf("order %d: %v", i+1, err)
		}
	}
	// How the store counts, per customer, is its contract (the stores'
	// conformance testQuota); the service's is the hour.
	_, err := f.place(orderItems, nil)
	if p := problem.Of(err, problem.TooManyRequests); p == nil || p.Slug != "order-quota" ||
		p.RetryAfter != testNow.Truncate(time.Hour).Add(time.Hour).Sub(testNow.Truncate(time.Millisecond)) {
		t.Errorf("over the quota: %v, want order-quota until the hour ends", err)
	}
}

// TestOrderNotFound: ids of no order of Ada's, malformed (the store is
// not asked), unknown, and another customer's, are not found.
func TestOrderNotFound(t *testing.T) {
	f := newFixture(t)
	theirs := f.seed(grace, order.Pending)
	for _, tt := range []struct {
		id    string
		asked bool
	}{
		{"not-an-order", false}, {strings.ToLower(theirs), false}, {theirs[:25], false}, {theirs + "0", false},
		{"ORDER#" + theirs[6:], false}, {"", false}, {"01JNQ00000000000000000000Z", true}, {theirs, true},
	} {
		reads := f.store.Calls("Order")
		if _, err := f.svc.Order(context.Background(), ada.ID, tt.id); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Order(%q): %v, want ErrNotFound", tt.id, err)
		}
		if asked := f.store.Calls("Order") > reads; asked != tt.asked {
			t.Errorf("Order(%q): store asked %v, want %v", tt.id, asked, tt.asked)
		}
		if _, err := f.svc.CancelOrder(context.Background(), ada.ID, tt.id, "corr-1"); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("CancelOrder(%q): %v, want ErrNotFound", tt.id, err)
		}
		if _, err := f.reorder(tt.id, ptr("k")); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Reorder(%q): %v, want ErrNotFound", tt.id, err)
		}
	}
	if got := f.stored(grace, theirs); got.Status != order.Pending {
		t.Errorf("another customer's order changed: %+v", got)
	}
	f.placedNothing(t)
}

// TestCancelOrder: a cancel is the store's one conditional write, with an
// event of its own; from which statuses it succeeds is order.Cancel's rule,
// which the store's conformance tests hold every store to.
func TestCancelOrder(t *testing.T) {
	f := newFixture(t)
	id := f.seed(ada, order.Confirmed)
	want := f.stored(ada, id)
	want.Status, want.UpdatedAt = order.Cancelled, testNow.Truncate(time.Millisecond)
	want.History = append(want.History, order.Change{Status: order.Cancelled, At: want.UpdatedAt})
	if got, err := f.svc.CancelOrder(context.Background(), ada.ID, id, "corr-1"); err != nil || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(f.stored(ada, id), want) {
		t.Fatalf("CancelOrder = %+v, %v, stored %+v; want %+v", got, err, f.stored(ada, id), want)
	}
	f.wantEvent(t, events.OrderCancelled, want)
	if _, err := f.svc.CancelOrder(context.Background(), ada.ID, id, "corr-1"); !errors.Is(err, order.ErrNotCancellable) || len(f.store.Events()) != 1 {
		t.Errorf("cancelling again: %v, %d events; want ErrNotCancellable and nothing written", err, len(f.store.Events()))
	}
}

func TestReorder(t *testing.T) {
	f := newFixture(t)
	// Placed a month ago at older prices, then cancelled.
	earlier := f.seed(ada, order.Cancelled,
		order.Line{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1100, LineTotal: 2200},
		order.Line{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 800, LineTotal: 800})
	before := f.stored(ada, earlier)
	key := ptr("reorder-1")
	placed, err := f.reorder(earlier, key)
	if err != nil || placed.Replayed || placed.Order.ID == earlier || placed.Order.Total != 3430 || placed.Order.Status != order.Pending {
		t.Fatalf("Reorder = %+v, %v; want a new order at today's prices (3430)", placed, err)
	}
	if !reflect.DeepEqual(f.stored(ada, earlier), before) {
		t.Errorf("the earlier order changed: %+v", f.stored(ada, earlier))
	}
	f.wantEvent(t, events.OrderCreated, placed.Order)
	if replay, err := f.reorder(earlier, key); err != nil || !replay.Replayed || !reflect.DeepEqual(replay.Order, placed.Order) {
		t.Errorf("replay = %+v, %v; want the first answer replayed", replay, err)
	}
	// The key now stands for those items.
	if _, err := f.place([]order.ItemRequest{{SKU: "BRW-V60-02", Quantity: 1}}, key); !errors.Is(err, order.ErrIdempotencyReuse) {
		t.Errorf("other items with the key: %v, want ErrIdempotencyReuse", err)
	}
	unverified := app.PlaceOrder{Customer: ada, IdempotencyKey: ptr("k-unverified")}
	if _, err := f.svc.Reorder(context.Background(), earlier, unverified); !errors.Is(err, order.ErrEmailUnverified) {
		t.Errorf("unverified: %v, want ErrEmailUnverified", err)
	}
}

func TestReorderOfARetiredProduct(t *testing.T) {
	f := newFixture(t)
	earlier := f.seed(ada, order.Shipped,
		order.Line{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290},
		order.Line{SKU: "MUG-OLD", Name: "Old mug", Quantity: 1, UnitPrice: 1500, LineTotal: 1500})
	_, err := f.reorder(earlier, ptr("k-retired"))
	if problem.Of(err, problem.Unprocessable) == nil || !reflect.DeepEqual(fields(err), []string{"items[1].sku"}) {
		t.Fatalf("Reorder: %v, want items[1].sku unprocessable", err)
	}
	// Nothing was placed, so the key is still free for a corrected request
	// (it was looked up, in case it had placed this request before).
	f.placedNothing(t)
	if n := f.store.Calls("KeyedOrder"); n != 1 {
		t.Errorf("%d key reads, want 1", n)
	}
	if _, err := f.place(orderItems, ptr("k-retired")); err != nil {
		t.Errorf("corrected request with the key: %v", err)
	}
}

func TestProducts(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		sku   string
		found bool
		reads int // of the catalog so far: a malformed SKU reads nothing, the others the whole catalog once
	}{
		{"lower-case", false, 0}, {"", false, 0}, {strings.Repeat("A", 33), false, 0}, {"COF#PRODUCT", false, 0},
		{"COF-ESP-250", true, 1}, {"NOPE-1", false, 1}, {"MUG-OLD", false, 1},
	} {
		p, _, err := f.svc.Product(context.Background(), tt.sku)
		if tt.found != (err == nil) || !tt.found && !errors.Is(err, order.ErrProductNotFound) || tt.found && p != testProducts[1] {
			t.Errorf("Product(%q) = %+v, %v; found %v", tt.sku, p, err, tt.found)
		}
		if n := f.store.Calls("Products"); n != tt.reads {
			t.Errorf("Product(%q): %d reads of the catalog, want %d", tt.sku, n, tt.reads)
		}
	}
	// The active products, in the store's order (it sorts by SKU).
	st := &catalogStore{MemStore: apptest.NewMemStore(), products: []order.Product{
		{SKU: "Z-1", Active: true}, {SKU: "A-1"}, {SKU: "M-1", Active: true}, {SKU: "B-1", Active: true}}}
	svc := app.New(app.Config{Store: st, Log: slog.New(slog.DiscardHandler)}) // on the system's clock
	list, fresh, err := svc.Products(context.Background())
	var skus []string
	for _, p := range list {
		skus = append(skus, p.SKU)
	}
	if want := []string{"Z-1", "M-1", "B-1"}; err != nil || fresh.Stale || !reflect.DeepEqual(skus, want) {
		t.Errorf("Products = %v, %+v, %v; want %v, fresh", skus, fresh, err, want)
	}
}
