// Package api is the orders service's HTTP API: the public product catalog
// and the caller's orders. Handlers decode a request, call one use case
// (package app), or the service's store for a page or list that is a plain
// read, and render its result; what the domain's errors mean to a client
// is decided once, in problemOf.
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
	// LoadCursorKey loads the HMAC key of pagination cursors, at least 32
	// bytes, the first time a route needs it (GET /v1/orders), so that a
	// cold start makes no network call for a key most requests never use.
	LoadCursorKey func(context.Context) ([]byte, error)
	Metrics       *metrics.Recorder // flushed after every request; optional
}

// API serves the orders routes.
type API struct {
	orders  *app.Service
	cursors *cursorKey
}

// NewHandler returns the service's API: the routes on a web.Server.
func NewHandler(log *slog.Logger, cfg Config) *web.Server {
	a := &API{orders: cfg.Service, cursors: &cursorKey{load: cfg.LoadCursorKey}}
	s := web.New(web.Config{Log: log, Verifier: cfg.Verifier, Revocations: cfg.Revocations, Metrics: cfg.Metrics, Errors: problemOf})
	s.Public("GET /v1/products", a.listProducts)
	s.Public("GET /v1/products/{sku}", a.getProduct)
	s.Protected("POST /v1/orders", web.WithBody(a.createOrder))
	s.Protected("GET /v1/orders", a.listOrders)
	s.Protected("GET /v1/orders/{id}", a.getOrder)
	s.Protected("POST /v1/orders/{id}/cancel", a.cancelOrder)
	s.Protected("POST /v1/orders/{id}/reorder", a.reorder)
	s.Staff("GET /v1/admin/products", a.staffProducts)
	s.Staff("POST /v1/admin/products", web.WithBody(a.createProduct))
	s.Staff("GET /v1/admin/products/{sku}", a.staffProduct)
	s.Staff("PATCH /v1/admin/products/{sku}", web.WithBody(a.updateProduct))
	s.Staff("POST /v1/admin/products/{sku}/stock", web.WithBody(a.changeStock))
	s.Staff("GET /v1/admin/orders", a.staffOrders)
	s.Staff("GET /v1/admin/orders/{id}", a.staffOrder)
	s.Staff("POST /v1/admin/orders/{id}/confirm", a.transition(order.Confirm()))
	s.Staff("POST /v1/admin/orders/{id}/ship", web.WithBody(a.shipOrder))
	s.Staff("POST /v1/admin/orders/{id}/deliver", a.transition(order.Deliver()))
	s.Staff("POST /v1/admin/orders/{id}/cancel", web.WithBody(a.staffCancelOrder))
	return s
}

// problems are what the orders domain's sentinel errors mean to a client.
// Invalid and unprocessable items and the quota are *problem.Errors from
// the domain already.
var problems = []struct {
	err error
	is  problem.Error
}{
	{order.ErrNotFound, problem.Error{Kind: problem.NotFound, Detail: "No such order."}},
	{order.ErrProductNotFound, problem.Error{Kind: problem.NotFound, Detail: "No such product."}},
	{order.ErrProductExists, problem.Error{Kind: problem.Conflict, Detail: "A product with this SKU exists (SKUs of archived products are never reused)."}},
	{order.ErrStockBelowZero, problem.Error{Kind: problem.Conflict, Detail: "The change would take the stock below 0; nothing changed."}},
	{order.ErrStockChanged, problem.Error{Kind: problem.Conflict, Detail: "The stock is no longer the expected one; read it again. Nothing changed."}},
	{order.ErrEmailUnverified, problem.Error{Kind: problem.Forbidden, Slug: "email-unverified", Detail: "Verify your email address before ordering: follow the link we mailed you, or ask for a new one."}},
	{order.ErrNotCancellable, problem.Error{Kind: problem.Conflict, Slug: "order-not-cancellable", Detail: "The order can no longer be cancelled."}},
	{order.ErrIllegalTransition, problem.Error{Kind: problem.Conflict, Slug: "illegal-transition", Detail: "The order's status does not allow this change; nothing changed."}},
	{order.ErrIdempotencyBusy, problem.Error{Kind: problem.Conflict, Slug: "idempotency-key-in-use", Detail: "A request with this Idempotency-Key is still being processed; retry later."}},
	{order.ErrIdempotencyReuse, problem.Error{Kind: problem.Unprocessable, Slug: "idempotency-key-reused", Detail: "This Idempotency-Key was used with a different request."}},
}

// problemOf turns the domain's sentinel errors into the application error
// (web.Config.Errors), the one place where it happens (problems).
func problemOf(err error) error {
	for _, p := range problems {
		if errors.Is(err, p.err) {
			e := p.is
			e.Err = err
			return &e
		}
	}
	return err
}
