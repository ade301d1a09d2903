// Package httpapi turns API Gateway REST API events (Lambda proxy
// integration) into handler calls and handler results into responses:
// routing on the resource API Gateway matched, strict JSON decoding, the
// correlation id, the caller's identity from a bearer token the service
// verifies itself, one access log line per request, and RFC 9457 problems
// for every error.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/awserr"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// slugInvalidToken is the problem type of a protected request whose access
// token is missing or no longer valid.
const slugInvalidToken = "invalid-token"

// HeaderRequestID carries the correlation id in requests and responses.
const HeaderRequestID = "X-Request-Id"

// Handler handles one route. Errors that are not *problem.Error become 500s.
type Handler func(ctx context.Context, r *Request) (*Response, error)

type route struct {
	handler   Handler
	protected bool
}

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

// Router dispatches on the route key ("GET /v1/orders/{id}": the method and
// the resource API Gateway matched), so the paths live in one place: the
// template.
//
// Protected routes verify the caller's access token here, whether or not
// the gateway's authorizer ran: a route deployed without its authorizer, or
// a gateway that runs none (LocalStack's free plan), still serves no request
// without a valid token. The authorizer stays the cached first line.
type Router struct {
	routes   map[string]route
	log      *slog.Logger
	verifier TokenVerifier
	revoked  Revocations       // nil: tokens are good until they expire
	errors   problem.Table     // the service's domain errors as problems
	metrics  *metrics.Recorder // flushed after every request; may be nil
	now      func() time.Time
}

// NewRouter returns a router that logs to log and checks the access tokens
// of protected routes with v.
func NewRouter(log *slog.Logger, v TokenVerifier) *Router {
	return &Router{routes: map[string]route{}, log: log, verifier: v, now: time.Now}
}

// WithErrors makes the router answer the service's domain errors as the
// table says. Handlers return domain errors; this is the one place they
// become problems.
func (rt *Router) WithErrors(t problem.Table) *Router {
	rt.errors = t
	return rt
}

// WithRevocations makes protected routes refuse tokens that r says were
// revoked (after a logout, a password change or a reset).
func (rt *Router) WithRevocations(r Revocations) *Router {
	rt.revoked = r
	return rt
}

// WithMetrics makes the router flush m, which the handlers count into,
// after every request.
func (rt *Router) WithMetrics(m *metrics.Recorder) *Router {
	rt.metrics = m
	return rt
}

// Public registers a route that needs no caller identity.
func (rt *Router) Public(routeKey string, h Handler) { rt.add(routeKey, h, false) }

// Protected registers a route that serves only callers with a valid access
// token; its handler gets their principal.
func (rt *Router) Protected(routeKey string, h Handler) {
	if rt.verifier == nil {
		panic("httpapi: protected route " + routeKey + " on a router without a token verifier")
	}
	rt.add(routeKey, h, true)
}

func (rt *Router) add(routeKey string, h Handler, protected bool) {
	if _, dup := rt.routes[routeKey]; dup {
		panic("httpapi: duplicate route " + routeKey)
	}
	rt.routes[routeKey] = route{handler: h, protected: protected}
}

// RouteKeys lists the registered route keys, for checks against the template.
func (rt *Router) RouteKeys() []string {
	keys := make([]string, 0, len(rt.routes))
	for k := range rt.routes {
		keys = append(keys, k)
	}
	return keys
}

// IsProtected reports whether routeKey is registered as a protected route.
func (rt *Router) IsProtected(routeKey string) bool { return rt.routes[routeKey].protected }

// safeRequestID is what a client-supplied X-Request-Id must look like to be
// reused as the correlation id; anything else is replaced, and kept only
// as the log attribute clientRequestId (clipped to maxClientRequestID
// bytes), so that a client can still be helped to find its request but
// cannot choose or forge the id that ties logs and events together.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// KeyClientRequestID is the log attribute of an X-Request-Id that was not
// taken as the correlation id.
const KeyClientRequestID = "clientRequestId"

const maxClientRequestID = 128

