package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

var ada = principal.Principal{UserID: "u-1", Email: "ada@example.com", Name: "Ada"}

var (
	errStale = errors.New("domain: stale write")
	throttle = &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &types.InternalServerError{}}
)

// revocations answers the check of a user's token with the error it maps
// the user to.
type revocations map[string]error

func (r revocations) Check(_ context.Context, c token.Claims) error { return r[c.Subject] }

// testServer is a server with a route for each behaviour under test, its
// logs, its metrics and a client of it.
type testServer struct {
	*apitest.Client
	auth    *apitest.Auth
	logs    *bytes.Buffer
	metrics *bytes.Buffer
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{auth: apitest.NewAuth(t), logs: &bytes.Buffer{}, metrics: &bytes.Buffer{}}
	m := metrics.New(ts.metrics, "test")
	s := web.New(web.Config{
		Log: logging.New(ts.logs, "test"), Verifier: ts.auth.Verifier(), Metrics: m,
		Revocations: revocations{"u-revoked": fmt.Errorf("check: %w", revocation.ErrRevoked), "u-unknown": fmt.Errorf("%w: throttled", revocation.ErrUnavailable)},
		Errors: func(err error) error {
			if errors.Is(err, errStale) {
				return &problem.Error{Kind: problem.Conflict, Detail: "Stale.", Err: err}
			}
			return err
		},
	})
	s.Public("GET /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) error {
		m.Add("Things", 1)
		return web.JSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "corr": logging.CorrelationID(r.Context())})
	})
	s.Protected("PUT /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) error {
		var in struct {
			Name string `json:"name"`
		}
		if err := web.DecodeJSON(r, &in); err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, map[string]string{"name": in.Name, "caller": web.Caller(r).UserID})
	})
	s.Protected("GET /v1/mine", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.Staff("PUT /v1/admin/things/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return web.JSON(w, http.StatusOK, map[string]string{"id": r.PathValue("id"), "caller": web.Caller(r).UserID})
	})
	fail := func(err error) web.HandlerFunc {
		return func(http.ResponseWriter, *http.Request) error { return err }
	}
	s.Public("GET /fail/stale", fail(fmt.Errorf("save: %w", errStale)))
	s.Public("GET /fail/throttled", fail(fmt.Errorf("get: %w", throttle)))
	s.Public("GET /fail/deadline", func(_ http.ResponseWriter, r *http.Request) error {
		d, _ := r.Context().Deadline()
		return fmt.Errorf("query, %v before: %w", time.Until(d).Round(time.Second), context.DeadlineExceeded)
	})
	s.Public("GET /fail/limited", fail(&problem.Error{Kind: problem.TooManyRequests, RetryAfter: 1500 * time.Millisecond, Detail: "Slow down."}))
	s.Public("GET /fail/secret", fail(errors.New("db password is hunter2")))
	s.Public("GET /fail/panic", func(http.ResponseWriter, *http.Request) error { panic("db password is hunter2") })
	s.Public("GET /fail/caller", func(_ http.ResponseWriter, r *http.Request) error { _ = web.Caller(r); return nil })
	s.Public("GET /fail/json", func(w http.ResponseWriter, _ *http.Request) error { return web.JSON(w, 200, func() {}) })
	ts.Client = &apitest.Client{Handler: s}
	return ts
}

func (ts *testServer) get(t *testing.T, target string, headers ...string) *apitest.Response {
	t.Helper()
	return ts.Do(t, apitest.NewRequest(http.MethodGet, target, nil, headers...))
}

// bearer is the Authorization of a token of ada's, as the user given
// (a staff member when the id starts with "staff").
func (ts *testServer) bearer(t *testing.T, userID string) string {
	p := ada
	p.UserID = userID
	if strings.HasPrefix(userID, "staff") {
		p.Role = token.RoleStaff
	}
	return "Bearer " + ts.auth.Token(t, p)
}

