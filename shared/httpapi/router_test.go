package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

const gatewayRequestID = apitest.GatewayRequestID

func discardLogger() *slog.Logger { return logging.New(io.Discard, "test") }

// event builds the REST API event of a request to routeKey.
func event(routeKey string) events.APIGatewayProxyRequest {
	return apitest.Request{Route: routeKey}.Event()
}

// bearer returns ev with an Authorization header carrying tok.
func bearer(ev events.APIGatewayProxyRequest, tok string) events.APIGatewayProxyRequest {
	ev.Headers = maps.Clone(ev.Headers)
	ev.Headers["Authorization"] = "Bearer " + tok
	return ev
}

// authorized attaches an authorizer context, as the integration receives
// it (JSON-decoded), to ev.
func authorized(ev events.APIGatewayProxyRequest, authCtx map[string]any) events.APIGatewayProxyRequest {
	ev.RequestContext.Authorizer = authCtx
	return ev
}

var ada = principal.Principal{UserID: "u-1", Email: "ada@example.com", Name: "Ada"}

func ok(body string) httpapi.Handler {
	return func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return httpapi.JSON(http.StatusOK, map[string]string{"handler": body})
	}
}

// decodeProblem checks that resp is a problem document of status and returns it.
func decodeProblem(t *testing.T, resp events.APIGatewayProxyResponse, status int) problem.Details {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var d problem.Details
	if err := json.Unmarshal([]byte(resp.Body), &d); err != nil {
		t.Fatalf("body is not a problem document: %v\n%s", err, resp.Body)
	}
	if d.Status != status {
		t.Errorf("problem status = %d, want %d", d.Status, status)
	}
	return d
}

