// Package api is the orders service's HTTP API: the public product catalog
// and the caller's orders. Handlers decode a request, call one use case
// (package app) and render its result; what the domain's errors mean to a
// client is decided once, in errorTable.
package api

import (
	"context"
	"errors"
	"log/slog"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/problem"
)

// Config wires the API.
type Config struct {
	Service  *app.Service
	Verifier httpapi.TokenVerifier // checks the access tokens of protected routes
	// Revocations refuses access tokens revoked before they expired.
	// Optional (tests).
	Revocations httpapi.Revocations
	CursorKey   []byte // HMAC key for pagination cursors, at least 32 bytes
	// LoadCursorKey, when set instead of CursorKey, loads that key the
	// first time a route needs it (GET /v1/orders), so that a cold start
	// makes no network call for a key most requests never use.
	LoadCursorKey func(context.Context) ([]byte, error)
	Metrics       *metrics.Recorder // flushed after every request; optional
}

// API serves the orders routes.
type API struct {
	orders  *app.Service
	cursors *cursorKey
}

// New returns the API.
func New(cfg Config) (*API, error) {
	if cfg.LoadCursorKey != nil {
		return &API{orders: cfg.Service, cursors: &cursorKey{load: cfg.LoadCursorKey}}, nil
	}
	if err := checkCursorKey(cfg.CursorKey); err != nil {
		return nil, err
	}
	return &API{orders: cfg.Service, cursors: &cursorKey{codec: &cursorCodec{key: cfg.CursorKey}}}, nil
}

// Routes registers the API's routes on r.
func (a *API) Routes(r *httpapi.Router) {
	r.Public("GET /v1/products", a.listProducts)
	r.Public("GET /v1/products/{sku}", a.getProduct)
	r.Protected("POST /v1/orders", a.createOrder)
	r.Protected("GET /v1/orders", a.listOrders)
	r.Protected("GET /v1/orders/{id}", a.getOrder)
	r.Protected("POST /v1/orders/{id}/cancel", a.cancelOrder)
	r.Protected("POST /v1/orders/{id}/reorder", a.reorder)
}

// NewHandler returns the Lambda handler serving the API.
func NewHandler(log *slog.Logger, cfg Config) (*httpapi.Router, error) {
	a, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r := httpapi.NewRouter(log, cfg.Verifier).WithErrors(errorTable).WithMetrics(cfg.Metrics)
	if cfg.Revocations != nil {
		r.WithRevocations(cfg.Revocations)
	}
	a.Routes(r)
	return r, nil
}

// errorTable is what the orders domain's errors mean to a client.
var errorTable = problem.Table{
	{As: fields[order.InvalidError], Kind: problem.Invalid, Slug: "validation", Detail: "The request has invalid fields."},
	{As: fields[order.UnprocessableError], Kind: problem.Unprocessable, Slug: "unknown-product", Detail: "Some items cannot be ordered."},
	{Is: order.ErrNotFound, Kind: problem.NotFound, Detail: "No such order."},
	{Is: order.ErrProductNotFound, Kind: problem.NotFound, Detail: "No such product."},
	{Is: order.ErrEmailUnverified, Kind: problem.Forbidden, Slug: "email-unverified", Detail: "Verify your email address before ordering: follow the link we mailed you, or ask for a new one."},
	{Is: order.ErrNotCancellable, Kind: problem.Conflict, Slug: "order-not-cancellable", Detail: "The order can no longer be cancelled."},
	{Is: order.ErrIdempotencyBusy, Kind: problem.Conflict, Slug: "idempotency-key-in-use", Detail: "A request with this Idempotency-Key is still being processed; retry later."},
	{Is: order.ErrIdempotencyReuse, Kind: problem.Unprocessable, Slug: "idempotency-key-reused", Detail: "This Idempotency-Key was used with a different request."},
	{As: quota, Kind: problem.TooManyRequests, Slug: "order-quota", Detail: "You have placed as many orders as an hour allows. Try again after the time Retry-After gives."},
}

// quota matches a reached order quota and says when it lifts.
func quota(err error, p *problem.Error) bool {
	var over order.QuotaError
	if !errors.As(err, &over) {
		return false
	}
	p.RetryAfter = over.RetryAfter
	return true
}

// fields matches a domain error of type E, a list of fields, and puts its
// fields on the problem.
func fields[E interface {
	~[]order.FieldError
	error
}](err error, p *problem.Error) bool {
	var e E
	if !errors.As(err, &e) {
		return false
	}
	for _, f := range e {
		p.Fields = append(p.Fields, problem.FieldError{Field: f.Field, Message: f.Message})
	}
	return true
}
