// Package app is the orders service's use cases: browsing the catalog and
// placing, reading, listing and cancelling a customer's orders. It decides
// what happens and in what order; the domain (package order) says what is
// valid, the store keeps it, and the HTTP layer only translates.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/metrics"
)

// Store is the persistence the use cases need; the orders store
// (functions/orders/store) implements it.
type Store interface {
	// Products returns the whole catalog, ordered by SKU.
	Products(ctx context.Context) ([]order.Product, error)
	// Product returns one product, or order.ErrNotFound.
	Product(ctx context.Context, sku string) (order.Product, error)
	// ProductsBySKU returns the named products; unknown SKUs are absent.
	ProductsBySKU(ctx context.Context, skus []string) (map[string]order.Product, error)
	// ClaimKey claims an idempotency key. It returns the order an earlier
	// request placed with it, order.ErrIdempotencyReuse or
	// order.ErrIdempotencyBusy.
	ClaimKey(ctx context.Context, c order.Claim, now time.Time) (*order.Order, error)
	// ReleaseKey gives a claimed key up.
	ReleaseKey(ctx context.Context, c order.Claim) error
	// CreateOrder stores an order, its event and (with a claim) the
	// completed key at once, counting the order against quota, or answers
	// order.QuotaError or order.ErrIdempotencyBusy.
	CreateOrder(ctx context.Context, o order.Order, ev events.OrderEvent, claim *order.Claim, quota order.Quota) error
	// Order returns the customer's order, or order.ErrNotFound.
	Order(ctx context.Context, customerID, id string) (order.Order, error)
	// Orders returns a page of the customer's orders, newest first.
	Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error)
	// UpdateOrder changes the customer's order with optimistic
	// concurrency, or answers order.ErrConcurrentWrite.
	UpdateOrder(ctx context.Context, customerID, id string, change order.Change) (order.Order, error)
}

// Metric names of the orders service.
const (
	MetricPlaced    = "OrdersPlaced"
	MetricCancelled = "OrdersCancelled"
	MetricReplayed  = "IdempotentReplays"
	MetricQuota     = "OrdersOverQuota"
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
}

// Service runs the orders use cases.
type Service struct{ Config }

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OrdersPerHour == 0 {
		cfg.OrdersPerHour = order.DefaultOrdersPerHour
	}
	return &Service{cfg}
}

// now is the service's clock, in the millisecond precision stored times
// keep.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }
