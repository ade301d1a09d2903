package apitest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Flags of a FuzzRequest: how its body travels and what it leaves out. The
// base64 flags concern API Gateway's events, which the handlers no longer
// take (HTTP ignores them); they stay in the fuzz targets' corpora.
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

// HTTP is the request as a client sends it: Route's method and path with
// Param (escaped) as every path parameter, the query, the headers, the
// body and the bearer.
func (r FuzzRequest) HTTP() *http.Request {
	method, resource, _ := strings.Cut(r.Route, " ")
	target := pathParam.ReplaceAllLiteralString(resource, url.PathEscape(r.Param))
	if r.Query != "" {
		target += "?" + r.Query
	}
	req, err := http.NewRequest(method, target, strings.NewReader(r.Body))
	if err != nil { // a query no URL may have: send none
		req, _ = http.NewRequest(method, strings.Split(target, "?")[0], strings.NewReader(r.Body))
	}
	if r.Body != "" && r.Flags&FlagNoCT == 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Bearer != "" && r.Flags&FlagNoBearer == 0 {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	for line := range strings.Lines(r.Headers) {
		name, value, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if ok && name != "" {
			req.Header.Set(name, strings.TrimSpace(value))
		}
	}
	if r.Flags&FlagNoCT != 0 {
		req.Header.Del("Content-Type")
	}
	return req
}

// CheckFuzz fails the test unless r is an answer the API may give to any
// request, however malformed: never a 5xx (bad input is the client's
// error, and a handler's panic is answered with a 500), every error a
// problem document of the response's status (Check), and nothing else but
// a success or, to a conditional GET, a 304.
func (r *Response) CheckFuzz(t testing.TB) {
	t.Helper()
	route := r.route()
	_, conditional := r.Request.Header["If-None-Match"]
	switch status := r.StatusCode; {
	case status >= 500:
		t.Errorf("%s answered %d: %s", route, status, r.Body)
	case status >= 400:
	case status == http.StatusNotModified:
		if r.Request.Method != http.MethodGet || !conditional {
			t.Errorf("%s answered 304 to a request without If-None-Match", route)
		}
		if r.Body != "" || r.Header.Get("ETag") == "" {
			t.Errorf("%s answered 304 with a body %q or without an ETag", route, r.Body)
		}
	case status < 200 || status > 299:
		t.Errorf("%s answered %d, neither a success nor a problem: %s", route, status, r.Body)
	}
	r.Check(t)
}

// AddFuzzSeed adds r to the seed corpus of a fuzz target whose arguments
// are the parts of a FuzzRequest: route, param, query, headers, body and
// flags (the bearer is the target's own).
func AddFuzzSeed(f *testing.F, r FuzzRequest) {
	f.Helper()
	f.Add(r.Route, r.Param, r.Query, r.Headers, r.Body, r.Flags)
}