// Handle is the Lambda handler for the API's events.
func (rt *Router) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	start := rt.now()
	corr, _ := LookupHeader(ev.Headers, HeaderRequestID)
	if !safeRequestID.MatchString(corr) {
		if corr != "" {
			clipped := strings.ToValidUTF8(corr[:min(len(corr), maxClientRequestID)], "\uFFFD")
			ctx = logging.With(ctx, slog.String(KeyClientRequestID, clipped))
		}
		corr = ev.RequestContext.RequestID
	}
	ctx = logging.With(ctx, slog.String(logging.KeyCorrelationID, corr))
	req := &Request{Event: ev, CorrelationID: corr, Log: rt.log}

	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 2*answerMargin {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-answerMargin))
		defer cancel()
	}
	resp, err := rt.dispatch(ctx, req)
	if err != nil {
		resp = rt.problemResponse(ctx, req, err)
	}
	out := events.APIGatewayProxyResponse{StatusCode: resp.Status, Headers: map[string]string{}}
	for k, v := range resp.Headers {
		out.Headers[k] = v
	}
	out.Headers[HeaderRequestID] = corr
	out.Headers["X-Content-Type-Options"] = "nosniff"
	if !hasHeader(out.Headers, "Cache-Control") {
		out.Headers["Cache-Control"] = "no-store"
	}
	out.Body = string(resp.Body)

	attrs := []any{
		slog.String("route", req.RouteKey()),
		slog.Int("status", resp.Status),
		slog.Int64("durationMs", rt.now().Sub(start).Milliseconds()),
	}
	if req.Principal != nil {
		attrs = append(attrs, slog.String(logging.KeyUserID, req.Principal.UserID))
	}
	rt.log.InfoContext(ctx, "request", attrs...)
	if err := rt.metrics.Flush(); err != nil {
		rt.log.WarnContext(ctx, "metrics flush failed", slog.String(logging.KeyError, err.Error()))
	}
	return out, nil
}

func (rt *Router) dispatch(ctx context.Context, req *Request) (resp *Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	key := req.RouteKey()
	r, ok := rt.routes[key]
	if !ok {
		return nil, rt.noRoute(ctx, req)
	}
	if r.protected {
		p, err := rt.caller(ctx, req)
		if err != nil {
			return nil, err
		}
		req.Principal = &p
	}
	resp, err = r.handler(ctx, req)
	if resp == nil && err == nil {
		err = fmt.Errorf("handler for %s returned neither a response nor an error", key)
	}
	return resp, err
}

// noRoute is the answer to a request no route serves. The template routes
// every method of each resource the service serves to it (an ANY method
// beside the resource's own), so that a method the resource does not take
// is a 405 naming the ones it does (RFC 9110, section 15.5.6), not the
// gateway's 404 for a path the API does not have. A resource whose methods
// are all protected asks for a valid token first, as the gateway's
// authorizer on its ANY method does.
func (rt *Router) noRoute(ctx context.Context, req *Request) error {
	allow := rt.Allowed(req.Event.Resource)
	if len(allow) == 0 {
		return problem.Newf(problem.NotFound, "No route %s.", req.RouteKey())
	}
	protected := true
	for _, m := range allow {
		protected = protected && rt.routes[m+" "+req.Event.Resource].protected
	}
	if protected {
		if _, err := rt.caller(ctx, req); err != nil {
			return err
		}
	}
	return &problem.Error{Kind: problem.MethodNotAllowed, Allow: allow,
		Detail: fmt.Sprintf("%s takes %s, not %s.", req.Event.Resource, strings.Join(allow, ", "), req.Event.HTTPMethod)}
}

