// Package api is the users service's HTTP API: registration, login, token
// refresh and logout, the JWKS, and the caller's profile and password.
// Handlers decode a request, call one use case of app.Service and render
// its result; what the use cases' sentinel errors mean to a client is
// decided once, in problemOf.
package api

import (
	"log/slog"
	"net/http"

	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/web"
)

// Config wires the API.
type Config struct {
	Service  *app.Service
	Verifier web.TokenVerifier // checks the access tokens of protected routes
	// Revocations refuses access tokens revoked before they expired.
	// Optional (tests).
	Revocations web.Revocations
	JWKS        []byte // the public signing keys, rendered once at cold start
	Version     string
	// Metrics is flushed after every request; the service counts into it.
	// Optional.
	Metrics *metrics.Recorder
}

// API serves the users routes.
type API struct{ Config }

// NewHandler returns the service's API: the routes on a web.Server.
func NewHandler(log *slog.Logger, cfg Config) *web.Server {
	a := &API{cfg}
	s := web.New(web.Config{Log: log, Verifier: cfg.Verifier, Revocations: cfg.Revocations, Metrics: cfg.Metrics, Errors: problemOf})
	s.Public("GET /v1/health", a.health)
	s.Public("GET /.well-known/jwks.json", a.jwks)
	// The costly public routes count against the client's address, per
	// second and per hour. Login has its own throttles (app.Service.Login:
	// per second and per failure for an address, but not for the device
	// of an earlier login); refresh is limited per session
	// (account.Session.CountRefresh), not per address: the people behind
	// one address must not share a limit to stay signed in.
	s.Public("POST /v1/auth/register", all(a.mailing, a.perSource, web.WithBody(a.register)))
	s.Public("POST /v1/auth/login", web.WithBody(a.login))
	s.Public("POST /v1/auth/refresh", web.WithBody(a.refresh))
	s.Public("POST /v1/auth/verify-email", all(a.perSource, web.WithBody(a.verifyEmail)))
	s.Public("POST /v1/auth/cancel-registration", all(a.perSource, web.WithBody(a.cancelRegistration)))
	s.Protected("POST /v1/auth/verify-email/resend", all(a.mailing, a.resendVerification))
	s.Public("POST /v1/auth/password-reset", all(a.mailing, a.perSource, web.WithBody(a.requestPasswordReset)))
	s.Public("POST /v1/auth/password-reset/confirm", all(a.perSource, web.WithBody(a.resetPassword)))
	s.Protected("POST /v1/auth/logout", web.WithBody(a.logout))
	s.Protected("GET /v1/users/me", a.me)
	s.Protected("PATCH /v1/users/me", a.updateMe)
	s.Protected("POST /v1/users/me/password", web.WithBody(a.changePassword))
	return s
}

// all runs hs in turn, up to the first that fails: the checks of a route
// (mailing, perSource), then its handler.
func all(hs ...web.HandlerFunc) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		for _, h := range hs {
			if err := h(w, r); err != nil {
				return err
			}
		}
		return nil
	}
}

// perSource counts each request against its source address (its
// RemoteAddr: API Gateway's source IP, see web.Request), per second and
// per hour, before the route's handler runs, whatever it carries: a flood
// of invalid requests is limited too.
func (a *API) perSource(_ http.ResponseWriter, r *http.Request) error {
	return a.Service.CountSourceRequest(r.Context(), r.RemoteAddr)
}

// mailing refuses a request that would mail an account email while account
// mail is paused (app.Service.CheckAccountMail), before anything else runs:
// a paused route writes nothing, not even the count of its address.
func (a *API) mailing(_ http.ResponseWriter, r *http.Request) error {
	return a.Service.CheckAccountMail(r.Context())
}
