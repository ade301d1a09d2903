package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
)

// subject is an orders store under the conformance tests, with what they
// need to look behind it.
type subject struct {
	s app.Store
	// setStatus sets a stored order's status, announcing nothing, as
	// fulfilment does.
	setStatus func(t *testing.T, o order.Order, status order.Status)
	// announced is the event the order's last write announced, zero if
	// none.
	announced func(t *testing.T, o order.Order) events.OrderEvent
}

// testConformance runs the contract of the orders store against the stores
// newStore makes, a new, empty one for each test: the in-memory store in
// unit tests (TestMem), DynamoDB's on the local cloud (TestDynamoDB, with
// the integration tag). So the store the other layers' unit tests use
// cannot drift from the real one, and both apply order.Cancel.
func testConformance(t *testing.T, newStore func(t *testing.T) subject) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s subject)
	}{
		{"Catalog", testCatalog},
		{"StaffCatalog", testStaffCatalog},
		{"StockChanges", testStockChanges},
		{"OrdersTakeStockAndCancelsGiveItBack", testOrderStock},
		{"StockNeverOversells", testStockRace},
		{"CreateAndGet", testCreateAndGet},
		{"QuotaIsCountedWithTheOrder", testQuota},
		{"IdempotencyKeyRaceAndReplay", testIdempotency},
		{"ReplayTakesPrecedenceOverTheQuota", testReplayBeforeQuota},
		{"OrdersPaginateNewestFirst", testPagination},
		{"CancelFromEveryStatus", testCancelFromEveryStatus},
		{"CancelRace", testCancelRace},
		{"TransitionsFromEveryStatus", testTransitions},
		{"ShipRace", testShipRace},
		{"StaffQueuesPageOldestFirst", testStaffQueues},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if !strings.Contains(tc.name, "Catalog") && !strings.Contains(tc.name, "Stock") {
				s.stock(t, "SKU-1", 1_000_000) // newOrder's
			}
			tc.test(t, s)
		})
	}
}

// TestMem runs the conformance tests against the in-memory store.
func TestMem(t *testing.T) {
	testConformance(t, func(*testing.T) subject {
		m := apptest.NewMemStore()
		return subject{
			s: m,
			setStatus: func(t *testing.T, o order.Order, status order.Status) {
				stored, err := m.Order(context.Background(), o.Customer.ID, o.ID)
				if err != nil {
					t.Fatal(err)
				}
				stored.Status = status
				m.Put(stored)
			},
			announced: func(_ *testing.T, o order.Order) events.OrderEvent {
				for _, ev := range slices.Backward(m.Events()) {
					if ev.Order.ID == o.ID {
						return ev
					}
				}
				return events.OrderEvent{}
			},
		}
	})
}

// orderID returns a 26-character id that sorts by i, like the ULIDs the
// service uses.
func orderID(i int) string { return fmt.Sprintf("01ORDER%019d", i) }

func newOrder(customer string, i int, now time.Time) order.Order {
	return order.Order{
		ID: orderID(i), Customer: order.Customer{ID: customer, Email: customer + "@example.com", Name: "C"},
		Status: order.Pending, Lines: []order.Line{{SKU: "SKU-1", Name: "Thing", Quantity: 2, UnitPrice: 150, LineTotal: 300}},
		Total: 300, Currency: "USD", CreatedAt: now, UpdatedAt: now,
	}
}

// ref names an event the order's write announces.
func ref(eventID string) order.EventRef {
	return order.EventRef{ID: eventID, CorrelationID: "corr-" + eventID}
}

func claim(customer, key, hash string) order.Claim {
	return order.Claim{CustomerID: customer, Key: key, RequestHash: hash}
}

// generous is a quota the tests that are not about quotas never reach.
var generous = order.Quota{Max: 1000, Window: time.Hour}

// now is a time the stores keep exactly (milliseconds).
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// create stores a new order without a key.
func (s subject) create(t *testing.T, o order.Order, eventID string) {
	t.Helper()
	if replay, err := s.s.CreateOrder(context.Background(), o, ref(eventID), nil, generous, o.CreatedAt); err != nil || replay != nil {
		t.Fatalf("CreateOrder(%s) = %+v, %v", o.ID, replay, err)
	}
}

// announces reports whether the order's last write announced the event
// eventID of type typ.
func (s subject) announces(t *testing.T, o order.Order, typ, eventID string) bool {
	t.Helper()
	ev := s.announced(t, o)
	return ev.Type == typ && ev.ID == eventID && ev.CorrelationID == "corr-"+eventID
}

