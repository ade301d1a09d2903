// Package api is the reviews service's HTTP API.
package api

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/serverless-shop/backend/shared/web"
)

// Counter counts a customer's reviews.
type Counter interface {
	Count(ctx context.Context, customer string) (int, error)
}

// Config wires the API.
type Config struct {
	Reviews     Counter           // nil: none (tests)
	Verifier    web.TokenVerifier // checks the access tokens of protected routes
	Revocations web.Revocations   // refuses revoked tokens; optional (tests)
}

// NewHandler returns the service's API: the routes on a web.Server.
func NewHandler(log *slog.Logger, cfg Config) *web.Server {
	s := web.New(web.Config{Log: log, Verifier: cfg.Verifier, Revocations: cfg.Revocations})
	s.Protected("GET /v1/reviews", func(w http.ResponseWriter, r *http.Request) error {
		n := 0
		if cfg.Reviews != nil {
			var err error
			if n, err = cfg.Reviews.Count(r.Context(), web.Caller(r).UserID); err != nil {
				return err
			}
		}
		return web.JSON(w, http.StatusOK, map[string]int{"count": n})
	})
	return s
}
