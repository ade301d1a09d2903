package app

import (
	"context"
	"fmt"
	"sync"
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
	mu       sync.Mutex // guards snap and failedAt
	snap     *catalogSnapshot
	failedAt time.Time // when the last read of the table failed
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

// state is the copy and when a read of the table last failed.
func (c *catalogCache) state() (*catalogSnapshot, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap, c.failedAt
}

// get returns a copy no older than CatalogFresh, reading the table when
// the copy it holds is older. It never answers from an older copy.
func (c *catalogCache) get(ctx context.Context) (*catalogSnapshot, error) {
	if s, _ := c.state(); c.freshAt(s, c.now()) {
		return s, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	if s, _ := c.state(); c.freshAt(s, c.now()) {
		return s, nil // another request read it while this one waited
	}
	products, err := c.load(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failedAt = c.now()
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	c.snap = &catalogSnapshot{products: products, bySKU: make(map[string]order.Product, len(products)), readAt: c.now()}
	for _, p := range products {
		c.snap.bySKU[p.SKU] = p
	}
	return c.snap, nil
}

// browse returns a fresh copy, or, when the table cannot be read, the last
// good copy if it is younger than CatalogMaxStale, marked stale. Older than
// that, the read's error. Within CatalogRetry of a failed read it answers
// the stale copy without reading.
func (c *catalogCache) browse(ctx context.Context) (*catalogSnapshot, Freshness, error) {
	last, failedAt := c.state()
	if now := c.now(); last != nil && !c.freshAt(last, now) && now.Sub(failedAt) < CatalogRetry && now.Sub(last.readAt) < CatalogMaxStale {
		return last, Freshness{Stale: true, Age: now.Sub(last.readAt)}, nil
	}
	s, err := c.get(ctx)
	if err == nil {
		return s, Freshness{Age: c.now().Sub(s.readAt)}, nil
	}
	if last, _ = c.state(); last == nil || c.now().Sub(last.readAt) >= CatalogMaxStale {
		return nil, Freshness{}, err
	}
	return last, Freshness{Stale: true, Age: c.now().Sub(last.readAt)}, nil
}
