package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/problem"
)

// secret is in the cause of every case of TestFrom: no client document
// may show it.
const secret = "password=hunter2"

func TestFrom(t *testing.T) {
	t.Parallel()
	cause := errors.New(secret)
	tests := []struct {
		err        error
		wantStatus int
		wantSlug   string
		wantDetail string // "" for an internal error: the generic detail
	}{
		{problem.New(problem.Invalid, "Bad input."), 400, "invalid-request", "Bad input."},
		{problem.New(problem.Unauthenticated, "Log in."), 401, "unauthenticated", "Log in."},
		{problem.New(problem.Forbidden, "No."), 403, "forbidden", "No."},
		{problem.New(problem.NotFound, "No such order."), 404, "not-found", "No such order."},
		{problem.New(problem.MethodNotAllowed, "GET only."), 405, "method-not-allowed", "GET only."},
		{problem.New(problem.Conflict, "Already paid."), 409, "conflict", "Already paid."},
		{problem.New(problem.TooLarge, "Too big."), 413, "payload-too-large", "Too big."},
		{problem.New(problem.UnsupportedMedia, "JSON only."), 415, "unsupported-media-type", "JSON only."},
		{problem.New(problem.Unprocessable, "Empty cart."), 422, "unprocessable", "Empty cart."},
		{problem.New(problem.TooManyRequests, "Slow down."), 429, "too-many-requests", "Slow down."},
		{problem.New(problem.Unavailable, "Later."), 503, "unavailable", "Later."},
		{&problem.Error{Kind: problem.Conflict, Slug: "email-taken", Detail: "Taken."}, 409, "email-taken", "Taken."},
		{problem.New(problem.NotFound, fmt.Sprintf("No order %s.", "o-1")), 404, "not-found", "No order o-1."},
		{fmt.Errorf("get order: %w", &problem.Error{Kind: problem.NotFound, Detail: "Gone.", Err: cause}), 404, "not-found", "Gone."},
		{problem.Validation(problem.FieldError{Field: "email", Message: "is required"}), 400, "validation", "The request has invalid fields."},

		// Internal errors: the client sees nothing of them.
		{cause, 500, "internal", ""},
		{&problem.Error{Kind: problem.Internal, Slug: "db-down", Detail: secret}, 500, "internal", ""},
		{&problem.Error{Kind: problem.Internal, Fields: []problem.FieldError{{Field: secret, Message: secret}}}, 500, "internal", ""},
		{&problem.Error{Kind: problem.Kind(200), Slug: "x", Detail: secret}, 500, "internal", ""},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			t.Parallel()
			d, perr := problem.From(tc.err, "/v1/orders/o-1")
			if d.Status != tc.wantStatus || d.Type != problem.TypeBase+tc.wantSlug || d.Title != http.StatusText(tc.wantStatus) || d.Instance != "/v1/orders/o-1" {
				t.Errorf("From = %+v, want status %d, slug %s", d, tc.wantStatus, tc.wantSlug)
			}
			if b, _ := json.Marshal(d); strings.Contains(string(b), secret) {
				t.Errorf("client document leaks the cause: %s", b)
			}
			var want *problem.Error
			if tc.wantDetail == "" {
				if perr != nil || !strings.HasPrefix(d.Detail, "An internal error occurred.") || d.Errors != nil {
					t.Errorf("From = %+v, %v; want the generic internal document", d, perr)
				}
			} else if !errors.As(tc.err, &want) || perr != want || d.Detail != tc.wantDetail {
				t.Errorf("From = %+v, %p; want detail %q and the *Error of the chain, %p", d, perr, tc.wantDetail, want)
			}
		})
	}
}

func TestDetailsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{problem.Validation(problem.FieldError{Field: "name", Message: "is required"}, problem.FieldError{Field: "items[0].quantity", Message: "must be positive"}),
			`{"type":"` + problem.TypeBase + `validation","title":"Bad Request","status":400,"detail":"The request has invalid fields.","instance":"/v1/users","errors":[{"field":"name","message":"is required"},{"field":"items[0].quantity","message":"must be positive"}]}`},
		{problem.New(problem.NotFound, "Gone."), `{"type":"` + problem.TypeBase + `not-found","title":"Not Found","status":404,"detail":"Gone.","instance":"/v1/users"}`},
		{problem.New(problem.Forbidden, ""), `{"type":"` + problem.TypeBase + `forbidden","title":"Forbidden","status":403,"instance":"/v1/users"}`},
	}
	for _, tc := range tests {
		d, _ := problem.From(tc.err, "/v1/users")
		if b, err := json.Marshal(d); err != nil || string(b) != tc.want {
			t.Errorf("JSON =\n%s\nwant\n%s", b, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	for err, want := range map[*problem.Error]string{
		{Kind: problem.NotFound}:                            "not-found",
		problem.New(problem.Conflict, "Stale."):             "conflict: Stale.",
		{Kind: problem.Invalid, Detail: "Bad.", Err: cause}: "invalid-request: Bad.: boom",
		{Kind: problem.Internal, Err: cause}:                "internal: boom",
		{Kind: problem.Kind(99), Detail: "x"}:               "internal: x",
	} {
		if got := err.Error(); got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	}
}

func TestBuilders(t *testing.T) {
	t.Parallel()
	if problem.New(problem.Conflict, "d").Unwrap() != nil {
		t.Error("New(...).Unwrap() is not nil")
	}
	e := &problem.Error{Kind: problem.Conflict, Err: io.EOF}
	if v := problem.Validation(); v.Kind != problem.Invalid || v.Slug != "validation" || len(v.Fields) != 0 {
		t.Errorf("Validation() = %+v", v)
	}
	wrapped := fmt.Errorf("count: %w", e)
	if !errors.Is(wrapped, io.EOF) || problem.Of(wrapped, problem.Conflict) != e || problem.Of(wrapped, problem.TooManyRequests) != nil || problem.Of(io.EOF, problem.Conflict) != nil {
		t.Error("Of does not find exactly the *Error of its kind, or errors.Is not its cause")
	}
}

func ExampleFrom() {
	err := fmt.Errorf("get order o-1: %w", problem.New(problem.NotFound, "No order o-1."))
	d, shown := problem.From(err, "/v1/orders/o-1")
	fmt.Println(d.Status, d.Title, shown == nil) // nil: an internal error
	fmt.Println(d.Detail)

	d, shown = problem.From(errors.New("dynamodb: throttled"), "/v1/orders/o-1")
	fmt.Println(d.Status, d.Title, shown == nil)
	// Output:
	// 404 Not Found false
	// No order o-1.
	// 500 Internal Server Error true
}
