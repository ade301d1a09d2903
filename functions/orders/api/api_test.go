package api

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/principal"
)

// testNow is the API's clock in handler tests; the sub-millisecond part
// checks that stored times are truncated to milliseconds.
var testNow = time.Date(2025, 3, 2, 12, 30, 15, 123456789, time.UTC)

var (
	ada   = principal.Principal{UserID: "user-ada", Email: "ada@example.com", Name: "Ada Lovelace", EmailVerified: true}
	grace = principal.Principal{UserID: "user-grace", Email: "grace@example.com", Name: "Grace Hopper", EmailVerified: true}
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
	auth   *apitest.Auth
	fake   *fakeStore
	mem    *memStore
	ids    atomic.Int64
	later  atomic.Int64 // how far the clock has moved past testNow
}

// now is the service's clock: testNow, moved on by advance.
func (h *harness) now() time.Time { return testNow.Add(time.Duration(h.later.Load())) }

// advance moves the service's clock on by d.
func (h *harness) advance(d time.Duration) { h.later.Add(int64(d)) }

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{auth: apitest.NewAuth(t)}
	h.fake, h.mem = newFakeStore(testCatalog()...)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := NewHandler(log, Config{
		Service: app.New(app.Config{
			Store: h.fake,
			Log:   log,
			NewID: h.newID,
			Now:   h.now,
		}),
		Verifier:  h.auth.Verifier(),
		CursorKey: testCursorKey,
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

// req is one API request as a test describes it.
type req struct {
	route   string // route key, e.g. "GET /v1/orders/{id}"
	path    map[string]string
	query   map[string]string
	headers map[string]string
	body    string
	caller  *principal.Principal // nil: no access token
}

// event is the request as API Gateway delivers it, with a valid access
// token of the caller.
func (h *harness) event(t *testing.T, r req) events.APIGatewayProxyRequest {
	t.Helper()
	in := apitest.Request{Route: r.route, Path: r.path, Query: r.query, Headers: r.headers, Body: r.body}
	if r.caller != nil {
		in.Bearer = h.auth.Token(t, *r.caller)
	}
	return in.Event()
}

func (h *harness) do(t *testing.T, r req) events.APIGatewayProxyResponse {
	t.Helper()
	resp, err := h.router.Handle(context.Background(), h.event(t, r))
	if err != nil {
		t.Fatalf("%s: Handle error = %v", r.route, err)
	}
	apitest.CheckAnswer(t, r.route, resp)
	return resp
}

// wantProblem checks that resp is a problem of the given status and slug
// and returns it.
func wantProblem(t *testing.T, resp events.APIGatewayProxyResponse, status int, slug string) apitest.Problem {
	t.Helper()
	return apitest.WantProblem(t, resp, status, slug)
}

func decode[T any](t *testing.T, resp events.APIGatewayProxyResponse) T {
	t.Helper()
	return apitest.Decode[T](t, resp)
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

// TestProtectedRoutesNeedCaller checks that every protected orders route
// refuses a request without a valid access token before reaching the store.
// (internal/contract checks which routes are protected.)
func TestProtectedRoutesNeedCaller(t *testing.T) {
	routes := newHarness(t).router
	for _, route := range routes.RouteKeys() {
		if !routes.IsProtected(route) {
			continue
		}
		t.Run(route, func(t *testing.T) {
			h := newHarness(t)
			r := req{route: route, path: map[string]string{}, body: `{"items":[{"sku":"COF-ESP-250","quantity":1}]}`}
			for _, m := range pathParam.FindAllStringSubmatch(route, -1) {
				r.path[m[1]] = cursorPos
			}
			resp := h.do(t, r)
			wantProblem(t, resp, 401, "invalid-token")

			// An expired token is refused the same way.
			in := h.event(t, r)
			in.Headers["Authorization"] = "Bearer " + h.auth.TokenAt(t, ada, time.Now().Add(-time.Hour))
			resp, err := h.router.Handle(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			wantProblem(t, resp, 401, "invalid-token")
			if h.mem.orderReads != 0 || len(h.mem.pageCalls) != 0 || len(h.mem.creates) != 0 {
				t.Error("the store was used without a caller")
			}
		})
	}
}

// pathParam matches a path parameter of a route key, like {id}.
var pathParam = regexp.MustCompile(`\{(\w+)\}`)

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