func TestRouterDispatch(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	rt := httpapi.NewRouter(discardLogger(), auth.Verifier())
	rt.Public("GET /v1/products", ok("list"))
	rt.Public("GET /v1/products/{id}", ok("get"))
	rt.Protected("POST /v1/orders", ok("create"))

	tests := []struct {
		name     string
		ev       events.APIGatewayProxyRequest
		wantBody string
	}{
		{name: "list", ev: event("GET /v1/products"), wantBody: `{"handler":"list"}`},
		{name: "get", ev: event("GET /v1/products/{id}"), wantBody: `{"handler":"get"}`},
		{name: "protected", ev: bearer(event("POST /v1/orders"), auth.Token(t, ada)), wantBody: `{"handler":"create"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := rt.Handle(context.Background(), tc.ev)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if resp.StatusCode != http.StatusOK || resp.Body != tc.wantBody {
				t.Errorf("response = %d %s, want 200 %s", resp.StatusCode, resp.Body, tc.wantBody)
			}
			if ct := resp.Headers["Content-Type"]; ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if resp.Headers["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", resp.Headers["X-Content-Type-Options"])
			}
		})
	}
}

func TestRouterUnknownRoute(t *testing.T) {
	t.Parallel()
	rt := httpapi.NewRouter(discardLogger(), nil)
	rt.Public("GET /v1/products", ok("list"))
	tests := []struct {
		name     string
		routeKey string
	}{
		{name: "other path", routeKey: "GET /v1/users"},
		{name: "path instead of template", routeKey: "GET /v1/products/p-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := rt.Handle(context.Background(), event(tc.routeKey))
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			d := decodeProblem(t, resp, http.StatusNotFound)
			if d.Type != problem.TypeBase+"not-found" {
				t.Errorf("type = %q", d.Type)
			}
			if allow, ok := resp.Headers["Allow"]; ok {
				t.Errorf("404 with Allow %q", allow)
			}
		})
	}
}

// TestRouterMethodNotAllowed checks the answer to a method a served
// resource does not take (the template routes every method of the resource
// to its service): 405 with Allow listing the resource's methods; for a
// resource whose methods are all protected, only with a valid token.
func TestRouterMethodNotAllowed(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	tok := auth.Token(t, ada)
	rt := httpapi.NewRouter(discardLogger(), auth.Verifier())
	rt.Public("GET /v1/products", ok("list"))
	rt.Protected("GET /v1/me", ok("me"))
	rt.Protected("PATCH /v1/me", ok("patched"))
	rt.Public("POST /v1/orders/{id}/cancel", ok("cancelled"))
	tests := []struct {
		name, routeKey, token string
		status                int
		allow                 string
	}{
		{"public resource", "DELETE /v1/products", "", 405, "GET"},
		{"protected resource", "PUT /v1/me", tok, 405, "GET, PATCH"},
		{"protected resource, no token", "PUT /v1/me", "", 401, ""},
		{"protected resource, bad token", "PUT /v1/me", "garbage", 401, ""},
		{"resource with a parameter", "GET /v1/orders/{id}/cancel", "", 405, "POST"},
		{"options", "OPTIONS /v1/products", "", 405, "GET"},
		{"a method API Gateway does not know", "TRACE /v1/me", tok, 405, "GET, PATCH"},
		{"method in lower case", "get /v1/products", "", 405, "GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := event(tc.routeKey)
			if tc.token != "" {
				ev = bearer(ev, tc.token)
			}
			resp, err := rt.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			d := decodeProblem(t, resp, tc.status)
			if tc.status == http.StatusMethodNotAllowed && d.Type != problem.TypeBase+"method-not-allowed" {
				t.Errorf("type = %q", d.Type)
			}
			if got := resp.Headers["Allow"]; got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
	if got := rt.Allowed("/v1/nowhere"); len(got) != 0 {
		t.Errorf("Allowed(unserved path) = %v, want none", got)
	}
}

func TestRouterProtected(t *testing.T) {
	t.Parallel()
	auth, stranger := apitest.NewAuth(t), apitest.NewAuth(t)
	var seen principal.Principal
	rt := httpapi.NewRouter(discardLogger(), auth.Verifier())
	rt.Protected("GET /v1/me", func(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		seen = r.Caller()
		return httpapi.NoContent(), nil
	})

	jsonCtx := func(m map[string]any) map[string]any { // as decoded from the event JSON
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		out["principalId"] = out["sub"]
		return out
	}
	valid := auth.Token(t, ada)
	decided := ada
	decided.ExpiresAt = time.Now().Add(10 * time.Minute)
	other := principal.Principal{UserID: "u-2", ExpiresAt: decided.ExpiresAt}
	me := event("GET /v1/me")

	tests := []struct {
		name       string
		ev         events.APIGatewayProxyRequest
		wantStatus int
	}{
		{name: "valid token", ev: bearer(me, valid), wantStatus: http.StatusNoContent},
		{name: "valid token, authorizer agrees", ev: authorized(bearer(me, valid), jsonCtx(decided.Context())), wantStatus: http.StatusNoContent},
		{name: "valid token, lower-case header", ev: func() events.APIGatewayProxyRequest {
			ev := event("GET /v1/me")
			ev.Headers["authorization"] = "bearer " + valid
			return ev
		}(), wantStatus: http.StatusNoContent},
		{name: "valid token, authorizer decided for another user", ev: authorized(bearer(me, valid), jsonCtx(other.Context())), wantStatus: http.StatusUnauthorized},
		{name: "authorizer context without a token", ev: authorized(event("GET /v1/me"), jsonCtx(decided.Context())), wantStatus: http.StatusUnauthorized},
		{name: "no token", ev: event("GET /v1/me"), wantStatus: http.StatusUnauthorized},
		{name: "basic credentials", ev: func() events.APIGatewayProxyRequest {
			ev := event("GET /v1/me")
			ev.Headers["Authorization"] = "Basic dXNlcjpwdw=="
			return ev
		}(), wantStatus: http.StatusUnauthorized},
		{name: "garbage token", ev: bearer(me, "not.a.token"), wantStatus: http.StatusUnauthorized},
		{name: "token of another key", ev: bearer(me, stranger.Token(t, ada)), wantStatus: http.StatusUnauthorized},
		{name: "expired token", ev: bearer(me, auth.TokenAt(t, ada, time.Now().Add(-time.Hour))), wantStatus: http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the handler records the caller in seen.
			seen = principal.Principal{}
			resp, err := rt.Handle(context.Background(), tc.ev)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if tc.wantStatus != http.StatusUnauthorized {
				if resp.StatusCode != tc.wantStatus {
					t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.wantStatus, resp.Body)
				}
				if seen.UserID != ada.UserID || seen.Email != ada.Email || seen.Name != ada.Name || seen.ExpiresAt.IsZero() {
					t.Errorf("handler saw caller %+v, want %+v", seen, ada)
				}
				return
			}
			d := decodeProblem(t, resp, http.StatusUnauthorized)
			if d.Type != problem.TypeBase+"invalid-token" {
				t.Errorf("type = %q, want the invalid-token problem", d.Type)
			}
			if got := resp.Headers["WWW-Authenticate"]; got != `Bearer error="invalid_token"` {
				t.Errorf("WWW-Authenticate = %q", got)
			}
			if seen != (principal.Principal{}) {
				t.Errorf("handler ran with caller %+v", seen)
			}
		})
	}
}

func TestRouterPanic(t *testing.T) {
	t.Parallel()
	const secret = "db password is hunter2"
	var logs bytes.Buffer
	rt := httpapi.NewRouter(logging.New(&logs, "test"), nil)
	rt.Public("GET /boom", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		panic(secret)
	})
	rt.Public("GET /boom-error", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		panic(errors.New(secret))
	})
	rt.Public("GET /caller", func(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		_ = r.Caller() // a wiring bug: Caller on a public route
		return httpapi.NoContent(), nil
	})
	rt.Public("GET /error", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return nil, fmt.Errorf("query: %s", secret)
	})

	for _, routeKey := range []string{"GET /boom", "GET /boom-error", "GET /caller", "GET /error"} {
		t.Run(routeKey, func(t *testing.T) {
			resp, err := rt.Handle(context.Background(), event(routeKey))
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			d := decodeProblem(t, resp, http.StatusInternalServerError)
			if d.Type != problem.TypeBase+"internal" {
				t.Errorf("type = %q", d.Type)
			}
			for _, leak := range []string{secret, "panic", "goroutine", "Caller", ".go:"} {
				if strings.Contains(resp.Body, leak) {
					t.Errorf("body leaks %q: %s", leak, resp.Body)
				}
			}
		})
	}
	// The detail goes to the log instead.
	if !strings.Contains(logs.String(), secret) {
		t.Errorf("log does not carry the internal error:\n%s", logs.String())
	}
}

func TestRouterRequestID(t *testing.T) {
	t.Parallel()
	var seen string
	rt := httpapi.NewRouter(discardLogger(), nil)
	rt.Public("GET /x", func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		if logging.CorrelationID(ctx) != r.CorrelationID {
			return nil, fmt.Errorf("context correlation id %q, request %q", logging.CorrelationID(ctx), r.CorrelationID)
		}
		seen = r.CorrelationID
		return httpapi.NoContent(), nil
	})

	tests := []struct {
		name   string
		header *string // nil: no X-Request-Id header
		want   string
	}{
		{name: "absent", header: nil, want: gatewayRequestID},
		{name: "empty", header: ptr(""), want: gatewayRequestID},
		{name: "safe uuid", header: ptr("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"), want: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"},
		{name: "safe with dots and colons", header: ptr("web.checkout:1234_ab"), want: "web.checkout:1234_ab"},
		{name: "minimum length", header: ptr("abcdefgh"), want: "abcdefgh"},
		{name: "maximum length", header: ptr(strings.Repeat("a", 128)), want: strings.Repeat("a", 128)},
		{name: "too short", header: ptr("abcdefg"), want: gatewayRequestID},
		{name: "too long", header: ptr(strings.Repeat("a", 129)), want: gatewayRequestID},
		{name: "space", header: ptr("abc defgh"), want: gatewayRequestID},
		{name: "newline injection", header: ptr("abcdefgh\nX-Admin: 1"), want: gatewayRequestID},
		{name: "trailing newline", header: ptr("abcdefgh\n"), want: gatewayRequestID},
		{name: "html", header: ptr("<script>alert(1)</script>"), want: gatewayRequestID},
		{name: "quote", header: ptr(`abcdefgh"`), want: gatewayRequestID},
		{name: "slash", header: ptr("abcd/efgh"), want: gatewayRequestID},
		{name: "non-ASCII", header: ptr("abcdéfghij"), want: gatewayRequestID},
		{name: "comma-joined duplicates", header: ptr("abcdefgh,ijklmnop"), want: gatewayRequestID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Not parallel: the handler records the id in seen.
			ev := event("GET /x")
			if tc.header != nil {
				ev.Headers["X-Request-Id"] = *tc.header
			}
			seen = ""
			resp, err := rt.Handle(context.Background(), ev)
			if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Fatalf("Handle = %d %s, %v", resp.StatusCode, resp.Body, err)
			}
			if got := resp.Headers[httpapi.HeaderRequestID]; got != tc.want {
				t.Errorf("X-Request-Id = %q, want %q", got, tc.want)
			}
			if seen != tc.want {
				t.Errorf("handler saw correlation id %q, want %q", seen, tc.want)
			}
		})
	}

	t.Run("on error responses too", func(t *testing.T) {
		ev := event("GET /nowhere")
		ev.Headers["x-request-id"] = "client-id-123"
		delete(ev.Headers, "X-Request-Id")
		resp, _ := rt.Handle(context.Background(), ev)
		if got := resp.Headers[httpapi.HeaderRequestID]; got != "client-id-123" {
			t.Errorf("X-Request-Id on a 404 = %q", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestRouterHeaders(t *testing.T) {
	t.Parallel()
	rt := httpapi.NewRouter(discardLogger(), nil)
	rt.Public("GET /default", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return httpapi.JSON(http.StatusOK, []int{1})
	})
	rt.Public("GET /cached", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		resp, err := httpapi.JSON(http.StatusOK, []int{1})
		if err != nil {
			return nil, err
		}
		return resp.Set("Cache-Control", "public, max-age=60").Set("ETag", `"v1"`), nil
	})
	rt.Public("GET /spoof", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return httpapi.NoContent().Set(httpapi.HeaderRequestID, "spoofed-id").Set("X-Content-Type-Options", "off"), nil
	})
	rt.Public("GET /not-modified", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return httpapi.NotModified(`"v1"`), nil
	})

	tests := []struct {
		routeKey    string
		wantStatus  int
		wantHeaders map[string]string
	}{
		{routeKey: "GET /default", wantStatus: 200, wantHeaders: map[string]string{"Cache-Control": "no-store", "Content-Type": "application/json"}},
		{routeKey: "GET /cached", wantStatus: 200, wantHeaders: map[string]string{"Cache-Control": "public, max-age=60", "ETag": `"v1"`}},
		{routeKey: "GET /spoof", wantStatus: 204, wantHeaders: map[string]string{httpapi.HeaderRequestID: gatewayRequestID, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}},
		{routeKey: "GET /not-modified", wantStatus: 304, wantHeaders: map[string]string{"ETag": `"v1"`, "Cache-Control": "no-store"}},
		{routeKey: "GET /missing", wantStatus: 404, wantHeaders: map[string]string{"Cache-Control": "no-store", "Content-Type": problem.ContentType}},
	}
	for _, tc := range tests {
		t.Run(tc.routeKey, func(t *testing.T) {
			t.Parallel()
			resp, err := rt.Handle(context.Background(), event(tc.routeKey))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			for k, v := range tc.wantHeaders {
				if resp.Headers[k] != v {
					t.Errorf("%s = %q, want %q", k, resp.Headers[k], v)
				}
			}
		})
	}
}

func TestRouterRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       string // "" means no header
	}{
		{name: "whole seconds", retryAfter: 30 * time.Second, want: "30"},
		{name: "fraction rounds up", retryAfter: 1500 * time.Millisecond, want: "2"},
		{name: "just over a second rounds up", retryAfter: time.Second + time.Microsecond, want: "2"},
		{name: "under a second is one", retryAfter: 10 * time.Millisecond, want: "1"},
		{name: "minutes", retryAfter: 15 * time.Minute, want: "900"},
		{name: "zero means no header", retryAfter: 0, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := httpapi.NewRouter(discardLogger(), nil)
			rt.Public("POST /v1/login", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
				e := problem.New(problem.TooManyRequests, "Slow down.").WithSlug("too-many-attempts")
				e.RetryAfter = tc.retryAfter
				return nil, fmt.Errorf("login: %w", e)
			})
			resp, err := rt.Handle(context.Background(), event("POST /v1/login"))
			if err != nil {
				t.Fatal(err)
			}
			d := decodeProblem(t, resp, http.StatusTooManyRequests)
			if d.Type != problem.TypeBase+"too-many-attempts" {
				t.Errorf("type = %q", d.Type)
			}
			got, present := resp.Headers["Retry-After"]
			if tc.want == "" {
				if present {
					t.Errorf("Retry-After = %q, want none", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("Retry-After = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRouterProblemFromHandler(t *testing.T) {
	t.Parallel()
	rt := httpapi.NewRouter(discardLogger(), nil)
	rt.Public("POST /v1/users", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return nil, fmt.Errorf("register: %w", problem.Validation(problem.FieldError{Field: "email", Message: "is required"}))
	})
	rt.Public("GET /v1/users/{id}", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return nil, problem.New(problem.Conflict, "Stale.").WithCause(errors.New("internal cause"))
	})
	t.Run("validation", func(t *testing.T) {
		ev := event("POST /v1/users")
		resp, _ := rt.Handle(context.Background(), ev)
		d := decodeProblem(t, resp, http.StatusBadRequest)
		if d.Type != problem.TypeBase+"validation" || len(d.Errors) != 1 || d.Errors[0].Field != "email" {
			t.Errorf("problem = %+v", d)
		}
		if d.Instance != "/v1/users" {
			t.Errorf("instance = %q, want the raw path", d.Instance)
		}
		if _, ok := resp.Headers["WWW-Authenticate"]; ok {
			t.Error("WWW-Authenticate on a 400")
		}
	})
	t.Run("cause stays out of the body", func(t *testing.T) {
		resp, _ := rt.Handle(context.Background(), event("GET /v1/users/{id}"))
		decodeProblem(t, resp, http.StatusConflict)
		if strings.Contains(resp.Body, "internal cause") {
			t.Errorf("body leaks the cause: %s", resp.Body)
		}
	})
}

// TestRouterAccessLog checks the one log line per request.
func TestRouterAccessLog(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	auth := apitest.NewAuth(t)
	rt := httpapi.NewRouter(logging.New(&logs, "orders"), auth.Verifier())
	rt.Protected("GET /v1/orders", func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
		return httpapi.NoContent(), nil
	})
	ev := bearer(event("GET /v1/orders"), auth.Token(t, ada))
	ev.Headers["x-request-id"] = "corr-12345678"
	if _, err := rt.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("want exactly one JSON log line: %v\n%s", err, logs.String())
	}
	want := map[string]any{
		"message": "request", "route": "GET /v1/orders", "status": float64(204),
		logging.KeyCorrelationID: "corr-12345678", logging.KeyUserID: "u-1", "service": "orders",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log[%q] = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["durationMs"].(float64); !ok {
		t.Errorf("log has no durationMs: %v", line)
	}
}

func TestRouterRegistration(t *testing.T) {
	t.Parallel()
	rt := httpapi.NewRouter(discardLogger(), apitest.NewAuth(t).Verifier())
	rt.Public("GET /a", ok("a"))
	rt.Protected("POST /b", ok("b"))
	keys := rt.RouteKeys()
	slices.Sort(keys)
	if want := []string{"GET /a", "POST /b"}; !slices.Equal(keys, want) {
		t.Errorf("RouteKeys() = %v, want %v", keys, want)
	}

	tests := []struct {
		name     string
		register func()
	}{
		{name: "public twice", register: func() { rt.Public("GET /a", ok("again")) }},
		{name: "protected over public", register: func() { rt.Protected("GET /a", ok("again")) }},
		{name: "public over protected", register: func() { rt.Public("POST /b", ok("again")) }},
		{name: "protected without a verifier", register: func() { httpapi.NewRouter(discardLogger(), nil).Protected("GET /c", ok("c")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("duplicate registration did not panic")
				}
			}()
			tc.register()
		})
	}
}