// exists reports whether the customer has the order id.
func (s subject) exists(t *testing.T, customerID, id string) bool {
	t.Helper()
	_, err := s.s.Order(context.Background(), customerID, id)
	if err != nil && !errors.Is(err, order.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func testCatalog(t *testing.T, s subject) {
	ctx := context.Background()
	for i := range 30 {
		p := order.Product{SKU: fmt.Sprintf("SKU-%03d", 29-i), Name: "P", UnitPrice: int64(100 + i), Currency: "USD", Active: i%7 != 0}
		if err := s.s.CreateProduct(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.s.Products(ctx)
	if err != nil || len(all) != 30 {
		t.Fatalf("Products = %d, %v", len(all), err)
	}
	if !slices.IsSortedFunc(all, func(a, b order.Product) int { return strings.Compare(a.SKU, b.SKU) }) {
		t.Fatal("products not ordered by SKU")
	}
	if all[5].SKU != "SKU-005" || all[5].UnitPrice != 124 || all[17].UnitPrice != 112 || all[29].Active /* SKU-029, i = 0: discontinued */ {
		t.Fatalf("Products = %+v", all)
	}
}

// testStaffCatalog: a SKU is added once; concurrent changes of different
// fields are all kept; archived products stay, for staff, with a stock of
// 0 until one is set.
func testStaffCatalog(t *testing.T, s subject) {
	ctx := context.Background()
	at := now()
	p := order.Product{SKU: "NEW-1", Name: "New", Description: "D", UnitPrice: 500, Currency: "EUR", Active: true, UpdatedAt: at}
	if err := s.s.CreateProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.s.CreateProduct(ctx, p); !errors.Is(err, order.ErrProductExists) {
		t.Fatalf("second CreateProduct = %v, want ErrProductExists", err)
	}
	name, price, inactive := "Renamed", int64(700), false
	errs := testcloud.Parallel(2, func(i int) error {
		c := order.ProductChange{Name: &name}
		if i == 1 {
			c = order.ProductChange{UnitPrice: &price, Active: &inactive}
		}
		_, err := s.s.UpdateProduct(ctx, "NEW-1", c, at.Add(time.Second))
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	want := order.StaffProduct{Product: order.Product{SKU: "NEW-1", Name: "Renamed", Description: "D", UnitPrice: 700, Currency: "EUR",
		UpdatedAt: at.Add(time.Second)}}
	got, err := s.s.StaffProduct(ctx, "NEW-1")
	if got.Product.Active = false; err != nil || got != want {
		t.Fatalf("StaffProduct = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.s.UpdateProduct(ctx, "NOPE", order.ProductChange{Name: &name}, at); !errors.Is(err, order.ErrProductNotFound) {
		t.Fatalf("UpdateProduct of an unknown SKU = %v", err)
	}
	if _, err := s.s.StaffProduct(ctx, "NOPE"); !errors.Is(err, order.ErrProductNotFound) {
		t.Fatalf("StaffProduct of an unknown SKU = %v", err)
	}
	if all, err := s.s.StaffProducts(ctx); err != nil || len(all) != 1 || all[0].Active || all[0].Stock != 0 {
		t.Fatalf("StaffProducts = %+v, %v", all, err)
	}
}

// stock adds a product of the SKU to the catalog with units in stock.
func (s subject) stock(t *testing.T, sku string, units int64) {
	t.Helper()
	ctx := context.Background()
	if err := s.s.CreateProduct(ctx, order.Product{SKU: sku, Name: "Thing", UnitPrice: 150, Currency: "USD", Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.s.AdjustStock(ctx, sku, units); err != nil {
		t.Fatal(err)
	}
}

// units is the stock of the SKU.
func (s subject) units(t *testing.T, sku string) int64 {
	t.Helper()
	stock, err := s.s.Stock(context.Background(), sku)
	if err != nil {
		t.Fatal(err)
	}
	return stock[sku]
}

// testStockChanges: a delta adds, never below 0; a set applies only on
// the expected stock (0 for a product without a stock item); an unknown
// product has no stock to change.
func testStockChanges(t *testing.T, s subject) {
	ctx := context.Background()
	s.stock(t, "ST-1", 0)
	for _, step := range []struct {
		delta, set, expected *int64
		want                 int64
		err                  error
	}{
		{set: ptr(5), expected: ptr(1), err: order.ErrStockChanged},
		{set: ptr(5), expected: ptr(0), want: 5},
		{delta: ptr(-6), err: order.ErrStockBelowZero},
		{delta: ptr(-5), want: 0},
		{delta: ptr(3), want: 3},
		{set: ptr(9), expected: ptr(0), err: order.ErrStockChanged},
		{set: ptr(0), expected: ptr(3), want: 0},
	} {
		var got int64
		var err error
		if step.delta != nil {
			got, err = s.s.AdjustStock(ctx, "ST-1", *step.delta)
		} else {
			got, err = s.s.SetStock(ctx, "ST-1", *step.set, *step.expected)
		}
		if !errors.Is(err, step.err) || err == nil && got != step.want {
			t.Fatalf("step %+v: %d, %v", step, got, err)
		}
	}
	if _, err := s.s.AdjustStock(ctx, "NOPE", 1); !errors.Is(err, order.ErrProductNotFound) {
		t.Fatalf("AdjustStock of an unknown product: %v", err)
	}
	if _, err := s.s.SetStock(ctx, "NOPE", 1, 0); !errors.Is(err, order.ErrProductNotFound) {
		t.Fatalf("SetStock of an unknown product: %v", err)
	}
	if got, err := s.s.Stock(ctx, "ST-1", "NOPE"); err != nil || got["ST-1"] != 0 || got["NOPE"] != 0 {
		t.Fatalf("Stock = %v, %v", got, err)
	}
}

func ptr(n int64) *int64 { return &n }

// testOrderStock: an order takes its lines' units, all or none, naming
// each short line; a replay takes nothing; a cancel gives them back once,
// also when the SDK retries it.
func testOrderStock(t *testing.T, s subject) {
	ctx := context.Background()
	s.stock(t, "ST-A", 3)
	s.stock(t, "ST-B", 1)
	at := now()
	o := newOrder("cust-st", 1, at)
	o.Lines = []order.Line{{SKU: "ST-A", Name: "A", Quantity: 2, UnitPrice: 1, LineTotal: 2}, {SKU: "ST-B", Name: "B", Quantity: 2, UnitPrice: 1, LineTotal: 2}}
	_, err := s.s.CreateOrder(ctx, o, ref("ev-st-1"), nil, generous, at)
	if p := problem.Of(err, problem.Conflict); p == nil || p.Slug != "out-of-stock" || len(p.Fields) != 1 || p.Fields[0].Field != "items[1].sku" || p.Fields[0].Message != "is out of stock: 1 left" {
		t.Fatalf("short order: %v (%+v)", err, p)
	}
	if s.units(t, "ST-A") != 3 || s.exists(t, "cust-st", o.ID) {
		t.Fatal("a short order wrote something")
	}
	o.Lines[1].Quantity = 1
	k := claim("cust-st", "k-st", "h")
	if replay, err := s.s.CreateOrder(ctx, o, ref("ev-st-2"), &k, generous, at); err != nil || replay != nil {
		t.Fatalf("order = %v, %v", replay, err)
	}
	if replay, err := s.s.CreateOrder(ctx, newOrder("cust-st", 2, at), ref("ev-st-3"), &k, generous, at); err != nil || replay == nil {
		t.Fatalf("replay = %v, %v", replay, err)
	}
	if a, b := s.units(t, "ST-A"), s.units(t, "ST-B"); a != 1 || b != 0 {
		t.Fatalf("stock after the order and its replay: %d, %d", a, b)
	}
	if _, err := s.s.CancelOrder(ctx, "cust-st", o.ID, at.Add(time.Second), ref("ev-st-c")); err != nil {
		t.Fatal(err)
	}
	// The SDK's retry of the same cancel, and another cancel.
	if c, err := s.s.CancelOrder(ctx, "cust-st", o.ID, at.Add(2*time.Second), ref("ev-st-c")); err != nil || c.Status != order.Cancelled {
		t.Fatalf("retried cancel = %+v, %v", c, err)
	}
	if _, err := s.s.CancelOrder(ctx, "cust-st", o.ID, at.Add(3*time.Second), ref("ev-st-d")); !errors.Is(err, order.ErrNotCancellable) {
		t.Fatalf("second cancel: %v", err)
	}
	if a, b := s.units(t, "ST-A"), s.units(t, "ST-B"); a != 3 || b != 1 {
		t.Fatalf("stock after the cancels: %d, %d, want 3, 1", a, b)
	}
}

// testStockRace: twelve orders of one unit at once, five in stock: five
// are stored, seven are out of stock, and the stock ends at 0.
func testStockRace(t *testing.T, s subject) {
	ctx := context.Background()
	s.stock(t, "ST-HOT", 5)
	errs := testcloud.Parallel(12, func(i int) error { return buy(ctx, s.s, fmt.Sprint("cust-hot-", i), i, "ST-HOT", 1) })
	placed := 0
	for _, err := range errs {
		switch p := problem.Of(err, problem.Conflict); {
		case err == nil:
			placed++
		case p == nil || p.Slug != "out-of-stock":
			t.Fatal(err)
		}
	}
	if left := s.units(t, "ST-HOT"); placed != 5 || left != 0 {
		t.Fatalf("%d orders placed, %d left; want 5, 0", placed, left)
	}
}

// buy places an order of quantity units of the SKU for the customer.
func buy(ctx context.Context, s app.Store, customer string, i int, sku string, quantity int) error {
	at := now()
	o := newOrder(customer, i, at)
	o.Lines[0].SKU, o.Lines[0].Quantity = sku, quantity
	_, err := s.CreateOrder(ctx, o, ref(fmt.Sprint("ev-", customer, i)), nil, generous, at)
	return err
}

func testCreateAndGet(t *testing.T, s subject) {
	ctx := context.Background()
	o := newOrder("cust-a", 1, now())
	s.create(t, o, "ev-1")
	if !s.announces(t, o, events.OrderCreated, "ev-1") {
		t.Fatalf("order announces %+v, want order.created ev-1", s.announced(t, o).Header)
	}
	if got, err := s.s.Order(ctx, "cust-a", o.ID); err != nil || !reflect.DeepEqual(got, o) {
		t.Fatalf("Order = %+v, %v; want %+v", got, err, o)
	}
	// Writing an order whose id exists fails as a whole: no event appears.
	if _, err := s.s.CreateOrder(ctx, o, ref("ev-2"), nil, generous, o.CreatedAt); err == nil {
		t.Fatal("duplicate order id accepted")
	}
	if !s.announces(t, o, events.OrderCreated, "ev-1") {
		t.Fatal("the failed write changed the stored order's event")
	}
	// Another customer cannot see the order.
	if s.exists(t, "cust-b", o.ID) || s.exists(t, "cust-a", orderID(2)) {
		t.Fatal("another customer's order, or an unknown one, was found")
	}
}

// testQuota: twelve orders at once against a quota of five: exactly five
// are stored, each with its event; the others stored nothing and say when
// the window ends. Another customer and the next window are not affected.
func testQuota(t *testing.T, s subject) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Hour).Add(45 * time.Minute)
	quota := order.Quota{Max: 5, Window: time.Hour}
	create := func(o order.Order, eventID string) error {
		_, err := s.s.CreateOrder(ctx, o, ref(eventID), nil, quota, o.CreatedAt)
		return err
	}
	const n = 12
	errs := testcloud.Parallel(n, func(i int) error { return create(newOrder("cust-quota", i, now), fmt.Sprint("ev-quota-", i)) })
	stored := 0
	for i, err := range errs {
		over := problem.Of(err, problem.TooManyRequests)
		switch {
		case err == nil:
			stored++
			if !s.announces(t, newOrder("cust-quota", i, now), events.OrderCreated, fmt.Sprint("ev-quota-", i)) {
				t.Errorf("order %d stored without its event", i)
			}
		case over != nil:
			if over.RetryAfter != 15*time.Minute || over.Slug != "order-quota" {
				t.Errorf("refusal %+v, want 5 per hour and the window's last 15 minutes", over)
			}
			if s.exists(t, "cust-quota", orderID(i)) {
				t.Errorf("refused order %d was stored", i)
			}
		default:
			t.Fatal(err)
		}
	}
	list, _, err := s.s.Orders(ctx, "cust-quota", 50, "")
	if err != nil || stored != quota.Max || len(list) != quota.Max {
		t.Fatalf("%d of %d orders at once stored, %d listed (%v); want exactly %d", stored, n, len(list), err, quota.Max)
	}
	if err := create(newOrder("cust-other", 99, now), "ev-quota-other"); err != nil {
		t.Fatalf("another customer's order = %v", err)
	}
	if err := create(newOrder("cust-quota", 100, now.Add(15*time.Minute)), "ev-quota-next"); err != nil {
		t.Fatalf("an order in the next window = %v", err)
	}
}

// testIdempotency: ten requests with one key at once store one order and
// one event; every other one replays that order or hears that the key is
// busy. A later replay repeats the order as placed, whatever happened to
// it since; the key serves no other request, only its customer, and is
// free again after store.IdempotencyTTL.
func testIdempotency(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	const n = 10
	c := claim("cust-k", "key-1", "hash-a")
	replays := make([]*order.Order, n)
	errs := testcloud.Parallel(n, func(i int) error {
		var err error
		replays[i], err = s.s.CreateOrder(ctx, newOrder("cust-k", i, now), ref(fmt.Sprint("ev-k-", i)), &c, generous, now)
		return err
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && replays[i] == nil:
			if won >= 0 {
				t.Fatalf("requests %d and %d both stored an order", won, i)
			}
			won = i
		case err == nil, errors.Is(err, order.ErrIdempotencyBusy):
		default:
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no request stored the order")
	}
	placed := newOrder("cust-k", won, now)
	for i, r := range replays {
		if r != nil && !reflect.DeepEqual(*r, placed) {
			t.Errorf("request %d replayed %+v, want %+v", i, *r, placed)
		}
	}
	if list, _, err := s.s.Orders(ctx, "cust-k", 50, ""); err != nil || len(list) != 1 {
		t.Fatalf("%d orders stored (%v), want 1", len(list), err)
	}

	if _, err := s.s.CancelOrder(ctx, "cust-k", placed.ID, now.Add(time.Second), ref("ev-k-cancel")); err != nil {
		t.Fatal(err)
	}
	later := newOrder("cust-k", 50, now.Add(time.Minute))
	replay, err := s.s.CreateOrder(ctx, later, ref("ev-k-later"), &c, generous, later.CreatedAt)
	if err != nil || replay == nil || !reflect.DeepEqual(*replay, placed) {
		t.Fatalf("replay = %+v, %v; want the order as placed, %+v", replay, err, placed)
	}
	if s.exists(t, "cust-k", later.ID) || !s.announces(t, placed, events.OrderCancelled, "ev-k-cancel") {
		t.Error("a replay stored an order or an event")
	}
	if replay, err := s.s.KeyedOrder(ctx, c, now.Add(time.Minute)); err != nil || replay == nil || !reflect.DeepEqual(*replay, placed) {
		t.Fatalf("KeyedOrder = %+v, %v; want the order as placed", replay, err)
	}
	other := claim("cust-k", "key-1", "hash-b")
	if _, err := s.s.CreateOrder(ctx, later, ref("ev-k-other"), &other, generous, later.CreatedAt); !errors.Is(err, order.ErrIdempotencyReuse) {
		t.Fatalf("other body = %v, want ErrIdempotencyReuse", err)
	}
	if _, err := s.s.KeyedOrder(ctx, other, now); !errors.Is(err, order.ErrIdempotencyReuse) {
		t.Fatalf("KeyedOrder of another body = %v, want ErrIdempotencyReuse", err)
	}
	if replay, err := s.s.KeyedOrder(ctx, claim("cust-other", "key-1", "hash-b"), now); err != nil || replay != nil {
		t.Fatalf("same key, other customer = %+v, %v", replay, err)
	}
	// After the TTL the key is free again, even before DynamoDB deletes it.
	expired := now.Add(store.IdempotencyTTL + time.Second)
	if replay, err := s.s.KeyedOrder(ctx, other, expired); err != nil || replay != nil {
		t.Fatalf("expired key = %+v, %v", replay, err)
	}
	fresh := newOrder("cust-k", 60, expired)
	if replay, err := s.s.CreateOrder(ctx, fresh, ref("ev-k-fresh"), &other, generous, expired); err != nil || replay != nil {
		t.Fatalf("order with an expired key = %+v, %v; want it stored", replay, err)
	}
}

// testReplayBeforeQuota: a replay places nothing, so a full quota does not
// refuse it; a refused order leaves its key free.
func testReplayBeforeQuota(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	one := order.Quota{Max: 1, Window: time.Hour}
	c := claim("cust-q", "key-q", "h")
	o := newOrder("cust-q", 1, now)
	if replay, err := s.s.CreateOrder(ctx, o, ref("ev-q1"), &c, one, now); err != nil || replay != nil {
		t.Fatalf("first = %+v, %v", replay, err)
	}
	retry := newOrder("cust-q", 2, now)
	replay, err := s.s.CreateOrder(ctx, retry, ref("ev-q2"), &c, one, now)
	if err != nil || replay == nil || replay.ID != o.ID {
		t.Fatalf("retry at the quota = %+v, %v; want the replay of %s", replay, err, o.ID)
	}
	other := claim("cust-q", "key-other", "h")
	if _, err := s.s.CreateOrder(ctx, retry, ref("ev-q3"), &other, one, now); problem.Of(err, problem.TooManyRequests) == nil {
		t.Fatalf("a new order at the quota = %v, want the quota's refusal", err)
	}
	if replay, err := s.s.KeyedOrder(ctx, other, now); err != nil || replay != nil {
		t.Fatalf("the refused order's key = %+v, %v; want it free", replay, err)
	}
}

func testPagination(t *testing.T, s subject) {
	now := now()
	const total = 54
	for i := range total {
		s.create(t, newOrder("cust-p", i, now), fmt.Sprint("ev-p-", i))
	}
	for i := range 5 { // another customer's orders must never show up
		s.create(t, newOrder("cust-q", 1000+i, now), fmt.Sprint("ev-q-", i))
	}
	for _, tc := range []struct {
		name               string
		customer           string
		pageSize, wantRead int
	}{
		{"partial last page", "cust-p", 7, total},
		{"full last page", "cust-p", 6, total},
		{"one page", "cust-p", 60, total},
		{"no orders", "cust-none", 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			after, pages := "", 0
			for {
				list, next, err := s.s.Orders(context.Background(), tc.customer, tc.pageSize, after)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, o := range list {
					if o.Customer.ID != tc.customer {
						t.Fatalf("page has another customer's order %s", o.ID)
					}
					ids = append(ids, o.ID)
				}
				if next == "" {
					break
				}
				if after = next; pages > total {
					t.Fatal("pagination does not end")
				}
			}
			if wantPages := max(1, (tc.wantRead+tc.pageSize-1)/tc.pageSize); len(ids) != tc.wantRead || pages != wantPages {
				t.Fatalf("%d orders in %d pages, want %d in %d", len(ids), pages, tc.wantRead, wantPages)
			}
			for i, id := range ids {
				if want := orderID(tc.wantRead - 1 - i); id != want {
					t.Fatalf("position %d: %s, want %s (newest first)", i, id, want)
				}
			}
		})
	}
}

// testCancelFromEveryStatus: from every status the store does what
// order.Cancel says: it answers the cancelled order and stores it with its
// event, or answers the refusal and writes nothing. A cancel repeated
// with its own event (the SDK's retry after a lost answer) is answered,
// not refused. An order the customer does not have is not found.
func testCancelFromEveryStatus(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	at := now.Add(time.Second)
	for i, status := range []order.Status{order.Pending, order.Confirmed, order.Shipped, order.Cancelled} {
		o := newOrder("cust-d", 10+i, now)
		s.create(t, o, "ev-d0")
		s.setStatus(t, o, status)
		before, err := s.s.Order(ctx, "cust-d", o.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := order.Cancel().Apply(before, at)
		got, err := s.s.CancelOrder(ctx, "cust-d", o.ID, at, ref("ev-d-cancel"))
		stored, _ := s.s.Order(ctx, "cust-d", o.ID)
		switch {
		case !errors.Is(err, wantErr):
			t.Errorf("from %s: CancelOrder = %v, want %v as order.Cancel says", status, err, wantErr)
		case wantErr != nil && (!reflect.DeepEqual(stored, before) || !s.announces(t, o, events.OrderCreated, "ev-d0")):
			t.Errorf("from %s: a refused cancel wrote %+v (was %+v)", status, stored, before)
		case wantErr != nil:
		case !reflect.DeepEqual(got, want) || !reflect.DeepEqual(stored, want) || !s.announces(t, o, events.OrderCancelled, "ev-d-cancel"):
			t.Errorf("from %s: CancelOrder = %+v, stored %+v announcing %+v; want %+v as order.Cancel says, with its event",
				status, got, stored, s.announced(t, o).Header, want)
		default:
			again, err := s.s.CancelOrder(ctx, "cust-d", o.ID, at, ref("ev-d-cancel"))
			if err != nil || !reflect.DeepEqual(again, want) {
				t.Errorf("from %s: the cancel repeated = %+v, %v; want the cancelled order", status, again, err)
			}
		}
	}
	o := newOrder("cust-f", 40, now)
	s.create(t, o, "ev-f0")
	for name, tc := range map[string]struct{ customer, id string }{
		"unknown order":          {"cust-f", orderID(41)},
		"another customer's one": {"cust-g", o.ID},
	} {
		if _, err := s.s.CancelOrder(ctx, tc.customer, tc.id, at, ref("ev-f-cancel")); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("%s: CancelOrder = %v, want ErrNotFound", name, err)
		}
		if s.exists(t, tc.customer, tc.id) {
			t.Errorf("%s: the cancel created an order", name)
		}
	}
	if !s.announces(t, o, events.OrderCreated, "ev-f0") {
		t.Error("another customer's cancel changed the order")
	}
}

// testCancelRace: eight cancels of one order at once, each with its own
// event: exactly one takes effect, and the order announces its event.
func testCancelRace(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	o := newOrder("cust-c", 3, now)
	s.create(t, o, "ev-c0")
	const n = 8
	errs := testcloud.Parallel(n, func(i int) error {
		_, err := s.s.CancelOrder(ctx, "cust-c", o.ID, now.Add(time.Second), ref(fmt.Sprint("ev-cancel-", i)))
		return err
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("cancels %d and %d both took effect", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, order.ErrNotCancellable):
			t.Fatalf("cancel %d: %v", i, err)
		}
	}
	if won < 0 || !s.announces(t, o, events.OrderCancelled, fmt.Sprint("ev-cancel-", won)) {
		t.Fatalf("cancel %d won; the order announces %+v", won, s.announced(t, o).Header)
	}
}

// staffTransitions are the staff's transitions with the event each
// announces.
var staffTransitions = []struct {
	name  string
	t     order.Transition
	event string
}{
	{"confirm", order.Confirm(), events.OrderConfirmed},
	{"ship", order.Ship(order.Shipment{Carrier: "DHL", TrackingNumber: "JD0146 0000 1234"}), events.OrderShipped},
	{"deliver", order.Deliver(), events.OrderDelivered},
	{"cancel", order.StaffCancel("The parcel could not be packed."), events.OrderCancelled},
}

// testTransitions: every staff transition from every status does what the
// domain's Apply says, in one write found by the order's id alone: moved
// (stored with its history, shipment or reason and its event, a cancel
// giving the stock back), already there (answered unchanged, nothing
// written), or refused (ErrIllegalTransition, nothing written). The
// transition repeated with its own event (the SDK's retry after a lost
// answer) is answered, not refused, and gives nothing back twice. An
// unknown order is not found.
func testTransitions(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	at := now.Add(time.Second)
	i := 100
	for _, tr := range staffTransitions {
		for _, status := range []order.Status{order.Pending, order.Confirmed, order.Shipped, order.Delivered, order.Cancelled} {
			i++
			o := newOrder("cust-t", i, now)
			o.History = []order.Change{{Status: order.Pending, At: now}}
			s.create(t, o, "ev-t0")
			s.setStatus(t, o, status)
			before, err := s.s.Order(ctx, "cust-t", o.ID)
			if err != nil {
				t.Fatal(err)
			}
			stockBefore := s.units(t, "SKU-1")
			want, wantErr := tr.t.Apply(before, at)
			got, err := s.s.Transition(ctx, o.ID, tr.t, at, ref("ev-t-"+tr.name))
			stored, _ := s.s.Order(ctx, "cust-t", o.ID)
			moved := wantErr == nil && tr.t.Allows(status)
			wantStock := stockBefore
			if moved && tr.t.To == order.Cancelled {
				wantStock += 2 // newOrder's line
			}
			switch {
			case !errors.Is(err, wantErr):
				t.Errorf("%s from %s: Transition = %v, want %v as the domain says", tr.name, status, err, wantErr)
			case !moved && (!reflect.DeepEqual(stored, before) || !s.announces(t, o, events.OrderCreated, "ev-t0") || s.units(t, "SKU-1") != stockBefore):
				t.Errorf("%s from %s: wrote %+v (was %+v), or stock %d (was %d)", tr.name, status, stored, before, s.units(t, "SKU-1"), stockBefore)
			case !moved && wantErr == nil && !reflect.DeepEqual(got, before):
				t.Errorf("%s from %s: a repeat answered %+v, want the order unchanged %+v", tr.name, status, got, before)
			case !moved:
			case !reflect.DeepEqual(got, want) || !reflect.DeepEqual(stored, want) || !s.announces(t, o, tr.event, "ev-t-"+tr.name) || s.units(t, "SKU-1") != wantStock:
				t.Errorf("%s from %s: Transition = %+v, stored %+v announcing %+v, stock %d; want %+v with its event, stock %d",
					tr.name, status, got, stored, s.announced(t, o).Header, s.units(t, "SKU-1"), want, wantStock)
			default:
				if ev := s.announced(t, o); ev.Validate() != nil {
					t.Errorf("%s from %s: the event announced is poison: %v", tr.name, status, ev.Validate())
				}
				again, err := s.s.Transition(ctx, o.ID, tr.t, at.Add(time.Second), ref("ev-t-"+tr.name))
				if err != nil || !reflect.DeepEqual(again, want) || s.units(t, "SKU-1") != wantStock {
					t.Errorf("%s from %s: the transition retried = %+v, %v, stock %d; want the order as moved, stock %d", tr.name, status, again, err, s.units(t, "SKU-1"), wantStock)
				}
			}
		}
	}
	if _, err := s.s.Transition(ctx, orderID(199), order.Confirm(), at, ref("ev-t-x")); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("Transition of an unknown order = %v, want ErrNotFound", err)
	}
}

// testShipRace: eight ships of one confirmed order at once, each with its
// own event: exactly one takes effect, the others answer the shipped order
// unchanged, and the order announces the one event.
func testShipRace(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	o := newOrder("cust-s", 5, now)
	s.create(t, o, "ev-s0")
	s.setStatus(t, o, order.Confirmed)
	ship := order.Ship(order.Shipment{Carrier: "UPS", TrackingNumber: "1Z999AA10123456784"})
	const n = 8
	answers := make([]order.Order, n)
	errs := testcloud.Parallel(n, func(i int) error {
		var err error
		answers[i], err = s.s.Transition(ctx, o.ID, ship, now.Add(time.Second), ref(fmt.Sprint("ev-ship-", i)))
		return err
	})
	stored, _ := s.s.Order(ctx, "cust-s", o.ID)
	for i, err := range errs {
		if err != nil || !reflect.DeepEqual(answers[i], stored) {
			t.Fatalf("ship %d = %+v, %v; want the shipped order %+v", i, answers[i], err, stored)
		}
	}
	ev := s.announced(t, o)
	if ev.Type != events.OrderShipped || !strings.HasPrefix(ev.ID, "ev-ship-") || len(stored.History) != 1 {
		t.Fatalf("the order announces %+v, history %+v; want one order.shipped", ev.Header, stored.History)
	}
}

// testStaffQueues: staff's queue of a status lists the orders in it, of
// every customer, oldest first by the time they entered it (not by when
// they were placed), page after page, each once; an order that moves on
// leaves its old queue and joins the end of the new one. StaffOrder reads
// any customer's order by id.
func testStaffQueues(t *testing.T, s subject) {
	ctx := context.Background()
	now := now()
	var placed []order.Order
	for i := range 23 {
		o := newOrder(fmt.Sprint("cust-q", i%3), 300+i, now.Add(time.Duration(i)*time.Millisecond))
		o.History = []order.Change{{Status: order.Pending, At: o.CreatedAt}}
		s.create(t, o, fmt.Sprint("ev-q-", i))
		placed = append(placed, o)
	}
	// Confirmed newest first: the confirmed queue is the reverse of the
	// pending one.
	var confirmed []string
	for i := 22; i >= 12; i-- {
		if _, err := s.s.Transition(ctx, placed[i].ID, order.Confirm(), now.Add(time.Minute+time.Duration(22-i)*time.Millisecond), ref(fmt.Sprint("ev-qc-", i))); err != nil {
			t.Fatal(err)
		}
		confirmed = append(confirmed, placed[i].ID)
	}
	var pending []string
	for _, o := range placed[:12] {
		pending = append(pending, o.ID)
	}
	for status, want := range map[order.Status][]string{order.Pending: pending, order.Confirmed: confirmed, order.Shipped: nil} {
		for _, size := range []int{1, 5, 11, 12, 100} {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				list, next, err := s.s.StaffOrders(ctx, status, size, after)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) > size || pages > 30 {
					t.Fatalf("%s by %d: a page of %d, or pages without end", status, size, len(list))
				}
				for _, o := range list {
					if o.Status != status {
						t.Errorf("%s by %d: listed %s in %s", status, size, o.ID, o.Status)
					}
					got = append(got, o.ID)
				}
				if next == "" {
					break
				}
				after = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s by %d: listed %v, want %v", status, size, got, want)
			}
		}
	}
	got, err := s.s.StaffOrder(ctx, placed[13].ID)
	if want, _ := s.s.Order(ctx, placed[13].Customer.ID, placed[13].ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("StaffOrder = %+v, %v; want %+v", got, err, want)
	}
	if _, err := s.s.StaffOrder(ctx, orderID(399)); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("StaffOrder of an unknown order = %v, want ErrNotFound", err)
	}
}
