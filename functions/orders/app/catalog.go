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
	// without reading the table: browsing and pricing alike. A price or
	// product change reaches orders within this time (the seed articles'
	// advice: five minutes is safe for a product catalog).
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
	load     func(ctx context.Context) ([]order.Product, error)
	now      func() time.Time
	fresh    time.Duration
	maxStale time.Duration
	retry    time.Duration

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

func (c *catalogCache) current() *catalogSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

func (c *catalogCache) isFresh(s *catalogSnapshot, now time.Time) bool {
	return s != nil && now.Sub(s.readAt) < c.fresh
}

// get returns a copy no older than fresh, reading the table when the copy
// it holds is older. It never answers from an older copy.
func (c *catalogCache) get(ctx context.Context) (*catalogSnapshot, error) {
	if s := c.current(); c.isFresh(s, c.now()) {
		return s, nil
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	if s := c.current(); c.isFresh(s, c.now()) {
		return s, nil // another request read it while this one waited
	}
	products, err := c.load(ctx)
	if err != nil {
		c.mu.Lock()
		c.failedAt = c.now()
		c.mu.Unlock()
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	s := &catalogSnapshot{products: products, bySKU: make(map[string]order.Product, len(products)), readAt: c.now()}
	for _, p := range products {
		s.bySKU[p.SKU] = p
	}
	c.mu.Lock()
	c.snap = s
	c.mu.Unlock()
	return s, nil
}

// recentFailure reports whether the copy is stale and a read of the table
// failed less than retry ago.
func (c *catalogCache) recentFailure(now time.Time) (*catalogSnapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap, c.snap != nil && !c.isFresh(c.snap, now) && now.Sub(c.failedAt) < c.retry
}

// browse returns a fresh copy, or, when the table cannot be read, the last
// good copy if it is younger than maxStale, marked stale. Older than that,
// the read's error. Within retry of a failed read it answers the stale copy
// without reading.
func (c *catalogCache) browse(ctx context.Context) (*catalogSnapshot, Freshness, error) {
	now := c.now()
	if last, failing := c.recentFailure(now); failing && now.Sub(last.readAt) < c.maxStale {
		return last, Freshness{Stale: true, Age: now.Sub(last.readAt)}, nil
	}
	s, err := c.get(ctx)
	if err == nil {
		return s, Freshness{Age: c.now().Sub(s.readAt)}, nil
	}
	last := c.current()
	if last == nil {
		return nil, Freshness{}, err
	}
	age := c.now().Sub(last.readAt)
	if age >= c.maxStale {
		return nil, Freshness{}, err
	}
	return last, Freshness{Stale: true, Age: age}, nil
}
