package app_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
)

// catalogStore answers the catalog's reads with its products, in the
// order it holds them, once block is closed (nil: at once), and counts
// them.
type catalogStore struct {
	*apptest.MemStore
	products []order.Product
	block    chan struct{}
	reads    atomic.Int64
}

func (s *catalogStore) Products(context.Context) ([]order.Product, error) {
	s.reads.Add(1)
	if s.block != nil {
		<-s.block
	}
	return s.products, nil
}

var errDown = errors.New("dynamodb: service unavailable")

// TestCatalogCache walks the copy's life: read once, fresh for five
// minutes, read again after, the last good copy (marked stale) while the
// table fails, for up to an hour, and the error after that. While the
// table fails, browsing tries it at most every 5 seconds.
func TestCatalogCache(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	teaV2 := testProducts[0] // TEA-EARL-100 at 850
	teaV2.UnitPrice = 900

	steps := []struct {
		name      string
		advance   time.Duration
		products  []order.Product // written to the table at this step
		down      bool            // whether reading the table fails
		wantPrice int64
		wantStale bool
		wantAge   time.Duration
		wantErr   bool
		wantReads int64 // reads of the table so far
	}{
		{name: "cold: one read", wantPrice: 850, wantReads: 1},
		{name: "fresh: no read", advance: time.Minute, wantPrice: 850, wantAge: time.Minute, wantReads: 1},
		{name: "a price change is not seen while the copy is fresh", advance: 3*time.Minute + 59*time.Second,
			products: []order.Product{teaV2}, wantPrice: 850, wantAge: 4*time.Minute + 59*time.Second, wantReads: 1},
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
		{name: "table back: fresh again", advance: time.Minute, products: testProducts[:1],
			wantPrice: 850, wantReads: 6},
	}
	for _, step := range steps {
		f.later += step.advance
		f.store.PutProducts(step.products...)
		var down error
		if step.down {
			down = errDown
		}
		f.store.Fail("Products", down)
		p, fresh, gotErr := f.svc.Product(ctx, "TEA-EARL-100")
		if (gotErr != nil) != step.wantErr {
			t.Fatalf("%s: error %v, want error %v", step.name, gotErr, step.wantErr)
		}
		if gotErr != nil && !errors.Is(gotErr, errDown) {
			t.Errorf("%s: error %v, want it to wrap the read's error", step.name, gotErr)
		}
		if !step.wantErr && (p.UnitPrice != step.wantPrice || fresh.Stale != step.wantStale || fresh.Age != step.wantAge) {
			t.Errorf("%s: price %d, %+v; want %d, stale %v, age %v", step.name, p.UnitPrice, fresh, step.wantPrice, step.wantStale, step.wantAge)
		}
		if got := f.store.Calls("Products"); got != int(step.wantReads) {
			t.Errorf("%s: %d reads of the table, want %d", step.name, got, step.wantReads)
		}
	}

	// The product list follows the same copy and marks it the same way.
	list, fresh, err := f.svc.Products(ctx)
	if err != nil || len(list) != 4 || fresh.Stale {
		t.Errorf("Products = %d products, %+v, %v; want 4, fresh", len(list), fresh, err)
	}
}

// TestCatalogCacheColdAndDown: without a copy, a failed read is the
// error, for both product routes.
func TestCatalogCacheColdAndDown(t *testing.T) {
	f := newFixture(t)
	f.store.Fail("Products", errDown)
	if _, _, err := f.svc.Products(context.Background()); !errors.Is(err, errDown) {
		t.Errorf("Products: %v, want the read's error", err)
	}
	if _, _, err := f.svc.Product(context.Background(), "COF-ESP-250"); !errors.Is(err, errDown) {
		t.Errorf("Product: %v, want the read's error", err)
	}
}

// TestPricingNeverUsesAStaleCopy: while the product routes answer from a
// stale copy, an order is refused rather than priced from it.
func TestPricingNeverUsesAStaleCopy(t *testing.T) {
	f := newFixture(t)
	items := []order.ItemRequest{{SKU: "TEA-EARL-100", Quantity: 1}}
	if placed, err := f.place(items, nil); err != nil || placed.Order.Total != 850 {
		t.Fatalf("PlaceOrder = %+v, %v; want a total of 850", placed.Order, err)
	}
	f.later = app.CatalogFresh
	f.store.Fail("Products", errDown)
	if _, fresh, err := f.svc.Products(context.Background()); err != nil || !fresh.Stale {
		t.Fatalf("Products = %+v, %v; want a stale answer", fresh, err)
	}
	reads := f.store.Calls("Products")
	if _, err := f.place(items, nil); !errors.Is(err, errDown) {
		t.Errorf("PlaceOrder with the table down and the copy expired: %v, want the read's error", err)
	}
	if f.store.Calls("Products") != reads+1 {
		t.Error("PlaceOrder did not try the table (pricing tries every time, even just after a failed read)")
	}
}

// TestCatalogCacheConcurrentRequests: requests that find the copy expired
// at once read the table once; the others wait for that read.
func TestCatalogCacheConcurrentRequests(t *testing.T) {
	st := &catalogStore{MemStore: apptest.NewMemStore(), products: testProducts, block: make(chan struct{})}
	svc := app.New(app.Config{Store: st, Log: slog.New(slog.DiscardHandler)})
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