// Allowed lists the methods registered for a resource path
// ("/v1/orders/{id}"), sorted; none for a path the router does not serve.
func (rt *Router) Allowed(resource string) []string {
	var methods []string
	for key := range rt.routes {
		if method, path, _ := strings.Cut(key, " "); path == resource {
			methods = append(methods, method)
		}
	}
	slices.Sort(methods)
	return methods
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// caller verifies the request's bearer token. When the authorizer ran, its
// decision must be about the same user: a decision served from the
// gateway's cache for another token would be a misconfiguration, never a
// reason to serve someone else.
func (rt *Router) caller(ctx context.Context, req *Request) (principal.Principal, error) {
	refuse := func(err error) (principal.Principal, error) {
		return principal.Principal{}, problem.New(problem.Unauthenticated, "A valid access token is required.").WithSlug(slugInvalidToken).WithCause(err)
	}
	raw, err := token.FromAuthorization(req.Header("Authorization"))
	if err != nil {
		return refuse(err)
	}
	claims, err := rt.verifier.Verify(raw)
	if err != nil {
		return refuse(err)
	}
	if rt.revoked != nil {
		switch err := rt.revoked.Check(ctx, claims); {
		case errors.Is(err, revocation.ErrRevoked):
			return refuse(err)
		case err != nil:
			return principal.Principal{}, &problem.Error{Kind: problem.Unavailable, RetryAfter: 5 * time.Second,
				Detail: "Access tokens cannot be checked right now; retry shortly.", Err: err}
		}
	}
	p := principal.FromClaims(claims)
	if auth := req.Event.RequestContext.Authorizer; len(auth) > 0 {
		if decided, err := principal.FromContext(auth, rt.now()); err == nil && decided.UserID != p.UserID {
			return refuse(fmt.Errorf("authorizer decided for user %s, token is user %s", decided.UserID, p.UserID))
		}
	}
	return p, nil
}

// UnavailableRetryAfter is the Retry-After of a 503 answered because a
// dependency is unavailable: long enough for a throttled table or key to
// recover, short enough that a client retrying it is served soon.
const UnavailableRetryAfter = 5 * time.Second

// answerMargin is what a request keeps of the function's time to answer
// when its dependencies are too slow: handlers run under a deadline this
// much before Lambda's, so a dependency that hangs ends in a 503 instead
// of a function timeout (which API Gateway answers with a bare 502).
const answerMargin = time.Second

// unavailable turns a failure of the service's dependencies that retrying
// later can cure (see awserr.Unavailable) into a 503 problem; anything
// else passes unchanged.
func unavailable(err error) error {
	var known *problem.Error
	if errors.As(err, &known) || !awserr.Unavailable(err) {
		return err
	}
	return &problem.Error{Kind: problem.Unavailable, RetryAfter: UnavailableRetryAfter,
		Detail: "The service cannot complete the request right now; retry after the time Retry-After gives.", Err: err}
}

func (rt *Router) problemResponse(ctx context.Context, req *Request, err error) *Response {
	err = unavailable(rt.errors.Map(err))
	details, perr, internal := problem.From(err, req.Event.Path)
	details.RequestID = req.CorrelationID
	if internal {
		rt.log.ErrorContext(ctx, "request failed", slog.String("route", req.RouteKey()), slog.String(logging.KeyError, err.Error()))
	} else if perr.Kind == problem.Unavailable {
		rt.log.WarnContext(ctx, "dependency unavailable; answered 503", slog.String("route", req.RouteKey()), slog.String(logging.KeyError, perr.Error()))
	} else if perr.Err != nil {
		// A client's mistake, already counted in the access line's status;
		// the domain error behind it helps when debugging a client.
		rt.log.DebugContext(ctx, "request rejected", slog.String("route", req.RouteKey()), slog.Int("status", details.Status), slog.String(logging.KeyError, perr.Err.Error()))
	}
	resp, mErr := JSON(details.Status, details)
	if mErr != nil { // cannot happen: Details has only plain fields
		return &Response{Status: http.StatusInternalServerError}
	}
	resp.Headers["Content-Type"] = problem.ContentType
	if perr != nil && perr.RetryAfter > 0 {
		resp.Headers["Retry-After"] = retryAfterSeconds(perr.RetryAfter.Seconds())
	}
	if perr != nil && len(perr.Allow) > 0 {
		resp.Headers["Allow"] = strings.Join(perr.Allow, ", ")
	}
	if perr != nil && perr.Slug == slugInvalidToken {
		resp.Headers["WWW-Authenticate"] = `Bearer error="invalid_token"`
	}
	return resp
}
