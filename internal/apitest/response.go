package apitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/problem"
)

// Problem is an RFC 9457 problem document as a client reads it.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail"`
	Instance  string               `json:"instance"`
	Errors    []problem.FieldError `json:"errors"`
	RequestID string               `json:"requestId"`
}

// Slug is the problem type without the project's type base.
func (p Problem) Slug() string { return strings.TrimPrefix(p.Type, problem.TypeBase) }

// Fields lists the fields of a validation problem, in order.
func (p Problem) Fields() []string {
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

// Check fails the test unless r has what every answer of the services
// has: the correlation id, nosniff, and for an error a problem document
// whose status and title match the response.
func (r *Response) Check(t testing.TB) {
	t.Helper()
	route := r.route()
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id header", route)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", route, got)
	}
	if r.StatusCode < 400 {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != problem.ContentType {
		t.Errorf("%s: %d answer has Content-Type %q, want %q", route, r.StatusCode, ct, problem.ContentType)
	}
	p, err := decodeProblem(r)
	if err != nil {
		t.Errorf("%s: %d answer is not a problem document: %v: %s", route, r.StatusCode, err, r.Body)
		return
	}
	if p.Status != r.StatusCode {
		t.Errorf("%s: problem status %d, response status %d", route, p.Status, r.StatusCode)
	}
	if !strings.HasPrefix(p.Type, problem.TypeBase) || len(p.Type) == len(problem.TypeBase) {
		t.Errorf("%s: problem type %q, want %s<slug>", route, p.Type, problem.TypeBase)
	}
	if p.Title != http.StatusText(r.StatusCode) {
		t.Errorf("%s: problem title %q, want %q", route, p.Title, http.StatusText(r.StatusCode))
	}
	if p.RequestID != r.Header.Get("X-Request-Id") {
		t.Errorf("%s: problem requestId %q, X-Request-Id %q", route, p.RequestID, r.Header.Get("X-Request-Id"))
	}
}

// Problem fails the test unless r is a problem of status and, when slug is
// not "", of that type; it returns the document.
func (r *Response) Problem(t testing.TB, status int, slug string) Problem {
	t.Helper()
	route := r.route() + ": "
	if r.StatusCode != status {
		t.Fatalf("%sstatus = %d, want %d; body %s", route, r.StatusCode, status, r.Body)
	}
	r.Check(t)
	p, err := decodeProblem(r)
	if err != nil {
		t.Fatalf("%sproblem body %q: %v", route, r.Body, err)
	}
	if slug != "" && p.Slug() != slug {
		t.Errorf("%sproblem type = %q, want slug %q", route, p.Type, slug)
	}
	return p
}

// route is the method and path of the request r answers ("" for none).
func (r *Response) route() string {
	if r.Request == nil {
		return ""
	}
	return r.Request.Method + " " + r.Request.URL.Path
}

func decodeProblem(r *Response) (Problem, error) {
	var p Problem
	return p, json.Unmarshal([]byte(r.Body), &p)
}

// EventResponse is the answer a Lambda proxy response stands for, for
// tests of the adapter (web.Lambda) and of a deployed function.
func EventResponse(resp events.APIGatewayProxyResponse) *Response {
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	return &Response{Response: &http.Response{StatusCode: resp.StatusCode, Header: h}, Body: resp.Body}
}
