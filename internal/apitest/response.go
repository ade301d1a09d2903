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

// CheckAnswer fails the test unless resp has what every answer of the
// services has: the correlation id, nosniff, and for an error a problem
// document whose status and title match the response.
func CheckAnswer(t testing.TB, route string, resp events.APIGatewayProxyResponse) {
	t.Helper()
	if resp.Headers["X-Request-Id"] == "" {
		t.Errorf("%s: no X-Request-Id header", route)
	}
	if got := resp.Headers["X-Content-Type-Options"]; got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", route, got)
	}
	if resp.StatusCode < 400 {
		return
	}
	if ct := resp.Headers["Content-Type"]; ct != problem.ContentType {
		t.Errorf("%s: %d answer has Content-Type %q, want %q", route, resp.StatusCode, ct, problem.ContentType)
	}
	var p Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Errorf("%s: %d answer is not a problem document: %v: %s", route, resp.StatusCode, err, resp.Body)
		return
	}
	if p.Status != resp.StatusCode {
		t.Errorf("%s: problem status %d, response status %d", route, p.Status, resp.StatusCode)
	}
	if !strings.HasPrefix(p.Type, problem.TypeBase) || len(p.Type) == len(problem.TypeBase) {
		t.Errorf("%s: problem type %q, want %s<slug>", route, p.Type, problem.TypeBase)
	}
	if p.Title != http.StatusText(resp.StatusCode) {
		t.Errorf("%s: problem title %q, want %q", route, p.Title, http.StatusText(resp.StatusCode))
	}
	if p.RequestID != resp.Headers["X-Request-Id"] {
		t.Errorf("%s: problem requestId %q, X-Request-Id %q", route, p.RequestID, resp.Headers["X-Request-Id"])
	}
}

// WantProblem fails the test unless resp is a problem of status and, when
// slug is not "", of that type; it returns the document.
func WantProblem(t testing.TB, resp events.APIGatewayProxyResponse, status int, slug string) Problem {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	CheckAnswer(t, "", resp)
	var p Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("problem body %q: %v", resp.Body, err)
	}
	if slug != "" && p.Slug() != slug {
		t.Errorf("problem type = %q, want slug %q", p.Type, slug)
	}
	return p
}

// Decode decodes a JSON answer's body.
func Decode[T any](t testing.TB, resp events.APIGatewayProxyResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return v
}
