package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
)

// catalogStore is the in-memory store with a catalog a test controls; it
// counts the catalog's reads.
type catalogStore struct {
	*apptest.MemStore
	mu       sync.Mutex
	products []order.Product
	err      error
	reads    atomic.Int64
	// block, when not nil, holds every read until it is closed.
	block chan struct{}
}

func (s *catalogStore) Products(context.Context) ([]order.Product, error) {
	s.reads.Add(1)
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	return append([]order.Product(nil), s.products...), nil
}

func (s *catalogStore) set(products []order.Product, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.products, s.err = products, err
}

// clock is a clock a test moves.
type clock struct{ t atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }

var (
	espresso = order.Product{SKU: "COF-ESP-250", Name: "Espresso", UnitPrice: 1290, Currency: "USD", Active: true}
	teaV1    = order.Product{SKU: "TEA-EARL-100", Name: "Earl Grey", UnitPrice: 850, Currency: "USD", Active: true}
	teaV2    = order.Product{SKU: "TEA-EARL-100", Name: "Earl Grey", UnitPrice: 900, Currency: "USD", Active: true}
	errDown  = errors.New("dynamodb: service unavailable")
)

func newCatalogService(st *catalogStore, c *clock) *app.Service {
	return app.New(app.Config{
		Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: c.now,
		NewID: func() string { return "01JNQ000000000000000000001" },
	})
}

func unitPrice(t *testing.T, svc *app.Service, sku string) (int64, app.Freshness, error) {
	t.Helper()
	p, fresh, err := svc.Product(context.Background(), sku)
	return p.UnitPrice, fresh, err
}

// TestCatalogCache walks the copy's life: read once, fresh for five
// minutes, read again after, the last good copy (marked stale) while the
// table fails, for up to an hour, and the error after that. While the
// table fails, browsing tries it at most every 5 seconds.
func TestCatalogCache(t *testing.T) {
	st := &catalogStore{MemStore: apptest.NewMemStore(), products: []order.Product{espresso, teaV1}}
	c := newClock()
	svc := newCatalogService(st, c)
	ctx := context.Background()

	steps := []struct {
		name      string
		advance   time.Duration
		products  []order.Product // what the table holds from this step on
		down      bool            // whether reading the table fails
		wantPrice int64
		wantStale bool
		wantAge   time.Duration
		wantErr   bool
		wantReads int64 // reads of the table so far
	}{
		{name: "cold: one read", products: []order.Product{espresso, teaV1}, wantPrice: 850, wantReads: 1},
		{name: "fresh: no read", advance: time.Minute, wantPrice: 850, wantAge: time.Minute, wantReads: 1},
		{name: "a price change is not seen while the copy is fresh", advance: 3*time.Minute + 59*time.Second,
			products: []order.Product{espresso, teaV2}, wantPrice: 850, wantAge: 4*time.Minute + 59*time.Second, wantReads: 1},
		{name: "after five minutes: read again", advance: time.Second, wantPrice: 900, wantReads: 2},
		{name: "fresh again", advance: 4 * time.Minute, wantPrice: 900, wantAge: 4 * time.Minute, wantReads: 2},
		{name: "table down while fresh: not noticed", advance: 30 * time.Second, down: true,
			wantPrice: 900, wantAge: 4*time.Minute + 30*time.Second, wantReads: 2},
		{name: "table down, copy expired: stale answer", advance: 30 * time.Second, down: true,
			wantPrice: 900, wantStale: true, wantAge: 5 * time.Minute, wantReads: 3},
		{name: "within 5 s of the failed read: stale, no read", advance: 4 * time.Second, down: true,
			wantPrice: 900, wantStale: true, wantAge: 5*time.Minute + 4*time.Second, wantReads: 3},
		{name: "still down: read tried again after 5 s", advance: 54*time.Minute + 55*time.Second, down: true,
			wantPrice: 900, wantStale: true, wantAge: 59*time.Minute + 59*time.Second, wantReads: 4},
		{name: "an hour old: the error", advance: time.Second, down: true, wantErr: true, wantReads: 5},
		{name: "table back: fresh again", advance: time.Minute, products: []order.Product{espresso, teaV1},
			wantPrice: 850, wantReads: 6},
	}
	for _, step := range steps {
		c.advance(step.advance)
		products := step.products
		if products == nil {
			products = st.products
		}
		var err error
		if step.down {
			err = errDown
		}
		st.set(products, err)
		price, fresh, gotErr := unitPrice(t, svc, "TEA-EARL-100")
		if (gotErr != nil) != step.wantErr {
			t.Fatalf("%s: error %v, want error %v", step.name, gotErr, step.wantErr)
		}
		if gotErr != nil && !errors.Is(gotErr, errDown) {
			t.Errorf("%s: error %v, want it to wrap the read's error", step.name, gotErr)
		}
		if !step.wantErr && (price != step.wantPrice || fresh.Stale != step.wantStale || fresh.Age != step.wantAge) {
			t.Errorf("%s: price %d, %+v; want %d, stale %v, age %v", step.name, price, fresh, step.wantPrice, step.wantStale, step.wantAge)
		}
		if got := st.reads.Load(); got != step.wantReads {
			t.Errorf("%s: %d reads of the table, want %d", step.name, got, step.wantReads)
		}
	}

	// The product list follows the same copy and marks it the same way.
	list, fresh, err := svc.Products(ctx)
	if err != nil || len(list) != 2 || fresh.Stale {
		t.Errorf("Products = %d products, %+v, %v; want 2, fresh", len(list), fresh, err)
	}
}

