// Package api is the users service's HTTP API: registration, login, token
// refresh and logout, the JWKS, and the caller's profile and password.
// Handlers decode a request, call one use case of app.Service and render
// its result. The use cases' errors become problems in one table, which
// the router applies.
package api

import (
	"context"
	"log/slog"

	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/metrics"
)

// Config wires the API.
type Config struct {
	Service  *app.Service
	Verifier httpapi.TokenVerifier // checks the access tokens of protected routes
	// Revocations refuses access tokens revoked before they expired.
	// Optional (tests).
	Revocations httpapi.Revocations
	JWKS        []byte // the public signing keys, rendered once at cold start
	Version     string
	// Metrics is flushed after every request; the service counts into it.
	// Optional.
	Metrics *metrics.Recorder
}

// API serves the users routes.
type API struct{ Config }

// New returns the API.
func New(cfg Config) *API { return &API{cfg} }

// Routes registers the API's routes on r.
func (a *API) Routes(r *httpapi.Router) {
	r.Public("GET /v1/health", a.health)
	r.Public("GET /.well-known/jwks.json", a.jwks)
	// The costly public routes count against the client's address, per
	// second and per hour. Login has its own throttles (app.Service.Login:
	// per second and per failure for an address, but not for the device
	// of an earlier login); refresh is limited per session
	// (account.Session.CountRefresh), not per address: the people behind
	// one address must not share a limit to stay signed in.
	r.Public("POST /v1/auth/register", a.mailing(a.perSource(a.register)))
	r.Public("POST /v1/auth/login", a.login)
	r.Public("POST /v1/auth/refresh", a.refresh)
	r.Public("POST /v1/auth/verify-email", a.perSource(a.verifyEmail))
	r.Public("POST /v1/auth/cancel-registration", a.perSource(a.cancelRegistration))
	r.Protected("POST /v1/auth/verify-email/resend", a.mailing(a.resendVerification))
	r.Public("POST /v1/auth/password-reset", a.mailing(a.perSource(a.requestPasswordReset)))
	r.Public("POST /v1/auth/password-reset/confirm", a.perSource(a.resetPassword))
	r.Protected("POST /v1/auth/logout", a.logout)
	r.Protected("GET /v1/users/me", a.me)
	r.Protected("PATCH /v1/users/me", a.updateMe)
	r.Protected("POST /v1/users/me/password", a.changePassword)
}

// perSource counts each request against its source address, per second
// and per hour, before h runs, whatever it carries: a flood of invalid
// requests is limited too.
func (a *API) perSource(h httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		if err := a.Service.CountSourceRequest(ctx, r.SourceIP()); err != nil {
			return nil, err
		}
		return h(ctx, r)
	}
}

// mailing refuses a request that would mail an account email while account
// mail is paused (app.Service.CheckAccountMail), before anything else runs:
// a paused route writes nothing, not even the count of its address.
func (a *API) mailing(h httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		if err := a.Service.CheckAccountMail(ctx); err != nil {
			return nil, err
		}
		return h(ctx, r)
	}
}

// NewHandler returns the Lambda handler serving the API.
func NewHandler(log *slog.Logger, cfg Config) *httpapi.Router {
	r := httpapi.NewRouter(log, cfg.Verifier).WithErrors(errorTable).WithMetrics(cfg.Metrics)
	if cfg.Revocations != nil {
		r.WithRevocations(cfg.Revocations)
	}
	New(cfg).Routes(r)
	return r
}
