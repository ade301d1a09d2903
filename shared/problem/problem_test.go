package problem_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/problem"
)

func TestKindStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind problem.Kind
		want int
	}{
		{problem.Internal, http.StatusInternalServerError},
		{problem.Invalid, http.StatusBadRequest},
		{problem.Unauthenticated, http.StatusUnauthorized},
		{problem.Forbidden, http.StatusForbidden},
		{problem.NotFound, http.StatusNotFound},
		{problem.MethodNotAllowed, http.StatusMethodNotAllowed},
		{problem.Conflict, http.StatusConflict},
		{problem.TooLarge, http.StatusRequestEntityTooLarge},
		{problem.UnsupportedMedia, http.StatusUnsupportedMediaType},
		{problem.Unprocessable, http.StatusUnprocessableEntity},
		{problem.TooManyRequests, http.StatusTooManyRequests},
		{problem.Unavailable, http.StatusServiceUnavailable},
		{problem.Unavailable + 1, http.StatusInternalServerError},
		{problem.Kind(255), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("kind %d", tc.kind), func(t *testing.T) {
			t.Parallel()
			if got := tc.kind.Status(); got != tc.want {
				t.Errorf("Kind(%d).Status() = %d, want %d", tc.kind, got, tc.want)
			}
		})
	}
}

func TestFrom(t *testing.T) {
	t.Parallel()
	const instance = "/v1/orders/o-1"
	cause := errors.New("conditional check failed")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantSlug   string
		wantDetail string // "" means the generic internal detail
	}{
		{name: "invalid", err: problem.New(problem.Invalid, "Bad input."), wantStatus: 400, wantSlug: "invalid-request", wantDetail: "Bad input."},
		{name: "unauthenticated", err: problem.New(problem.Unauthenticated, "Log in."), wantStatus: 401, wantSlug: "unauthenticated", wantDetail: "Log in."},
		{name: "forbidden", err: problem.New(problem.Forbidden, "No."), wantStatus: 403, wantSlug: "forbidden", wantDetail: "No."},
		{name: "not found", err: problem.New(problem.NotFound, "No such order."), wantStatus: 404, wantSlug: "not-found", wantDetail: "No such order."},
		{name: "conflict", err: problem.New(problem.Conflict, "Already paid."), wantStatus: 409, wantSlug: "conflict", wantDetail: "Already paid."},
		{name: "too large", err: problem.New(problem.TooLarge, "Too big."), wantStatus: 413, wantSlug: "payload-too-large", wantDetail: "Too big."},
		{name: "unsupported media", err: problem.New(problem.UnsupportedMedia, "JSON only."), wantStatus: 415, wantSlug: "unsupported-media-type", wantDetail: "JSON only."},
		{name: "unprocessable", err: problem.New(problem.Unprocessable, "Empty cart."), wantStatus: 422, wantSlug: "unprocessable", wantDetail: "Empty cart."},
		{name: "too many requests", err: problem.New(problem.TooManyRequests, "Slow down."), wantStatus: 429, wantSlug: "too-many-requests", wantDetail: "Slow down."},
		{name: "custom slug", err: problem.New(problem.Conflict, "Taken.").WithSlug("email-taken"), wantStatus: 409, wantSlug: "email-taken", wantDetail: "Taken."},
		{name: "formatted detail", err: problem.Newf(problem.NotFound, "No order %s.", "o-1"), wantStatus: 404, wantSlug: "not-found", wantDetail: "No order o-1."},
		{name: "wrapped problem", err: fmt.Errorf("get order: %w", problem.New(problem.NotFound, "Gone.")), wantStatus: 404, wantSlug: "not-found", wantDetail: "Gone."},
		{name: "problem with a cause", err: problem.New(problem.Conflict, "Stale.").WithCause(cause), wantStatus: 409, wantSlug: "conflict", wantDetail: "Stale."},
		{name: "validation", err: problem.Validation(problem.FieldError{Field: "email", Message: "is required"}), wantStatus: 400, wantSlug: "validation", wantDetail: "The request has invalid fields."},

		// Internal errors: the client sees nothing of them.
		{name: "plain error", err: errors.New("dial tcp 10.0.0.1:443: secret detail"), wantStatus: 500, wantSlug: "internal"},
		{name: "wrapped plain error", err: fmt.Errorf("save: %w", io.ErrUnexpectedEOF), wantStatus: 500, wantSlug: "internal"},
		{name: "internal kind with detail", err: problem.New(problem.Internal, "table orders-prod is throttled"), wantStatus: 500, wantSlug: "internal"},
		{name: "internal kind with slug", err: problem.New(problem.Internal, "x").WithSlug("db-down"), wantStatus: 500, wantSlug: "internal"},
		{name: "kind out of range", err: &problem.Error{Kind: problem.Kind(200), Detail: "mystery"}, wantStatus: 500, wantSlug: "internal"},
		{name: "kind out of range with slug", err: &problem.Error{Kind: problem.Kind(200), Slug: "x", Detail: "mystery"}, wantStatus: 500, wantSlug: "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, perr, internal := problem.From(tc.err, instance)
			if d.Status != tc.wantStatus {
				t.Errorf("Status = %d, want %d", d.Status, tc.wantStatus)
			}
			if want := problem.TypeBase + tc.wantSlug; d.Type != want {
				t.Errorf("Type = %q, want %q", d.Type, want)
			}
			if want := http.StatusText(tc.wantStatus); d.Title != want {
				t.Errorf("Title = %q, want %q", d.Title, want)
			}
			if d.Instance != instance {
				t.Errorf("Instance = %q, want %q", d.Instance, instance)
			}
			if tc.wantStatus == http.StatusInternalServerError {
				if !internal || perr != nil {
					t.Errorf("From = (_, %v, %v), want (_, nil, true)", perr, internal)
				}
				if !strings.HasPrefix(d.Detail, "An internal error occurred.") || d.Errors != nil {
					t.Errorf("internal Details = %+v, want the generic detail only", d)
				}
				return
			}
			if internal || perr == nil {
				t.Fatalf("From = (_, %v, %v), want the *Error and false", perr, internal)
			}
			if d.Detail != tc.wantDetail {
				t.Errorf("Detail = %q, want %q", d.Detail, tc.wantDetail)
			}
			var want *problem.Error
			if !errors.As(tc.err, &want) || perr != want {
				t.Errorf("From returned %p, want the *Error in the chain %p", perr, want)
			}
		})
	}
}

