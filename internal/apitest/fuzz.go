package apitest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Flags of a FuzzRequest: how its body travels and what it leaves out.
const (
	FlagBase64     uint8 = 1 << iota // body base64-encoded, as API Gateway sends binary bodies
	FlagBase64Flag                   // body marked base64-encoded, yet sent as it is
	FlagNoCT                         // no Content-Type, even with a body
	FlagNoBearer                     // no access token, even on a protected route
)

// FuzzRequest is a request whose every part a fuzz target chooses.
type FuzzRequest struct {
	Route string // route key; its method and resource
	// Param is the value of every path parameter of Route ({id}, {sku}).
	Param string
	// Query is a raw query string, "limit=2&cursor=c1.x.y", delivered as
	// API Gateway does: each name's last value in queryStringParameters,
	// all of them in multiValueQueryStringParameters.
	Query string
	// Headers are "Name: value" lines. They override the defaults: the
	// JSON Content-Type of a body, and Authorization.
	Headers string
	Body    string
	Bearer  string // access token sent unless FlagNoBearer ("": none)
	Flags   uint8
}

// pathParam matches a path parameter of a route key, like {id}.
var pathParam = regexp.MustCompile(`\{(\w+)\}`)

// Event is the request as API Gateway's Lambda proxy integration delivers
// it.
func (r FuzzRequest) Event() events.APIGatewayProxyRequest {
	in := Request{Route: r.Route, Body: r.Body, Path: map[string]string{}, Headers: map[string]string{}}
	for _, m := range pathParam.FindAllStringSubmatch(r.Route, -1) {
		in.Path[m[1]] = r.Param
	}
	if r.Flags&FlagNoBearer == 0 {
		in.Bearer = r.Bearer
	}
	for line := range strings.Lines(r.Headers) {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if ok && name != "" {
			in.Headers[name] = strings.TrimSpace(value)
		}
	}
	ev := in.Event()
	if r.Query != "" {
		// A malformed pair is skipped; ParseQuery keeps the others.
		q, _ := url.ParseQuery(r.Query)
		ev.QueryStringParameters = map[string]string{}
		ev.MultiValueQueryStringParameters = map[string][]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
			ev.MultiValueQueryStringParameters[k] = vs
		}
	}
	if r.Flags&FlagBase64 != 0 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(ev.Body)), true
	}
	if r.Flags&FlagBase64Flag != 0 {
		ev.IsBase64Encoded = true
	}
	if r.Flags&FlagNoCT != 0 {
		for k := range ev.Headers {
			if strings.EqualFold(k, "Content-Type") {
				delete(ev.Headers, k)
				delete(ev.MultiValueHeaders, k)
			}
		}
	}
	return ev
}

// CheckFuzzAnswer fails the test unless resp is an answer the API may give
// to any request, however malformed: never a 5xx (bad input is the
// client's error, and the router answers a handler's panic with a 500),
// every error a problem document of the response's status (CheckAnswer),
// and nothing else but a success or, to a conditional GET, a 304.
func CheckFuzzAnswer(t testing.TB, ev events.APIGatewayProxyRequest, resp events.APIGatewayProxyResponse) {
	t.Helper()
	route := ev.HTTPMethod + " " + ev.Resource
	status := resp.StatusCode
	switch {
	case status >= 500:
		t.Errorf("%s answered %d: %s", route, status, resp.Body)
	case status >= 400:
	case status == http.StatusNotModified:
		if _, conditional := lookup(ev.Headers, "If-None-Match"); ev.HTTPMethod != http.MethodGet || !conditional {
			t.Errorf("%s answered 304 to a request without If-None-Match", route)
		}
		if resp.Body != "" || resp.Headers["ETag"] == "" {
			t.Errorf("%s answered 304 with a body %q or without an ETag", route, resp.Body)
		}
	case status < 200 || status > 299:
		t.Errorf("%s answered %d, neither a success nor a problem: %s", route, status, resp.Body)
	}
	CheckAnswer(t, route, resp)
}

func lookup(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// AddFuzzSeed adds r to the seed corpus of a fuzz target whose arguments
// are the parts of a FuzzRequest: route, param, query, headers, body and
// flags (the bearer is the target's own).
func AddFuzzSeed(f *testing.F, r FuzzRequest) {
	f.Helper()
	f.Add(r.Route, r.Param, r.Query, r.Headers, r.Body, r.Flags)
}
