// Package httpapi turns API Gateway HTTP API events into handler calls and
// handler results into responses: routing on the route key API Gateway
// matched, strict JSON decoding, the correlation id, the caller's identity,
// one access log line per request, and RFC 9457 problems for every error.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
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

// Router dispatches on the route key ("GET /v1/orders/{id}") that API Gateway
// matched, so the paths live in one place: the template.
type Router struct {
	routes  map[string]route
	log     *slog.Logger
	metrics *metrics.Recorder // flushed after every request; may be nil
	now     func() time.Time
}

// NewRouter returns a router that logs to log.
func NewRouter(log *slog.Logger) *Router {
	return &Router{routes: map[string]route{}, log: log, now: time.Now}
}

// WithMetrics makes the router flush m, which the handlers count into,
// after every request.
func (rt *Router) WithMetrics(m *metrics.Recorder) *Router {
	rt.metrics = m
	return rt
}

// Public registers a route that needs no caller identity.
func (rt *Router) Public(routeKey string, h Handler) { rt.add(routeKey, h, false) }

// Protected registers a route whose requests carry the authorizer's principal.
func (rt *Router) Protected(routeKey string, h Handler) { rt.add(routeKey, h, true) }

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
// reused as the correlation id; anything else is replaced.
var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{8,128}$`)

// Handle is the Lambda handler for the API's events.
func (rt *Router) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := rt.now()
	corr := ev.Headers["x-request-id"]
	if !safeRequestID.MatchString(corr) {
		corr = ev.RequestContext.RequestID
	}
	ctx = logging.With(ctx, slog.String(logging.KeyCorrelationID, corr))
	req := &Request{Event: ev, CorrelationID: corr, Log: rt.log}

	resp, err := rt.dispatch(ctx, req)
	if err != nil {
		resp = rt.problemResponse(ctx, req, err)
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: map[string]string{}}
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
		slog.String("route", ev.RouteKey),
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
	r, ok := rt.routes[req.Event.RouteKey]
	if !ok {
		return nil, problem.Newf(problem.NotFound, "No route %s.", req.Event.RouteKey)
	}
	if r.protected {
		p, err := callerOf(req.Event, rt.now())
		if err != nil {
			return nil, err
		}
		req.Principal = &p
	}
	resp, err = r.handler(ctx, req)
	if resp == nil && err == nil {
		err = fmt.Errorf("handler for %s returned neither a response nor an error", req.Event.RouteKey)
	}
	return resp, err
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func callerOf(ev events.APIGatewayV2HTTPRequest, now time.Time) (principal.Principal, error) {
	var ctx map[string]any
	if ev.RequestContext.Authorizer != nil {
		ctx = ev.RequestContext.Authorizer.Lambda
	}
	p, err := principal.FromContext(ctx, now)
	if err != nil {
		return p, problem.New(problem.Unauthenticated, "A valid access token is required.").WithSlug(slugInvalidToken).WithCause(err)
	}
	return p, nil
}

func (rt *Router) problemResponse(ctx context.Context, req *Request, err error) *Response {
	details, perr, internal := problem.From(err, req.Event.RawPath)
	if internal {
		rt.log.ErrorContext(ctx, "request failed", slog.String("route", req.Event.RouteKey), slog.String(logging.KeyError, err.Error()))
	} else if perr.Err != nil {
		rt.log.WarnContext(ctx, "request rejected", slog.String("route", req.Event.RouteKey), slog.Int("status", details.Status), slog.String(logging.KeyError, perr.Err.Error()))
	}
	resp, mErr := JSON(details.Status, details)
	if mErr != nil { // cannot happen: Details has only plain fields
		return &Response{Status: http.StatusInternalServerError}
	}
	resp.Headers["Content-Type"] = problem.ContentType
	if perr != nil && perr.RetryAfter > 0 {
		resp.Headers["Retry-After"] = retryAfterSeconds(perr.RetryAfter.Seconds())
	}
	if perr != nil && perr.Slug == slugInvalidToken {
		resp.Headers["WWW-Authenticate"] = `Bearer error="invalid_token"`
	}
	return resp
}