func TestServerAnswers(t *testing.T) {
	ts := newTestServer(t)
	tests := []struct {
		name, method, target, body string
		caller                     string // the user of the bearer token, if any
		headers                    []string
		status                     int
		slug, detail               string
		want                       map[string]string // headers
	}{
		{name: "public", method: "GET", target: "/v1/things/a%2Fb", status: 200,
			want: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}},
		{name: "protected", method: "PUT", target: "/v1/things/1", body: `{"name":"x"}`, caller: "u-1", status: 200},
		{name: "strict JSON", method: "PUT", target: "/v1/things/1", body: `{"Name":"x"}`, caller: "u-1", status: 400, slug: "validation"},
		{name: "no token", method: "PUT", target: "/v1/things/1", body: `{}`, status: 401, slug: "invalid-token",
			want: map[string]string{"WWW-Authenticate": `Bearer error="invalid_token"`}},
		{name: "bad token", method: "GET", target: "/v1/mine", headers: []string{"Authorization", "Bearer x.y.z"}, status: 401, slug: "invalid-token"},
		{name: "revoked token", method: "GET", target: "/v1/mine", caller: "u-revoked", status: 401, slug: "invalid-token"},
		{name: "revocations unknown", method: "GET", target: "/v1/mine", caller: "u-unknown", status: 503, slug: "unavailable",
			detail: "Access tokens cannot be checked right now; retry shortly.", want: map[string]string{"Retry-After": "5"}},
		{name: "no route", method: "GET", target: "/v1/nothing", status: 404, slug: "not-found"},
		{name: "unclean path", method: "GET", target: "/v1/things//x", status: 404, slug: "not-found"},
		{name: "other method", method: "DELETE", target: "/v1/things/1", status: 405, slug: "method-not-allowed",
			want: map[string]string{"Allow": "GET, PUT"}},
		{name: "HEAD is another method", method: "HEAD", target: "/v1/things/1", status: 405, want: map[string]string{"Allow": "GET, PUT"}},
		{name: "other method of a protected path, no token", method: "POST", target: "/v1/mine", status: 401, slug: "invalid-token"},
		{name: "other method of a protected path", method: "POST", target: "/v1/mine", caller: "u-1", status: 405, want: map[string]string{"Allow": "GET"}},
		{name: "staff route, staff", method: "PUT", target: "/v1/admin/things/1", caller: "staff-1", status: 200},
		{name: "staff route, customer", method: "PUT", target: "/v1/admin/things/1", caller: "u-1", status: 403, slug: "forbidden",
			detail: "This route is for the shop's staff."},
		{name: "staff route, no token", method: "PUT", target: "/v1/admin/things/1", status: 401, slug: "invalid-token"},
		{name: "staff route, other method", method: "GET", target: "/v1/admin/things/1", caller: "u-1", status: 405},
		{name: "domain error", method: "GET", target: "/fail/stale", status: 409, slug: "conflict"},
		{name: "dependency out", method: "GET", target: "/fail/throttled", status: 503, slug: "unavailable", want: map[string]string{"Retry-After": "5"}},
		{name: "retry after rounded up", method: "GET", target: "/fail/limited", status: 429, want: map[string]string{"Retry-After": "2"}},
		{name: "internal", method: "GET", target: "/fail/secret", status: 500, slug: "internal"},
		{name: "panic", method: "GET", target: "/fail/panic", status: 500, slug: "internal"},
		{name: "Caller on a public route", method: "GET", target: "/fail/caller", status: 500, slug: "internal"},
		{name: "unencodable answer", method: "GET", target: "/fail/json", status: 500, slug: "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			headers := tc.headers
			if tc.caller != "" {
				headers = append(headers, "Authorization", ts.bearer(t, tc.caller))
			}
			resp := ts.Do(t, apitest.NewRequest(tc.method, tc.target, body, headers...))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			if tc.status >= 400 {
				p := resp.Problem(t, tc.status, tc.slug)
				if p.Instance != resp.Request.URL.Path || strings.Contains(resp.Body, "hunter2") || tc.detail != "" && p.Detail != tc.detail {
					t.Errorf("problem %+v", p)
				}
			}
			for k, v := range tc.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if !strings.Contains(ts.logs.String(), "hunter2") || !strings.Contains(ts.logs.String(), "dependency unavailable") {
		t.Errorf("the log lacks the internal errors:\n%s", ts.logs)
	}
}

// TestServerCorrelationID: a safe X-Request-Id is the correlation id; an
// unsafe one is replaced, and logged apart, clipped.
func TestServerCorrelationID(t *testing.T) {
	for _, tc := range []struct{ name, header, wantClient string }{
		{"safe", "web.checkout:1234_ab", ""},
		{"absent", "", ""},
		{"too short", "abcdefg", "abcdefg"},
		{"injection", "abcdefgh\n{\"level\":\"ERROR\"}", "abcdefgh\n{\"level\":\"ERROR\"}"},
		{"too long, clipped", strings.Repeat("x", 300), strings.Repeat("x", 128)},
		{"clipped inside a rune", strings.Repeat("x", 127) + "é", strings.Repeat("x", 127) + "\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t)
			req := apitest.NewRequest("GET", "/v1/things/1", nil)
			req.Header[web.HeaderRequestID] = []string{tc.header}
			resp := ts.Do(t, req)
			var body map[string]string
			resp.JSON(t, &body)
			corr := resp.Header.Get(web.HeaderRequestID)
			if body["corr"] != corr || (tc.wantClient == "" && tc.header != "" && corr != tc.header) || (tc.wantClient != "" && corr == tc.header) {
				t.Errorf("correlation id %q, handler saw %q, header %q", corr, body["corr"], tc.header)
			}
			var line map[string]any
			if err := json.Unmarshal(ts.logs.Bytes(), &line); err != nil {
				t.Fatalf("want one JSON log line: %v\n%s", err, ts.logs)
			}
			if got, ok := line[web.KeyClientRequestID]; tc.wantClient == "" && ok || tc.wantClient != "" && got != tc.wantClient {
				t.Errorf("clientRequestId = %q (present %v), want %q", got, ok, tc.wantClient)
			}
			if line[logging.KeyCorrelationID] != corr {
				t.Errorf("log correlation id %v, want %q", line[logging.KeyCorrelationID], corr)
			}
		})
	}
}

