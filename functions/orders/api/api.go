// Package api is the orders service's HTTP API: the public product catalog
// and the caller's orders. Handlers decode a request, call one use case
// (package app) and render its result; what the domain's errors mean to a
// client is decided once, in problemOf.
package api

import (
	"context"
	"errors"
	"log/slog"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/web"
)

// Config wires the API.
type Config struct {
	Service  *app.Service
	Verifier web.TokenVerifier // checks the access tokens of protected routes
	// Revocations refuses access tokens revoked before they expired.
	// Optional (tests).
	Revocations web.Revocations
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

// NewHandler returns the service's API: the routes on a web.Server.
func NewHandler(log *slog.Logger, cfg Config) (*web.Server, error) {
	a := &API{orders: cfg.Service, cursors: &cursorKey{load: cfg.LoadCursorKey}}
	if cfg.LoadCursorKey == nil {
		if err := checkCursorKey(cfg.CursorKey); err != nil {
			return nil, err
		}
		a.cursors = &cursorKey{codec: &cursorCodec{key: cfg.CursorKey}}
	}
	s := web.New(web.Config{Log: log, Verifier: cfg.Verifier, Revocations: cfg.Revocations, Metrics: cfg.Metrics, Errors: problemOf})
	s.Public("GET /v1/products", a.listProducts)
	s.Public("GET /v1/products/{sku}", a.getProduct)
	s.Protected("POST /v1/orders", a.createOrder)
	s.Protected("GET /v1/orders", a.listOrders)
	s.Protected("GET /v1/orders/{id}", a.getOrder)
	s.Protected("POST /v1/orders/{id}/cancel", a.cancelOrder)
	s.Protected("POST /v1/orders/{id}/reorder", a.reorder)
	return s, nil
}

// sentinels are what the orders domain's sentinel errors mean to a client.
var sentinels = problem.Table{
	{Is: order.ErrNotFound, Kind: problem.NotFound, Detail: "No such order."},
	{Is: order.ErrProductNotFound, Kind: problem.NotFound, Detail: "No such product."},
	{Is: order.ErrEmailUnverified, Kind: problem.Forbidden, Slug: "email-unverified", Detail: "Verify your email address before ordering: follow the link we mailed you, or ask for a new one."},
	{Is: order.ErrNotCancellable, Kind: problem.Conflict, Slug: "order-not-cancellable", Detail: "The order can no longer be cancelled."},
	{Is: order.ErrIdempotencyBusy, Kind: problem.Conflict, Slug: "idempotency-key-in-use", Detail: "A request with this Idempotency-Key is still being processed; retry later."},
	{Is: order.ErrIdempotencyReuse, Kind: problem.Unprocessable, Slug: "idempotency-key-reused", Detail: "This Idempotency-Key was used with a different request."},
}

// problemOf is what the orders domain's errors mean to a client: the one
// place where they become the application error (web.Config.Errors).
func problemOf(err error) error {
	var invalid order.InvalidError
	var unprocessable order.UnprocessableError
	var over order.QuotaError
	switch {
	case errors.As(err, &invalid):
		return &problem.Error{Kind: problem.Invalid, Slug: "validation", Detail: "The request has invalid fields.", Fields: fields(invalid), Err: err}
	case errors.As(err, &unprocessable):
		return &problem.Error{Kind: problem.Unprocessable, Slug: "unknown-product", Detail: "Some items cannot be ordered.", Fields: fields(unprocessable), Err: err}
	case errors.As(err, &over):
		return &problem.Error{Kind: problem.TooManyRequests, Slug: "order-quota", RetryAfter: over.RetryAfter, Err: err,
			Detail: "You have placed as many orders as an hour allows. Try again after the time Retry-After gives."}
	}
	return sentinels.Map(err)
}

func fields(errs []order.FieldError) []problem.FieldError {
	out := make([]problem.FieldError, len(errs))
	for i, f := range errs {
		out[i] = problem.FieldError{Field: f.Field, Message: f.Message}
	}
	return out
}