// TestFromHidesInternalDetail renders the client-visible document of
// internal errors and checks that nothing of the cause is in it.
func TestFromHidesInternalDetail(t *testing.T) {
	t.Parallel()
	const secret = "password=hunter2"
	tests := []struct {
		name string
		err  error
	}{
		{name: "plain", err: errors.New(secret)},
		{name: "internal problem detail", err: problem.New(problem.Internal, secret)},
		{name: "internal problem cause", err: problem.New(problem.Internal, "x").WithCause(errors.New(secret))},
		{name: "internal problem fields", err: &problem.Error{Kind: problem.Internal, Fields: []problem.FieldError{{Field: secret, Message: secret}}}},
		{name: "cause of a 4xx", err: problem.New(problem.Conflict, "Stale.").WithCause(errors.New(secret))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _, _ := problem.From(tc.err, "/x")
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), secret) {
				t.Errorf("client document leaks the cause: %s", b)
			}
		})
	}
}

func TestFromKeepsFieldsAndRetryAfter(t *testing.T) {
	t.Parallel()
	fields := []problem.FieldError{
		{Field: "email", Message: "is required"},
		{Field: "items[0].quantity", Message: "must be positive"},
	}
	d, perr, internal := problem.From(fmt.Errorf("create: %w", problem.Validation(fields...)), "")
	if internal || perr == nil {
		t.Fatalf("From(validation) = (_, %v, %v)", perr, internal)
	}
	if !reflect.DeepEqual(d.Errors, fields) || !reflect.DeepEqual(perr.Fields, fields) {
		t.Errorf("Errors = %+v, Fields = %+v, want %+v", d.Errors, perr.Fields, fields)
	}

	limited := problem.New(problem.TooManyRequests, "Try later.").WithSlug("too-many-attempts")
	limited.RetryAfter = 90 * time.Second
	d, perr, _ = problem.From(fmt.Errorf("login: %w", limited), "")
	if perr == nil || perr.RetryAfter != 90*time.Second {
		t.Fatalf("From kept RetryAfter %v, want 1m30s", perr)
	}
	if d.Status != http.StatusTooManyRequests || d.Type != problem.TypeBase+"too-many-attempts" {
		t.Errorf("Details = %+v", d)
	}
}

func TestDetailsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "validation",
			err:  problem.Validation(problem.FieldError{Field: "name", Message: "is required"}),
			want: `{"type":"` + problem.TypeBase + `validation","title":"Bad Request","status":400,"detail":"The request has invalid fields.","instance":"/v1/users","errors":[{"field":"name","message":"is required"}]}`,
		},
		{
			name: "no fields omitted",
			err:  problem.New(problem.NotFound, "Gone."),
			want: `{"type":"` + problem.TypeBase + `not-found","title":"Not Found","status":404,"detail":"Gone.","instance":"/v1/users"}`,
		},
		{
			name: "empty detail omitted",
			err:  problem.New(problem.Forbidden, ""),
			want: `{"type":"` + problem.TypeBase + `forbidden","title":"Forbidden","status":403,"instance":"/v1/users"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _, _ := problem.From(tc.err, "/v1/users")
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("JSON =\n%s\nwant\n%s", b, tc.want)
			}
		})
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	tests := []struct {
		name string
		err  *problem.Error
		want string
	}{
		{name: "kind only", err: &problem.Error{Kind: problem.NotFound}, want: "not-found"},
		{name: "with detail", err: problem.New(problem.Conflict, "Stale."), want: "conflict: Stale."},
		{name: "with cause", err: problem.New(problem.Invalid, "Bad.").WithCause(cause), want: "invalid-request: Bad.: boom"},
		{name: "cause without detail", err: (&problem.Error{Kind: problem.Internal}).WithCause(cause), want: "internal: boom"},
		{name: "kind out of range", err: &problem.Error{Kind: problem.Kind(99), Detail: "x"}, want: "internal: x"},
		{name: "custom slug not in message", err: problem.New(problem.Conflict, "Taken.").WithSlug("email-taken"), want: "conflict: Taken."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnwrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("condition failed")
	err := fmt.Errorf("update: %w", problem.New(problem.Conflict, "Stale.").WithCause(cause))
	if !errors.Is(err, cause) {
		t.Error("errors.Is does not find the cause through the *Error")
	}
	if problem.New(problem.Conflict, "x").Unwrap() != nil {
		t.Error("Unwrap of an error without a cause is not nil")
	}
}

func TestBuilders(t *testing.T) {
	t.Parallel()
	e := problem.New(problem.Conflict, "d")
	if e.WithSlug("s") != e || e.WithCause(io.EOF) != e {
		t.Error("WithSlug/WithCause do not return the receiver")
	}
	if e.Slug != "s" || e.Err != io.EOF {
		t.Errorf("after WithSlug/WithCause: %+v", e)
	}
	v := problem.Validation()
	if v.Kind != problem.Invalid || v.Slug != "validation" || len(v.Fields) != 0 {
		t.Errorf("Validation() = %+v", v)
	}
	wrapped := fmt.Errorf("count: %w", e)
	if problem.Of(wrapped, problem.Conflict) != e || problem.Of(wrapped, problem.TooManyRequests) != nil || problem.Of(io.EOF, problem.Conflict) != nil {
		t.Error("Of does not find exactly the *Error of its kind")
	}
}

func ExampleFrom() {
	err := fmt.Errorf("get order o-1: %w", problem.New(problem.NotFound, "No order o-1."))
	d, _, internal := problem.From(err, "/v1/orders/o-1")
	fmt.Println(d.Status, d.Title, internal)
	fmt.Println(d.Detail)

	d, _, internal = problem.From(errors.New("dynamodb: throttled"), "/v1/orders/o-1")
	fmt.Println(d.Status, d.Title, internal)
	// Output:
	// 404 Not Found false
	// No order o-1.
	// 500 Internal Server Error true
}