// TestServerAccessLog checks the one log line of a request, and the
// metrics flushed after it.
func TestServerAccessLog(t *testing.T) {
	ts := newTestServer(t)
	ts.get(t, "/v1/things/1")
	ts.get(t, "/v1/mine", "Authorization", ts.bearer(t, ada.UserID), web.HeaderRequestID, "corr-12345678")
	lines := strings.Split(strings.TrimSpace(ts.logs.String()), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); len(lines) != 2 || err != nil {
		t.Fatalf("want two JSON log lines: %v\n%s", err, ts.logs)
	}
	want := map[string]any{"message": "request", "route": "GET /v1/mine", "status": float64(204),
		logging.KeyCorrelationID: "corr-12345678", logging.KeyUserID: "u-1", "service": "test"}
	for k, v := range want {
		if last[k] != v {
			t.Errorf("log[%q] = %v, want %v", k, last[k], v)
		}
	}
	if _, ok := last["durationMs"].(float64); !ok {
		t.Errorf("log has no durationMs: %v", last)
	}
	if got := strings.Count(ts.metrics.String(), `"Things":1`); got != 1 {
		t.Errorf("metrics flushed %d times with the count:\n%s", got, ts.metrics)
	}
}

// TestServerStaffLog: every staff action is logged with the staff
// member, the route, the path and the status; a customer's refused request
// is no staff action.
func TestServerStaffLog(t *testing.T) {
	ts := newTestServer(t)
	ts.Do(t, apitest.NewRequest("PUT", "/v1/admin/things/7", nil, "Authorization", ts.bearer(t, "u-1")))
	if strings.Contains(ts.logs.String(), "staff action") {
		t.Fatalf("a customer's request logged as a staff action:\n%s", ts.logs)
	}
	ts.Do(t, apitest.NewRequest("PUT", "/v1/admin/things/7", nil, "Authorization", ts.bearer(t, "staff-1"), web.HeaderRequestID, "corr-staff-1"))
	var action map[string]any
	for _, line := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
		if strings.Contains(line, `"staff action"`) {
			if err := json.Unmarshal([]byte(line), &action); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]any{"route": "PUT /v1/admin/things/{id}", "path": "/v1/admin/things/7", "status": float64(200),
		logging.KeyUserID: "staff-1", logging.KeyCorrelationID: "corr-staff-1"}
	for k, v := range want {
		if action[k] != v {
			t.Errorf("staff action log[%q] = %v, want %v\n%s", k, action[k], v, ts.logs)
		}
	}
}

