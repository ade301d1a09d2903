// Package authz is the Lambda authorizer of the HTTP API: it turns the
// bearer token of a request into an allow or deny decision and, on allow,
// into the principal the services receive.
//
// The decision depends on the Authorization header only, never on the
// route, because API Gateway caches it per header value and reuses it for
// every route the authorizer guards.
package authz

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

// Verifier checks an access token; *token.Verifier implements it.
type Verifier interface {
	Verify(raw string) (token.Claims, error)
}

// Authorizer decides on requests. It makes no network calls.
type Authorizer struct {
	verifier Verifier
	log      *slog.Logger
}

// New returns an authorizer.
func New(v Verifier, log *slog.Logger) *Authorizer { return &Authorizer{verifier: v, log: log} }

// maxHeaderBytes bounds the Authorization header the authorizer looks at.
const maxHeaderBytes = len("Bearer ") + token.MaxTokenBytes

var errNoBearer = errors.New("authorization header is not a bearer token")

// Handle is the Lambda handler. It never returns an error: API Gateway would
// answer a 500, and a bad token is the client's problem, not the server's.
func (a *Authorizer) Handle(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	ctx = logging.With(ctx, slog.String(logging.KeyCorrelationID, ev.RequestContext.RequestID))
	claims, err := a.verify(ev.Headers["authorization"])
	if err != nil {
		a.log.InfoContext(ctx, "access denied", slog.String("reason", err.Error()), slog.String("route", ev.RouteKey))
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}, nil
	}
	p := principal.Principal{
		UserID: claims.Subject, Email: claims.Email, Name: claims.Name,
		// The services re-check expiry on every request, because API Gateway
		// may serve this decision from its cache after the token expired.
		ExpiresAt: claims.ExpiresAt.Add(token.Leeway),
	}
	a.log.DebugContext(ctx, "access granted", slog.String(logging.KeyUserID, p.UserID))
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: p.Context()}, nil
}

func (a *Authorizer) verify(header string) (token.Claims, error) {
	if len(header) > maxHeaderBytes {
		return token.Claims{}, token.ErrMalformed
	}
	scheme, raw, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return token.Claims{}, errNoBearer
	}
	return a.verifier.Verify(raw)
}
