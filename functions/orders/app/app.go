// Package app is the orders service's use cases: browsing the catalog and
// placing, reading, listing and cancelling a customer's orders. It decides
// what happens and in what order; the domain (package order) says what is
// valid, the store keeps it, and the HTTP layer only translates.
package app

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/metrics"
)

// Store is the persistence the use cases need; the orders store
// (functions/orders/store) implements it.
type Store interface {
	// Products returns the whole catalog, ordered by SKU (the service
	// keeps a copy: see CatalogFresh).
	Products(ctx context.Context) ([]order.Product, error)
	// KeyedOrder returns the order an earlier request placed with the
	// key, nil if the key is free, order.ErrIdempotencyReuse when it
	// placed another request's order.
	KeyedOrder(ctx context.Context, key order.Claim, now time.Time) (*order.Order, error)
	// CreateOrder stores an order announcing its order.created event ev
	// and (with a key) the key's record at once, counting the order
	// against quota. When the key already placed an order for the same
	// request, it stores nothing and returns that order. It takes each
	// line's units from its product's stock, all or nothing. Errors:
	// quota.Refused(now), order.OutOfStock's naming the short lines,
	// order.ErrIdempotencyReuse, order.ErrIdempotencyBusy.
	CreateOrder(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error)
	// Order returns the customer's order, or order.ErrNotFound.
	Order(ctx context.Context, customerID, id string) (order.Order, error)
	// Orders returns a page of the customer's orders, newest first.
	Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error)
	// CancelOrder cancels the customer's order at the time at, announcing
	// its order.cancelled event ev, and gives its units back to stock, in
	// one conditional write (once, whatever the retries), and returns it.
	// Errors: order.ErrNotFound, order.ErrNotCancellable.
	CancelOrder(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error)
	// Transition moves any customer's order id along t at the time at,
	// announcing its event ev, in one conditional write (a transaction
	// when a cancel gives stock back), and returns it; a repeat of a
	// Repeatable t returns the order unchanged, writing nothing. Errors:
	// order.ErrNotFound, t.Refused.
	Transition(ctx context.Context, id string, t order.Transition, at time.Time, ev order.EventRef) (order.Order, error)

	// The staff's use cases' (staff.go):

	// CreateProduct adds p to the catalog. Errors: order.ErrProductExists.
	CreateProduct(ctx context.Context, p order.Product) error
	// UpdateProduct applies the change and returns the product, without
	// losing a concurrent change of other fields. Errors:
	// order.ErrProductNotFound.
	UpdateProduct(ctx context.Context, sku string, c order.ProductChange, at time.Time) (order.Product, error)
	// StaffProduct returns a product, archived or not, with its stock.
	// Errors: order.ErrProductNotFound.
	StaffProduct(ctx context.Context, sku string) (order.StaffProduct, error)
	// StaffProducts returns the whole catalog with stock, ordered by SKU.
	StaffProducts(ctx context.Context) ([]order.StaffProduct, error)
	// Stock returns the stock of each SKU (0 without a stock item).
	Stock(ctx context.Context, skus ...string) (map[string]int64, error)
	// AdjustStock adds delta to a product's stock atomically and returns
	// it. Errors: order.ErrProductNotFound, order.ErrStockBelowZero.
	AdjustStock(ctx context.Context, sku string, delta int64) (int64, error)
	// SetStock sets a product's stock if it is still expected and returns
	// it. Errors: order.ErrProductNotFound, order.ErrStockChanged.
	SetStock(ctx context.Context, sku string, set, expected int64) (int64, error)
	// StaffOrders returns a page of the orders in status, oldest first by
	// the time they entered it, after a queue position (empty: from the
	// oldest), and the position after the page (empty: the last page).
	StaffOrders(ctx context.Context, status order.Status, limit int, after string) ([]order.Order, string, error)
	// StaffOrder returns any customer's order. Errors: order.ErrNotFound.
	StaffOrder(ctx context.Context, id string) (order.Order, error)
}

// Metric names of the orders service.
const (
	MetricPlaced    = "OrdersPlaced"
	MetricCancelled = "OrdersCancelled"
	MetricReplayed  = "IdempotentReplays"
	MetricQuota     = "OrdersOverQuota"
	// MetricCatalogStale counts product answers from a stale catalog copy.
	MetricCatalogStale = "CatalogStaleAnswers"
)

// Config wires the use cases.
type Config struct {
	Store   Store
	Log     *slog.Logger
	Metrics *metrics.Recorder // optional
	NewID   func() string     // ids of orders and events
	Now     func() time.Time  // nil: time.Now
	// OrdersPerHour is each customer's quota of new orders per hour
	// (0: order.DefaultOrdersPerHour).
	OrdersPerHour int
	// CatalogFresh is how long the function uses its copy of the catalog
	// (0 or more than CatalogFresh: CatalogFresh); the local cloud's
	// tests of a price change set less.
	CatalogFresh time.Duration
}

// Service runs the orders use cases.
type Service struct {
	Config

	// The function's copy of the whole catalog, read with one Query and
	// kept for CatalogFresh (catalog.go). It is safe for concurrent
	// requests: one of them reloads an expired copy while the others wait
	// for it.
	loading  sync.Mutex // held while reading the table, so one request reads
	catalog  atomic.Pointer[catalogSnapshot]
	failedAt atomic.Int64 // when the last read of the table failed, in Unix nanoseconds
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.OrdersPerHour = cmp.Or(cfg.OrdersPerHour, order.DefaultOrdersPerHour)
	if cfg.CatalogFresh <= 0 || cfg.CatalogFresh > CatalogFresh {
		cfg.CatalogFresh = CatalogFresh
	}
	return &Service{Config: cfg}
}

// now is the service's clock, in the millisecond precision stored times
// keep.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }
