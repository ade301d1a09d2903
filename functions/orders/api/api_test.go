package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/problem"
)

// testNow is the API's clock in handler tests; the sub-millisecond part
// checks that stored times are truncated to milliseconds.
var testNow = time.Date(2025, 3, 2, 12, 30, 15, 123456789, time.UTC)

var (
	ada   = principal.Principal{UserID: "user-ada", Email: "ada@example.com", Name: "Ada Lovelace"}
	grace = principal.Principal{UserID: "user-grace", Email: "grace@example.com", Name: "Grace Hopper"}
)

// testCatalog is out of SKU order on purpose; the fake store sorts it.
func testCatalog() []order.Product {
	return []order.Product{
		{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Description: "Black tea.", UnitPrice: 850, Currency: "USD", Active: true},
		{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Description: "Dark roast.", UnitPrice: 1290, Currency: "USD", Active: true},
		{SKU: "MUG-OLD", Name: "Old mug", Description: "Retired.", UnitPrice: 1500, Currency: "USD", Active: false},
		{SKU: "BRW-V60-02", Name: "Pour-over Dripper", Description: "Ceramic.", UnitPrice: 2400, Currency: "USD", Active: true},
		{SKU: "EUR-ONLY", Name: "Euro item", Description: "Priced in euros.", UnitPrice: 999, Currency: "EUR", Active: true},
	}
}

// harness is an API behind its router, on a fake store.
type harness struct {
	router *httpapi.Router
	fake   *fakeStore
	mem    *memStore
	ids    atomic.Int64
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{}
	h.fake, h.mem = newFakeStore(testCatalog()...)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := NewHandler(log, Config{
		Store:     h.fake,
		CursorKey: testCursorKey,
		NewID:     h.newID,
		Now:       func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.router = r
	return h
}

// newID returns ULID-shaped ids that grow with every call, as ULIDs do.
func (h *harness) newID() string {
	return fmt.Sprintf("01JNQ%021d", h.ids.Add(1))
}

// req is one API request as API Gateway delivers it.
type req struct {
	route   string // route key, e.g. "GET /v1/orders/{id}"
	path    map[string]string
	query   map[string]string
	headers map[string]string
	body    string
	caller  *principal.Principal // nil: no authorizer context
}

func (r req) event() events.APIGatewayV2HTTPRequest {
	method, tmpl, _ := strings.Cut(r.route, " ")
	raw := tmpl
	for k, v := range r.path {
		raw = strings.ReplaceAll(raw, "{"+k+"}", v)
	}
	headers := map[string]string{}
	if r.body != "" {
		headers["content-type"] = "application/json"
	}
	for k, v := range r.headers {
		headers[strings.ToLower(k)] = v
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              r.route,
		RawPath:               raw,
		Headers:               headers,
		QueryStringParameters: r.query,
		PathParameters:        r.path,
		Body:                  r.body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "apigw-request-id-1",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: raw},
		},
	}
	if r.caller != nil {
		p := *r.caller
		p.ExpiresAt = time.Now().Add(time.Hour)
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: p.Context()}
	}
	return ev
}

func (h *harness) do(t *testing.T, r req) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := h.router.Handle(context.Background(), r.event())
	if err != nil {
		t.Fatalf("%s: Handle error = %v", r.route, err)
	}
	return resp
}

// problemBody is the RFC 9457 document of an error response.
type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (p problemBody) slug() string { return strings.TrimPrefix(p.Type, problem.TypeBase) }

func (p problemBody) fields() []string {
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

// wantProblem checks that resp is a problem of the given status and slug
// and returns it.
func wantProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, slug string) problemBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != problem.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, problem.ContentType)
	}
	var p problemBody
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("problem body %q: %v", resp.Body, err)
	}
	if p.Status != status {
		t.Errorf("problem status = %d, want %d", p.Status, status)
	}
	if slug != "" && p.slug() != slug {
		t.Errorf("problem type = %q, want slug %q", p.Type, slug)
	}
	return p
}

func decode[T any](t *testing.T, resp events.APIGatewayV2HTTPResponse) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(resp.Body), &v); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return v
}

func TestNewRejectsShortCursorKey(t *testing.T) {
	tests := []struct {
		name    string
		key     []byte
		wantErr bool
	}{
		{"nil", nil, true},
		{"31 bytes", make([]byte, 31), true},
		{"32 bytes", make([]byte, 32), false},
		{"64 bytes", make([]byte, 64), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{CursorKey: tt.key})
			if (err != nil) != tt.wantErr {
				t.Errorf("New() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	h := newHarness(t)
	want := map[string]bool{
		"GET /v1/products":            true,
		"GET /v1/products/{sku}":      true,
		"POST /v1/orders":             true,
		"GET /v1/orders":              true,
		"GET /v1/orders/{id}":         true,
		"POST /v1/orders/{id}/cancel": true,
	}
	got := h.router.RouteKeys()
	if len(got) != len(want) {
		t.Errorf("routes = %v, want %d routes", got, len(want))
	}
	for _, k := range got {
		if !want[k] {
			t.Errorf("unexpected route %q", k)
		}
	}
}

// TestProtectedRoutesNeedCaller checks that every orders route refuses a
// request without a valid principal before reaching the store.
func TestProtectedRoutesNeedCaller(t *testing.T) {
	expired := ada
	tests := []struct {
		name string
		r    req
	}{
		{"create", req{route: "POST /v1/orders", body: `{"items":[{"sku":"COF-ESP-250","quantity":1}]}`}},
		{"list", req{route: "GET /v1/orders"}},
		{"get", req{route: "GET /v1/orders/{id}", path: map[string]string{"id": cursorPos}}},
		{"cancel", req{route: "POST /v1/orders/{id}/cancel", path: map[string]string{"id": cursorPos}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, tt.r)
			wantProblem(t, resp, 401, "invalid-token")

			// An expired principal is refused the same way.
			ev := tt.r.event()
			expired.ExpiresAt = time.Now().Add(-time.Second)
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: expired.Context()}
			resp, err := h.router.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, resp, 401, "invalid-token")
			if h.mem.orderReads != 0 || len(h.mem.pageCalls) != 0 || len(h.mem.completions) != 0 {
				t.Error("the store was used without a caller")
			}
		})
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
