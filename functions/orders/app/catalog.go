package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// Catalog cache timings.
const (
	// CatalogFresh is how long the function uses its copy of the catalog
	// without reading the table, browsing and pricing alike, unless
	// Config.CatalogFresh says less. A staff member's price or product
	// change reaches orders within this time (the seed articles' advice:
	// five minutes is safe for a product catalog).
	CatalogFresh = 5 * time.Minute
	// CatalogMaxStale is how long the product routes may still answer from
	// the last good copy when the table cannot be read. Orders are never
	// priced from a copy older than CatalogFresh.
	CatalogMaxStale = time.Hour
	// CatalogRetry is how long after a failed read of the table the product
	// routes answer from the stale copy without trying the table again, so
	// that an outage does not cost every browsing request a failed read
	// (with its retries) before its answer. Pricing tries every time.
	CatalogRetry = 5 * time.Second
)

// Freshness says how current a catalog answer is.
type Freshness struct {
	// Stale is true when the table could not be read and the answer comes
	// from a copy older than CatalogFresh.
	Stale bool
	// Age is how long ago the copy was read from the table.
	Age time.Duration
}

// catalogCache is the function's copy of the whole catalog, read with one
// Query and kept for CatalogFresh. It lives in the Service built at cold
// start and is safe for concurrent requests: one of them reloads an
// expired copy while the others wait for it.
type catalogCache struct {
	load  func(ctx context.Context) ([]order.Product, error)
	now   func() time.Time
	fresh time.Duration // CatalogFresh or less

	loading  sync.Mutex // held while reading the table, so one request reads
	snap     atomic.Pointer[catalogSnapshot]
	failedAt atomic.Int64 // when the last read of the table failed, in Unix nanoseconds
}

// catalogSnapshot is one read of the catalog; never changed once made.
type catalogSnapshot struct {
	products []order.Product // ordered by SKU, as the store returns them
	bySKU    map[string]order.Product
	readAt   time.Time
}

// freshAt reports whether s is a copy younger than the cache's freshness
// at now.
func (c *catalogCache) freshAt(s *catalogSnapshot, now time.Time) bool {
	return s != nil && now.Sub(s.readAt) < c.fresh
}

// get returns a copy no older than CatalogFresh, reading the table when
// the copy it holds is older. It never answers from an older copy.
func (c *catalogCache) get(ctx context.Context) (*catalogSnapshot, error) {
	if s := c.snap.Load(); c.freshAt(s, c.now()) {
		return s, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	if s := c.snap.Load(); c.freshAt(s, c.now()) {
		return s, nil // another request read it while this one waited
	}
	products, err := c.load(ctx)
	if err != nil {
		c.failedAt.Store(c.now().UnixNano())
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	s := &catalogSnapshot{products: products, bySKU: make(map[string]order.Product, len(products)), readAt: c.now()}
	for _, p := range products {
		s.bySKU[p.SKU] = p
	}
	c.snap.Store(s)
	return s, nil
}

// browse returns a fresh copy, or, when the table cannot be read, the last
// good copy if it is younger than CatalogMaxStale, marked stale. Older than
// that, the read's error. Within CatalogRetry of a failed read it answers
// the stale copy without reading.
func (c *catalogCache) browse(ctx context.Context) (*catalogSnapshot, Freshness, error) {
	last := c.snap.Load()
	if now := c.now(); last != nil && !c.freshAt(last, now) && now.Sub(time.Unix(0, c.failedAt.Load())) < CatalogRetry && now.Sub(last.readAt) < CatalogMaxStale {
		return last, Freshness{Stale: true, Age: now.Sub(last.readAt)}, nil
	}
	s, err := c.get(ctx)
	if err == nil {
		return s, Freshness{Age: c.now().Sub(s.readAt)}, nil
	}
	if last = c.snap.Load(); last == nil || c.now().Sub(last.readAt) >= CatalogMaxStale {
		return nil, Freshness{}, err
	}
	return last, Freshness{Stale: true, Age: c.now().Sub(last.readAt)}, nil
}

// Products returns the products a customer can order, ordered by SKU, from
// the function's copy of the catalog (see CatalogFresh). When the table
// cannot be read it answers from the last good copy for up to
// CatalogMaxStale, saying so in the Freshness; after that, or without a
// copy, the read's error.
func (s *Service) Products(ctx context.Context) ([]order.Product, Freshness, error) {
	snap, fresh, err := s.browse(ctx)
	if err != nil {
		return nil, Freshness{}, err
	}
	active := slices.DeleteFunc(append([]order.Product{}, snap.products...), func(p order.Product) bool { return !p.Active })
	return active, fresh, nil
}

// Product returns an orderable product, or order.ErrProductNotFound: for
// a malformed SKU, an unknown one and a discontinued one alike. It reads
// the catalog as Products does.
func (s *Service) Product(ctx context.Context, sku string) (order.Product, Freshness, error) {
	if !order.ValidSKU(sku) {
		return order.Product{}, Freshness{}, order.ErrProductNotFound
	}
	snap, fresh, err := s.browse(ctx)
	if err != nil {
		return order.Product{}, Freshness{}, err
	}
	p, ok := snap.bySKU[sku]
	if !ok || !p.Active {
		return order.Product{}, Freshness{}, order.ErrProductNotFound
	}
	return p, fresh, nil
}

// browse reads the catalog for the product routes, logging a stale answer.
func (s *Service) browse(ctx context.Context) (*catalogSnapshot, Freshness, error) {
	snap, fresh, err := s.catalog.browse(ctx)
	if err == nil && fresh.Stale {
		s.Metrics.Add(MetricCatalogStale, 1)
		s.Log.WarnContext(ctx, "catalog unavailable: answering from the last good copy",
			slog.Duration("age", fresh.Age))
	}
	return snap, fresh, err
}
