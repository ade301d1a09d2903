// Package api is the orders service's HTTP API: the public product catalog
// and the caller's orders.
package api

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/problem"
)

// Store is the persistence the API needs; *store.Store implements it.
type Store interface {
	Products(ctx context.Context) ([]order.Product, error)
	Product(ctx context.Context, sku string) (order.Product, error)
	ProductsBySKU(ctx context.Context, skus []string) (map[string]order.Product, error)
	ClaimKey(ctx context.Context, c store.Claim, now time.Time) (*store.Replay, error)
	ReleaseKey(ctx context.Context, c store.Claim) error
	CreateOrder(ctx context.Context, o order.Order, ev events.OrderEvent, completion *store.Completion) error
	Order(ctx context.Context, customerID, id string) (order.Order, error)
	Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error)
	UpdateOrder(ctx context.Context, prev, next order.Order, ev events.OrderEvent) error
}

var _ Store = (*store.Store)(nil)

// Config wires the API.
type Config struct {
	Store     Store
	Verifier  httpapi.TokenVerifier // checks the access tokens of protected routes
	CursorKey []byte                // HMAC key for pagination cursors, at least 32 bytes
	Metrics   *metrics.Recorder     // optional
	NewID     func() string
	Now       func() time.Time
}

// Metric names of the orders service.
const (
	MetricPlaced    = "OrdersPlaced"
	MetricCancelled = "OrdersCancelled"
	MetricReplayed  = "IdempotentReplays"
)

// API serves the orders routes.
type API struct {
	Config
	cursors cursorCodec
}

// New returns the API.
func New(cfg Config) (*API, error) {
	if len(cfg.CursorKey) < 32 {
		return nil, errors.New("orders api: cursor key must be at least 32 bytes")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &API{Config: cfg, cursors: cursorCodec{key: cfg.CursorKey}}, nil
}

// Routes registers the API's routes on r.
func (a *API) Routes(r *httpapi.Router) {
	r.Public("GET /v1/products", a.listProducts)
	r.Public("GET /v1/products/{sku}", a.getProduct)
	r.Protected("POST /v1/orders", a.createOrder)
	r.Protected("GET /v1/orders", a.listOrders)
	r.Protected("GET /v1/orders/{id}", a.getOrder)
	r.Protected("POST /v1/orders/{id}/cancel", a.cancelOrder)
}

// NewHandler returns the Lambda handler serving the API.
func NewHandler(log *slog.Logger, cfg Config) (*httpapi.Router, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r := httpapi.NewRouter(log, cfg.Verifier).WithMetrics(cfg.Metrics)
	a.Routes(r)
	return r, nil
}

// problemFor maps the orders domain's errors to client-facing problems. It
// is the only place where that mapping happens.
func problemFor(err error) error {
	var invalid order.InvalidError
	var unprocessable order.UnprocessableError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalid):
		return problem.Validation(fieldErrors(invalid)...)
	case errors.As(err, &unprocessable):
		p := problem.New(problem.Unprocessable, "Some items cannot be ordered.").WithSlug("unknown-product")
		p.Fields = fieldErrors(unprocessable)
		return p
	case errors.Is(err, order.ErrNotFound):
		return problem.New(problem.NotFound, "No such order.")
	case errors.Is(err, order.ErrNotCancellable):
		return problem.New(problem.Conflict, "The order can no longer be cancelled.").WithSlug("order-not-cancellable")
	case errors.Is(err, order.ErrConcurrentWrite):
		return problem.New(problem.Conflict, "The order changed while the request was processed; read it and retry.").WithSlug("concurrent-modification")
	case errors.Is(err, order.ErrIdempotencyBusy):
		// The cause stays attached: createOrder must still recognise busy
		// after the mapping, so as not to release a key another request holds.
		return problem.New(problem.Conflict, "A request with this Idempotency-Key is still being processed; retry later.").WithSlug("idempotency-key-in-use").WithCause(err)
	case errors.Is(err, order.ErrIdempotencyReuse):
		return problem.New(problem.Unprocessable, "This Idempotency-Key was used with a different request.").WithSlug("idempotency-key-reused")
	default:
		return err
	}
}

func fieldErrors(fs []order.FieldError) []problem.FieldError {
	out := make([]problem.FieldError, len(fs))
	for i, f := range fs {
		out[i] = problem.FieldError{Field: f.Field, Message: f.Message}
	}
	return out
}
