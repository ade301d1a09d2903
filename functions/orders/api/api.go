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
	s.Staff("POST /v1/admin/orders/{id}/confirm", a.confirmOrder)
	s.Staff("POST /v1/admin/orders/{id}/ship", web.WithBody(a.shipOrder))
	s.Staff("POST /v1/admin/orders/{id}/deliver", a.deliverOrder)
	s.Staff("POST /v1/admin/orders/{id}/cancel", web.WithBody(a.staffCancelOrder))
	return s, nil
}

// problemOf is what the orders domain's sentinel errors mean to a client:
// the one place where they become the application error
// (web.Config.Errors). Invalid and unprocessable items and the quota are
// *problem.Errors from the domain already.
func problemOf(err error) error {
	p := func(kind problem.Kind, slug, detail string) error {
		return &problem.Error{Kind: kind, Slug: slug, Detail: detail, Err: err}
	}
	switch {
	case errors.Is(err, order.ErrNotFound):
		return p(problem.NotFound, "", "No such order.")
	case errors.Is(err, order.ErrProductNotFound):
		return p(problem.NotFound, "", "No such product.")
	case errors.Is(err, order.ErrProductExists):
		return p(problem.Conflict, "", "A product with this SKU exists (SKUs of archived products are never reused).")
	case errors.Is(err, order.ErrStockBelowZero):
		return p(problem.Conflict, "", "The change would take the stock below 0; nothing changed.")
	case errors.Is(err, order.ErrStockChanged):
		return p(problem.Conflict, "", "The stock is no longer the expected one; read it again. Nothing changed.")
	case errors.Is(err, order.ErrEmailUnverified):
		return p(problem.Forbidden, "email-unverified", "Verify your email address before ordering: follow the link we mailed you, or ask for a new one.")
	case errors.Is(err, order.ErrNotCancellable):
		return p(problem.Conflict, "order-not-cancellable", "The order can no longer be cancelled.")
	case errors.Is(err, order.ErrIllegalTransition):
		return p(problem.Conflict, "illegal-transition", "The order's status does not allow this change; nothing changed.")
	case errors.Is(err, order.ErrIdempotencyBusy):
		return p(problem.Conflict, "idempotency-key-in-use", "A request with this Idempotency-Key is still being processed; retry later.")
	case errors.Is(err, order.ErrIdempotencyReuse):
		return p(problem.Unprocessable, "idempotency-key-reused", "This Idempotency-Key was used with a different request.")
	}
	return err
}
