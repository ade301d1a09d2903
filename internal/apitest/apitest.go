// Package apitest is the kit for testing the services' HTTP handlers
// without API Gateway: REST API proxy events built from a recorded-shape
// fixture, access tokens signed by a throwaway key, and checks that every
// answer must pass.
package apitest

import (
	_ "embed"
	"encoding/json"
	"maps"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

//go:embed testdata/proxy_request.json
var proxyRequest []byte

// Request is one request to a route, as a test describes it.
type Request struct {
	Route   string            // route key: "GET /v1/orders/{id}"
	Path    map[string]string // path parameters of the route
	Query   map[string]string // query string parameters
	Headers map[string]string
	Body    string
	Bearer  string // access token sent as "Authorization: Bearer ..."; "" for none
}

// Event is the request as API Gateway's Lambda proxy integration delivers
// it: the fixture's shape, with this request's method, resource, path,
// parameters, headers and body. A body comes with a JSON Content-Type
// unless Headers says otherwise.
func (r Request) Event() events.APIGatewayProxyRequest {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(proxyRequest, &ev); err != nil {
		panic("apitest: fixture: " + err.Error())
	}
	method, resource, _ := strings.Cut(r.Route, " ")
	path := resource
	for k, v := range r.Path {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	ev.HTTPMethod, ev.Resource, ev.Path = method, resource, path
	ev.RequestContext.HTTPMethod, ev.RequestContext.ResourcePath = method, resource
	ev.RequestContext.Path = "/" + ev.RequestContext.Stage + path
	ev.PathParameters = maps.Clone(r.Path)
	ev.QueryStringParameters = maps.Clone(r.Query)
	if r.Query != nil {
		ev.MultiValueQueryStringParameters = map[string][]string{}
		for k, v := range r.Query {
			ev.MultiValueQueryStringParameters[k] = []string{v}
		}
	}
	headers := map[string]string{}
	if r.Body != "" {
		headers["Content-Type"] = "application/json"
		ev.Body = r.Body
	}
	if r.Bearer != "" {
		headers["Authorization"] = "Bearer " + r.Bearer
	}
	maps.Copy(headers, r.Headers)
	for k, v := range headers {
		setHeader(&ev, k, v)
	}
	return ev
}

// setHeader sets a header in both header maps, replacing any of the same
// name in another case.
func setHeader(ev *events.APIGatewayProxyRequest, name, value string) {
	for k := range ev.Headers {
		if strings.EqualFold(k, name) {
			delete(ev.Headers, k)
			delete(ev.MultiValueHeaders, k)
		}
	}
	ev.Headers[name] = value
	ev.MultiValueHeaders[name] = []string{value}
}

// GatewayRequestID is API Gateway's request id in the fixture's events,
// which becomes the correlation id when the client sends no usable one.
const GatewayRequestID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