// revocations answers every check with err, and counts the checks.
type revocations struct {
	err    error
	checks int
}

func (r *revocations) Check(context.Context, token.Claims) error {
	r.checks++
	return r.err
}

func TestRouterRevokedTokens(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
	}{
		{"not revoked", nil, http.StatusNoContent, ""},
		{"revoked", fmt.Errorf("check: %w", revocation.ErrRevoked), http.StatusUnauthorized, "invalid-token"},
		{"list unavailable", fmt.Errorf("%w: throttled", revocation.ErrUnavailable), http.StatusServiceUnavailable, "unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &revocations{err: tc.err}
			rt := httpapi.NewRouter(discardLogger(), auth.Verifier()).WithRevocations(r)
			rt.Protected("GET /v1/me", func(context.Context, *httpapi.Request) (*httpapi.Response, error) { return httpapi.NoContent(), nil })
			rt.Public("GET /v1/health", func(context.Context, *httpapi.Request) (*httpapi.Response, error) { return httpapi.NoContent(), nil })

			resp, err := rt.Handle(context.Background(), bearer(event("GET /v1/me"), auth.Token(t, ada)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantType == "" {
				if resp.StatusCode != tc.wantStatus {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
				}
			} else if d := decodeProblem(t, resp, tc.wantStatus); d.Type != problem.TypeBase+tc.wantType {
				t.Errorf("type %q, want %s", d.Type, tc.wantType)
			}
			if tc.wantStatus == http.StatusServiceUnavailable && resp.Headers["Retry-After"] != "5" {
				t.Errorf("Retry-After = %q, want 5", resp.Headers["Retry-After"])
			}
			// Public routes never ask.
			if _, err := rt.Handle(context.Background(), event("GET /v1/health")); err != nil || r.checks != 1 {
				t.Errorf("checks = %d after a public request, want 1", r.checks)
			}
		})
	}
}

