package httpapi

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/web"
)

// MaxBodyBytes bounds every JSON request body (web.MaxBodyBytes).
const MaxBodyBytes = web.MaxBodyBytes

// Request is one API Gateway REST API request (Lambda proxy integration,
// payload format 1.0).
type Request struct {
	Event         events.APIGatewayProxyRequest
	CorrelationID string               // X-Request-Id of the response, in every log line
	Principal     *principal.Principal // set on protected routes only
	Log           *slog.Logger
}

// RouteKey is the route API Gateway matched, "GET /v1/orders/{id}": the
// method and the resource path of the template.
func (r *Request) RouteKey() string { return r.Event.HTTPMethod + " " + r.Event.Resource }

// Header returns the value of a request header. REST APIs pass header names
// as the client sent them, so the lookup ignores case.
func (r *Request) Header(name string) string {
	v, _ := r.LookupHeader(name)
	return v
}

// LookupHeader returns the value of a request header and whether the
// request carries it at all.
func (r *Request) LookupHeader(name string) (string, bool) {
	return LookupHeader(r.Event.Headers, name)
}

// LookupHeader finds a header in a map of API Gateway's REST events, whose
// names keep the case the client sent.
func LookupHeader(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// PathParam returns a path parameter of the route, e.g. "id" in /v1/orders/{id}.
func (r *Request) PathParam(name string) string {
	return r.Event.PathParameters[name]
}

// Query returns a query string parameter and whether it is present.
func (r *Request) Query(name string) (string, bool) {
	v, ok := r.Event.QueryStringParameters[name]
	return v, ok
}

// SourceIP is the address of the client as API Gateway saw it: the
// source of the connection to API Gateway, which a client cannot set
// (unlike X-Forwarded-For). "" when the event does not say.
func (r *Request) SourceIP() string { return r.Event.RequestContext.Identity.SourceIP }

// Caller returns the authenticated principal of a protected route.
func (r *Request) Caller() principal.Principal {
	if r.Principal == nil {
		// Routes are registered as protected or public; a protected handler
		// never runs without a principal. Reaching this is a wiring bug.
		panic("httpapi: Caller called on a public route")
	}
	return *r.Principal
}

// DecodeJSON decodes the body into dst as web.DecodeJSON does.
func (r *Request) DecodeJSON(dst any) error {
	return web.DecodeJSON(web.Request(context.Background(), r.Event), dst)
}