// TestCatalogCacheColdAndDown: without a copy, a failed read is the
// error, for both product routes.
func TestCatalogCacheColdAndDown(t *testing.T) {
	st := &catalogStore{MemStore: apptest.NewMemStore(), err: errDown}
	svc := newCatalogService(st, newClock())
	if _, _, err := svc.Products(context.Background()); !errors.Is(err, errDown) {
		t.Errorf("Products: %v, want the read's error", err)
	}
	if _, _, err := svc.Product(context.Background(), "COF-ESP-250"); !errors.Is(err, errDown) {
		t.Errorf("Product: %v, want the read's error", err)
	}
}

// TestPricingNeverUsesAStaleCopy: while the product routes answer from a
// stale copy, an order is refused rather than priced from it.
func TestPricingNeverUsesAStaleCopy(t *testing.T) {
	st := &catalogStore{MemStore: apptest.NewMemStore(), products: []order.Product{espresso, teaV1}}
	c := newClock()
	svc := newCatalogService(st, c)
	ctx := context.Background()
	place := app.PlaceOrder{
		Customer: order.Customer{ID: "cust-1", Email: "a@example.com", Name: "A"}, EmailVerified: true,
		Items: []order.ItemRequest{{SKU: "TEA-EARL-100", Quantity: 1}},
	}
	placed, err := svc.PlaceOrder(ctx, place)
	if err != nil || placed.Order.Total != 850 {
		t.Fatalf("PlaceOrder = %+v, %v; want a total of 850", placed.Order, err)
	}
	c.advance(app.CatalogFresh)
	st.set(st.products, errDown)
	if _, fresh, err := svc.Products(ctx); err != nil || !fresh.Stale {
		t.Fatalf("Products = %+v, %v; want a stale answer", fresh, err)
	}
	reads := st.reads.Load()
	if _, err := svc.PlaceOrder(ctx, place); !errors.Is(err, errDown) {
		t.Errorf("PlaceOrder with the table down and the copy expired: %v, want the read's error", err)
	}
	if st.reads.Load() != reads+1 {
		t.Error("PlaceOrder did not try the table (pricing tries every time, even just after a failed read)")
	}
}

// TestCatalogCacheConcurrentRequests: requests that find the copy expired
// at once read the table once; the others wait for that read.
func TestCatalogCacheConcurrentRequests(t *testing.T) {
	st := &catalogStore{MemStore: apptest.NewMemStore(), products: []order.Product{espresso, teaV1}, block: make(chan struct{})}
	svc := newCatalogService(st, newClock())
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			if _, _, err := svc.Products(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	// Wait (with a deadline) until the first read is under way, then let
	// it finish: the requests waiting behind it find a fresh copy.
	deadline := time.Now().Add(30 * time.Second)
	for st.reads.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no read of the table within 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	close(st.block)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := st.reads.Load(); got != 1 {
		t.Errorf("%d reads for %d concurrent requests, want 1", got, n)
	}
}