// TestServerDeadline: a handler runs under a deadline a second before the
// request's, so that a dependency that hangs ends in a 503 the server can
// still send.
func TestServerDeadline(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	resp := ts.Do(t, apitest.NewRequest("GET", "/fail/deadline", nil).WithContext(ctx))
	resp.Problem(t, 503, "unavailable")
	if !strings.Contains(ts.logs.String(), "59m59s before") {
		t.Errorf("handler deadline not a second before the request's:\n%s", ts.logs)
	}
}

func TestServerRoutes(t *testing.T) {
	s := web.New(web.Config{Log: logging.New(io.Discard, "test"), Verifier: apitest.NewAuth(t).Verifier()})
	s.Public("GET /a", nil)
	s.Protected("POST /a", nil)
	s.Staff("PUT /a", nil)
	if want := []web.Route{{Pattern: "GET /a"}, {Pattern: "POST /a", Protected: true}, {Pattern: "PUT /a", Protected: true, Staff: true}}; !slices.Equal(s.Routes(), want) {
		t.Errorf("Routes() = %v, want %v", s.Routes(), want)
	}
	for name, register := range map[string]func(){
		"twice":                    func() { s.Public("GET /a", nil) },
		"HEAD":                     func() { s.Public("HEAD /b", nil) },
		"no method":                func() { s.Public("/c", nil) },
		"protected, no verifier":   func() { web.New(web.Config{}).Protected("GET /d", nil) },
		"protected after a public": func() { s.Protected("GET /a", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("registration did not panic")
				}
			}()
			register()
		})
	}
	// A request that is not from API Gateway gets a correlation id anyway.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/nowhere", nil))
	if rec.Code != 404 || rec.Header().Get(web.HeaderRequestID) == "" {
		t.Errorf("%d, X-Request-Id %q", rec.Code, rec.Header().Get(web.HeaderRequestID))
	}
}

// TestServerAccessLogRoutes: the access line names the route by its
// pattern; a method the path does not take by that method and the path's
// pattern; a request no route serves by its method and path.
func TestServerAccessLogRoutes(t *testing.T) {
	for _, tc := range []struct{ method, target, route string }{
		{"GET", "/v1/things/42", "GET /v1/things/{id}"},
		{"DELETE", "/v1/things/42", "DELETE /v1/things/{id}"},
		{"HEAD", "/v1/things/42", "HEAD /v1/things/{id}"},
		{"GET", "/v1/nothing", "GET /v1/nothing"},
		{"GET", "/v1//things", "GET /v1//things"},
	} {
		ts := newTestServer(t)
		ts.Do(t, apitest.NewRequest(tc.method, tc.target, nil))
		var line map[string]any
		if err := json.Unmarshal(ts.logs.Bytes(), &line); err != nil || line["route"] != tc.route {
			t.Errorf("%s %s: route %v, want %q (%v)", tc.method, tc.target, line["route"], tc.route, err)
		}
	}
}

// TestServerMetricsFlushFailure: metrics that cannot be written cost the
// answer nothing; the failure is logged.
func TestServerMetricsFlushFailure(t *testing.T) {
	logs := &bytes.Buffer{}
	m := metrics.New(failingWriter{}, "test")
	s := web.New(web.Config{Log: logging.New(logs, "test"), Metrics: m})
	s.Public("GET /a", func(w http.ResponseWriter, _ *http.Request) error {
		m.Add("A", 1)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/a", nil))
	if rec.Code != http.StatusNoContent || !strings.Contains(logs.String(), `"message":"metrics flush failed"`) {
		t.Errorf("status %d, logs:\n%s", rec.Code, logs)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
