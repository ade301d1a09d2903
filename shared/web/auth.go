package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// slugInvalidToken is the problem type of a protected request whose access
// token is missing or no longer valid.
const slugInvalidToken = "invalid-token"

// TokenVerifier checks a bearer access token; *token.Verifier implements it.
type TokenVerifier interface {
	Verify(raw string) (token.Claims, error)
}

// Revocations says whether a verified token was revoked before it expired;
// *revocation.Checker implements it. It returns revocation.ErrRevoked for a
// revoked token and revocation.ErrUnavailable when it cannot tell.
type Revocations interface {
	Check(ctx context.Context, c token.Claims) error
}

type callerKey struct{}

// Caller is the verified caller of a protected route. On a public route
// it panics (answered as an internal error): routes are registered as
// protected or public, and a protected handler never runs without a
// caller, so reaching it is a wiring bug.
func Caller(r *http.Request) principal.Principal {
	return r.Context().Value(callerKey{}).(principal.Principal)
}

// authenticate serves only requests with a valid access token, and tells
// next who sent them (Caller); with staff, only those of staff members
// (principal.IsStaff). Protected routes verify the token here, whether or
// not the gateway's authorizer ran: a route deployed without its
// authorizer, or a gateway that runs none (LocalStack's free plan), still
// serves no request without a valid token, and the service checks the
// role itself, whatever the authorizer decided. The authorizer stays the
// cached first line. Every staff action is logged with who did it (the
// correlation id is on every line), beside the access line.
func (s *Server) authenticate(next http.Handler, staff bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.caller(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		x := exchangeOf(r)
		x.userID = p.UserID
		if staff && !p.IsStaff() {
			s.fail(w, r, &problem.Error{Kind: problem.Forbidden, Detail: "This route is for the shop's staff."})
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, p)))
		if staff {
			s.cfg.Log.InfoContext(r.Context(), "staff action", slog.String("route", x.route),
				slog.String("path", r.URL.Path), slog.Int("status", x.status), slog.String(logging.KeyUserID, x.userID))
		}
	})
}

// caller verifies the request's bearer token, and that it was not revoked.
// When the gateway's authorizer ran, its decision must be about the same
// user: a decision served from the gateway's cache for another token would
// be a misconfiguration, never a reason to serve someone else.
func (s *Server) caller(r *http.Request) (principal.Principal, error) {
	refuse := func(err error) (principal.Principal, error) {
		return principal.Principal{}, &problem.Error{Kind: problem.Unauthenticated, Slug: slugInvalidToken, Detail: "A valid access token is required.", Err: err}
	}
	raw, err := token.FromAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return refuse(err)
	}
	claims, err := s.cfg.Verifier.Verify(raw)
	if err != nil {
		return refuse(err)
	}
	if s.cfg.Revocations != nil {
		switch err := s.cfg.Revocations.Check(r.Context(), claims); {
		case errors.Is(err, revocation.ErrRevoked):
			return refuse(err)
		case err != nil:
			return principal.Principal{}, &problem.Error{Kind: problem.Unavailable, RetryAfter: UnavailableRetryAfter,
				Detail: "Access tokens cannot be checked right now; retry shortly.", Err: err}
		}
	}
	p := principal.FromClaims(claims)
	if auth := gatewayContext(r).Authorizer; len(auth) > 0 {
		if decided, err := principal.FromContext(auth, time.Now()); err == nil && decided.UserID != p.UserID {
			return refuse(fmt.Errorf("authorizer decided for user %s, token is user %s", decided.UserID, p.UserID))
		}
	}
	return p, nil
}
