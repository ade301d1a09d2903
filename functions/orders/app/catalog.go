package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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

// catalogSnapshot is one read of the catalog; never changed once made.
type catalogSnapshot struct {
	products []order.Product // ordered by SKU, as the store returns them
	bySKU    map[string]order.Product
	readAt   time.Time
}

// freshAt reports whether c is a copy younger than the service's
// freshness (Config.CatalogFresh) at now.
func (s *Service) freshAt(c *catalogSnapshot, now time.Time) bool {
	return c != nil && now.Sub(c.readAt) < s.CatalogFresh
}

// catalogCopy returns a copy no older than CatalogFresh, reading the table
// when the copy it holds is older. It never answers from an older copy.
func (s *Service) catalogCopy(ctx context.Context) (*catalogSnapshot, error) {
	if c := s.catalog.Load(); s.freshAt(c, s.Now()) {
		return c, nil
	}
	s.loading.Lock()
	defer s.loading.Unlock()
	if c := s.catalog.Load(); s.freshAt(c, s.Now()) {
		return c, nil // another request read it while this one waited
	}
	products, err := s.Store.Products(ctx)
	if err != nil {
		s.failedAt.Store(s.Now().UnixNano())
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	c := &catalogSnapshot{products: products, bySKU: make(map[string]order.Product, len(products)), readAt: s.Now()}
	for _, p := range products {
		c.bySKU[p.SKU] = p
	}
	s.catalog.Store(c)
	return c, nil
}

// browse returns a fresh copy for the product routes, or, when the table
// cannot be read, the last good copy if it is younger than
// CatalogMaxStale, marked stale (and logged). Older than that, the read's
// error. Within CatalogRetry of a failed read it answers the stale copy
// without reading.
func (s *Service) browse(ctx context.Context) (*catalogSnapshot, Freshness, error) {
	last, now := s.catalog.Load(), s.Now()
	if last == nil || s.freshAt(last, now) || now.Sub(time.Unix(0, s.failedAt.Load())) >= CatalogRetry || now.Sub(last.readAt) >= CatalogMaxStale {
		c, err := s.catalogCopy(ctx)
		if err == nil {
			return c, Freshness{Age: s.Now().Sub(c.readAt)}, nil
		}
		if last, now = s.catalog.Load(), s.Now(); last == nil || now.Sub(last.readAt) >= CatalogMaxStale {
			return nil, Freshness{}, err
		}
	}
	fresh := Freshness{Stale: true, Age: now.Sub(last.readAt)}
	s.Metrics.Add(MetricCatalogStale, 1)
	s.Log.WarnContext(ctx, "catalog unavailable: answering from the last good copy", slog.Duration("age", fresh.Age))
	return last, fresh, nil
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
	return slices.DeleteFunc(append([]order.Product{}, snap.products...), func(p order.Product) bool { return !p.Active }), fresh, nil
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
