package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
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

// harness is the API, on a fake store, and a client of it.
type harness struct {
	*apitest.Client
	server *web.Server
	auth   *apitest.Auth
	fake   *fakeStore
	mem    *fakeStore
	ids    atomic.Int64
	later  atomic.Int64 // how far the clock has moved past testNow
}

// now is the service's clock: testNow, moved on by advance.
func (h *harness) now() time.Time { return testNow.Add(time.Duration(h.later.Load())) }

// advance moves the service's clock on by d.
func (h *harness) advance(d time.Duration) { h.later.Add(int64(d)) }

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, Config{CursorKey: testCursorKey})
}

// newHarnessWith is newHarness with cfg's cursor key settings.
func newHarnessWith(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{auth: apitest.NewAuth(t)}
	h.fake, h.mem = newFakeStore(testCatalog()...)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Service = app.New(app.Config{Store: h.fake, Log: log, NewID: h.newID, Now: h.now})
	cfg.Verifier = h.auth.Verifier()
	s, err := NewHandler(log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.server, h.Client = s, &apitest.Client{Handler: s}
	return h
}

// newID returns ULID-shaped ids that grow with every call, as ULIDs do.
func (h *harness) newID() string {
	return fmt.Sprintf("01JNQ%021d", h.ids.Add(1))
}

// req is one API request as a test describes it.
type req struct {
	route   string // method and pattern, e.g. "GET /v1/orders/{id}"
	path    map[string]string
	query   map[string]string
	headers map[string]string // a header with an empty value is sent empty
	body    string
	caller  *principal.Principal // nil: no access token
}

// request is the HTTP request r describes, with a valid access token of
// the caller.
func (h *harness) request(t *testing.T, r req) *http.Request {
	t.Helper()
	method, target, _ := strings.Cut(r.route, " ")
	for k, v := range r.path {
		target = strings.ReplaceAll(target, "{"+k+"}", url.PathEscape(v))
	}
	if r.query != nil {
		q := url.Values{}
		for k, v := range r.query {
			q.Set(k, v)
		}
		target += "?" + q.Encode()
	}
	var body any
	if r.body != "" {
		body = r.body
	}
	hr := apitest.NewRequest(method, target, body)
	if r.caller != nil {
		hr.Header.Set("Authorization", "Bearer "+h.auth.Token(t, *r.caller))
	}
	for k, v := range r.headers {
		hr.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	return hr
}

func (h *harness) do(t *testing.T, r req) *apitest.Response {
	t.Helper()
	return h.Do(t, h.request(t, r))
}

func wantProblem(t *testing.T, resp *apitest.Response, status int, slug string) apitest.Problem {
	t.Helper()
	return resp.Problem(t, status, slug)
}

func decode[T any](t *testing.T, resp *apitest.Response) T {
	t.Helper()
	var v T
	resp.JSON(t, &v)
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
			_, err := NewHandler(slog.New(slog.DiscardHandler), Config{CursorKey: tt.key, Verifier: token.NewVerifier(nil, "", "", nil)})
			if (err != nil) != tt.wantErr {
				t.Errorf("NewHandler() error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

// TestProtectedRoutesNeedCaller checks that every protected orders route
// refuses a request without a valid access token before reaching the store.
// (internal/contract checks which routes are protected.)
func TestProtectedRoutesNeedCaller(t *testing.T) {
	for _, route := range newHarness(t).server.Routes() {
		if !route.Protected {
			continue
		}
		t.Run(route.Pattern, func(t *testing.T) {
			h := newHarness(t)
			r := req{route: route.Pattern, path: map[string]string{"id": cursorPos}, body: `{"items":[{"sku":"COF-ESP-250","quantity":1}]}`}
			wantProblem(t, h.do(t, r), 401, "invalid-token")

			// An expired token is refused the same way.
			r.headers = map[string]string{"Authorization": "Bearer " + h.auth.TokenAt(t, ada, time.Now().Add(-time.Hour))}
			resp := wantProblem(t, h.do(t, r), 401, "invalid-token")
			if resp.Detail != "A valid access token is required." {
				t.Errorf("detail %q", resp.Detail)
			}
			if h.mem.orderReads != 0 || len(h.mem.pageCalls) != 0 || len(h.mem.creates) != 0 {
				t.Error("the store was used without a caller")
			}
		})
	}
}

// TestStoreFailuresAreInternal: a failing store is a 500 on every route,
// with a generic detail that shows nothing of the cause, and no-store.
func TestStoreFailuresAreInternal(t *testing.T) {
	boom := errors.New("dynamodb: secret table detail")
	for _, tc := range []struct {
		r      req
		breaks func(f *fakeStore)
	}{
		{req{route: "GET /v1/products"}, func(f *fakeStore) {
			f.ProductsFunc = func(context.Context) ([]order.Product, error) { return nil, boom }
		}},
		{req{route: "GET /v1/products/{sku}", path: map[string]string{"sku": "COF-ESP-250"}}, func(f *fakeStore) {
			f.ProductsFunc = func(context.Context) ([]order.Product, error) { return nil, boom }
		}},
		{req{route: "POST /v1/orders", body: orderBody, caller: &ada}, func(f *fakeStore) {
			f.ProductsFunc = func(context.Context) ([]order.Product, error) { return nil, boom }
		}},
		{req{route: "POST /v1/orders", body: orderBody, caller: &ada}, func(f *fakeStore) {
			f.CreateOrderFunc = func(context.Context, order.Order, order.EventRef, *order.Claim, order.Quota, time.Time) (*order.Order, error) {
				return nil, boom
			}
		}},
		{req{route: "GET /v1/orders", caller: &ada}, func(f *fakeStore) {
			f.OrdersFunc = func(context.Context, string, int, string) ([]order.Order, string, error) { return nil, "", boom }
		}},
		{req{route: "POST /v1/orders/{id}/cancel", path: map[string]string{"id": cursorPos}, caller: &ada}, func(f *fakeStore) {
			f.CancelOrderFunc = func(context.Context, string, string, time.Time, order.EventRef) (order.Order, error) {
				return order.Order{}, boom
			}
		}},
	} {
		t.Run(tc.r.route, func(t *testing.T) {
			h := newHarness(t)
			tc.breaks(h.fake)
			resp := h.do(t, tc.r)
			p := wantProblem(t, resp, http.StatusInternalServerError, "internal")
			if p.Detail == "" || containsAny(resp.Body, "dynamodb", "secret") || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("500 leaks the cause, lacks a detail or may be cached: %v %s", resp.Header, resp.Body)
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