// TestUntrustedRequestIDIsKeptApart: an X-Request-Id that is not of the
// documented form does not become the correlation id, but is logged as
// clientRequestId (clipped, valid UTF-8) so the client's support request
// can still be found.
func TestUntrustedRequestIDIsKeptApart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, wantClient string
	}{
		{"trusted", "web.checkout:1234_ab", ""},
		{"absent", "", ""},
		{"too short", "abc", "abc"},
		{"injection", "abcdefgh\n{\"level\":\"ERROR\"}", "abcdefgh\n{\"level\":\"ERROR\"}"},
		{"too long, clipped", strings.Repeat("x", 300), strings.Repeat("x", 128)},
		{"clipped inside a rune", strings.Repeat("x", 127) + "é", strings.Repeat("x", 127) + "\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rt := httpapi.NewRouter(logging.New(&logs, "test"), nil)
			rt.Public("GET /x", func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
				return httpapi.NoContent(), nil
			})
			ev := event("GET /x")
			if tt.header != "" {
				ev.Headers["X-Request-Id"] = tt.header
			}
			if _, err := rt.Handle(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			got, ok := line[httpapi.KeyClientRequestID]
			if tt.wantClient == "" && ok || tt.wantClient != "" && got != tt.wantClient {
				t.Errorf("clientRequestId = %q (present %v), want %q", got, ok, tt.wantClient)
			}
			if tt.wantClient != "" && line[logging.KeyCorrelationID] == tt.header {
				t.Errorf("the untrusted id became the correlation id")
			}
			if strings.Count(logs.String(), "\n") != 1 {
				t.Errorf("the request logged %d lines, want one:\n%s", strings.Count(logs.String(), "\n"), logs.String())
			}
		})
	}
}
