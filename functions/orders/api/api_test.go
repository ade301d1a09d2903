package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// The handler tests check what the API adds to the use cases (package app,
// where their behaviour is tested): routes, authentication, decoding,
// statuses, headers, problem documents, cursors and ETags.

// testCursorKey keys the cursors of the handler tests; cursorPos is an
// order id, the position of a cursor of cursorUser.
var testCursorKey = []byte("0123456789abcdef0123456789abcdef")

func loadTestCursorKey(context.Context) ([]byte, error) { return testCursorKey, nil }

const (
	cursorUser = "user-1"
	cursorPos  = "01JNQ6Z5V2G7W4X9K3M8P0R1ST"
)

// testNow is the API's clock in handler tests.
var testNow = time.Date(2025, 3, 2, 12, 30, 15, 123456789, time.UTC)

var (
	ada   = principal.Principal{UserID: "user-ada", Email: "ada@example.com", Name: "Ada Lovelace", EmailVerified: true}
	grace = principal.Principal{UserID: "user-grace", Email: "grace@example.com", Name: "Grace Hopper", EmailVerified: true}
	kim   = principal.Principal{UserID: "user-kim", Email: "kim@example.com", Name: "Kim", EmailVerified: true, Role: token.RoleStaff}
)

const productBody = `{"sku":"MUG-NEW-1","name":"Mug","description":"Stoneware, 300 ml.","unitPrice":1800,"currency":"USD"}`

const orderBody = `{"items":[{"sku":"COF-ESP-250","quantity":2},{"sku":"TEA-EARL-100","quantity":1}]}`

// harness is the API, on the in-memory store, and a client of it.
type harness struct {
	*apitest.Client
	server *web.Server
	auth   *apitest.Auth
	store  *apptest.Faulty
	ids    atomic.Int64
	later  atomic.Int64 // how far the clock has moved past testNow
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, Config{LoadCursorKey: loadTestCursorKey}, apptest.Catalog())
}

// newHarnessWith is newHarness with cfg's cursor key settings and a
// catalog of products.
func newHarnessWith(t *testing.T, cfg Config, products []order.Product) *harness {
	t.Helper()
	h := &harness{auth: apitest.NewAuth(t), store: apptest.NewFaulty()}
	h.store.PutProducts(products...)
	h.store.PutStock(1000, apptest.SKUs(products)...)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Service = app.New(app.Config{Store: h.store, Log: log, NewID: h.newID,
		Now: func() time.Time { return testNow.Add(time.Duration(h.later.Load())) }})
	cfg.Verifier = h.auth.Verifier()
	s := NewHandler(log, cfg)
	h.server, h.Client = s, &apitest.Client{Handler: s}
	return h
}

// newID returns ULID-shaped ids that grow with every call, as ULIDs do.
func (h *harness) newID() string { return fmt.Sprintf("01JNQ%021d", h.ids.Add(1)) }

// request is method target with body ("": none) and headers (name, value
// pairs; an empty value leaves one out), with an access token of caller
// unless nil.
func (h *harness) request(t *testing.T, caller *principal.Principal, method, target, body string, headers ...string) *http.Request {
	t.Helper()
	var b any
	if body != "" {
		b = body
	}
	r := apitest.NewRequest(method, target, b, headers...)
	if caller != nil {
		r.Header.Set("Authorization", "Bearer "+h.auth.Token(t, *caller))
	}
	return r
}

func (h *harness) send(t *testing.T, caller *principal.Principal, method, target, body string, headers ...string) *apitest.Response {
	t.Helper()
	return h.Do(t, h.request(t, caller, method, target, body, headers...))
}

// seedOrders stores n pending orders of p with growing ids and returns the
// ids.
func seedOrders(h *harness, p principal.Principal, n int, status order.Status) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = seedOrder(h, p, status, order.Line{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290})
	}
	return ids
}

// seedOrder stores an order of p with the given lines and returns its id.
func seedOrder(h *harness, p principal.Principal, status order.Status, lines ...order.Line) string {
	o := order.Order{ID: h.newID(), Customer: order.Customer{ID: p.UserID, Email: p.Email, Name: p.Name}, Status: status,
		Lines: lines, Currency: "USD", CreatedAt: testNow.Add(-time.Hour), UpdatedAt: testNow}
	for _, l := range lines {
		o.Total += l.LineTotal
	}
	h.store.Put(o)
	return o.ID
}

func decode[T any](t *testing.T, resp *apitest.Response) T {
	t.Helper()
	var v T
	resp.JSON(t, &v)
	return v
}

// TestStoreFailuresAreInternal: a failing store is a 500 on every route,
// with a generic detail that shows nothing of the cause, and no-store.
func TestStoreFailuresAreInternal(t *testing.T) {
	for _, tc := range []struct{ fails, method, target, body string }{
		{"Products", "GET", "/v1/products", ""},
		{"Products", "GET", "/v1/products/COF-ESP-250", ""},
		{"Products", "POST", "/v1/orders", orderBody},
		{"CreateOrder", "POST", "/v1/orders", orderBody},
		{"Orders", "GET", "/v1/orders", ""},
		{"Order", "GET", "/v1/orders/" + cursorPos, ""},
		{"CancelOrder", "POST", "/v1/orders/" + cursorPos + "/cancel", ""},
		{"Order", "POST", "/v1/orders/" + cursorPos + "/reorder", ""},
	} {
		t.Run(tc.fails+" "+tc.method+" "+tc.target, func(t *testing.T) {
			h := newHarness(t)
			h.store.Fail(tc.fails, errors.New("dynamodb: secret table detail"))
			resp := h.send(t, &ada, tc.method, tc.target, tc.body)
			p := resp.Problem(t, http.StatusInternalServerError, "internal")
			if p.Detail == "" || strings.Contains(resp.Body, "dynamodb") || strings.Contains(resp.Body, "secret") || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("500 leaks the cause, lacks a detail or may be cached: %v %s", resp.Header, resp.Body)
			}
		})
	}
}

// problemCase is a request (by default POST /v1/orders as Ada) and the
// problem it is answered.
type problemCase struct {
	name                 string
	setup                func(h *harness) (target string) // "": the case's
	caller               *principal.Principal             // nil: Ada
	public               bool                             // no access token
	method, target, body string
	headers              []string
	wantStatus           int
	wantSlug, wantDetail string
	wantFields           []string
}

// TestProblems: what each refusal of the use cases, and each request the
// API cannot read, is to a client.
func TestProblems(t *testing.T) {
	unverified := ada
	unverified.EmailVerified = false
	const key = "Idempotency-Key"
	tests := []problemCase{
		// Strict decoding as such is shared/web's (its tests); these are
		// this API's body.
		{name: "client unit price", body: `{"items":[{"sku":"COF-ESP-250","quantity":1,"unitPrice":1}]}`, wantStatus: 400, wantSlug: "validation", wantFields: []string{"unitPrice"}},
		{name: "client total", body: `{"items":[{"sku":"COF-ESP-250","quantity":1}],"total":1}`, wantStatus: 400, wantSlug: "validation", wantFields: []string{"total"}},
		{name: "keys in another case", body: `{"Items":[{"SKU":"COF-ESP-250","quantity":1}]}`, wantStatus: 400, wantSlug: "validation", wantFields: []string{"Items"}},
		{name: "quantity as a string", body: `{"items":[{"sku":"COF-ESP-250","quantity":"2"}]}`, wantStatus: 400, wantSlug: "validation"},
		{name: "not JSON", body: `{"items":`, wantStatus: 400, wantSlug: "invalid-request"},
		{name: "no content type", body: orderBody, headers: []string{"Content-Type", ""}, wantStatus: 415, wantSlug: "unsupported-media-type"},
		{name: "unknown sku", body: `{"items":[{"sku":"COF-ESP-250","quantity":1},{"sku":"NOPE-1","quantity":1}]}`, wantStatus: 422, wantSlug: "unknown-product", wantFields: []string{"items[1].sku"}},
		{name: "invalid key", body: orderBody, headers: []string{key, "two words"}, wantStatus: 400, wantSlug: "validation", wantFields: []string{key}},
		{name: "unverified email", caller: &unverified, body: `{"items":[]}`, wantStatus: 403, wantSlug: "email-unverified",
			wantDetail: "Verify your email address before ordering: follow the link we mailed you, or ask for a new one."},
		// When a key is reused, or busy, is app's and the store's to test.
		{name: "key reused", setup: func(h *harness) string { h.store.Fail("CreateOrder", order.ErrIdempotencyReuse); return "" },
			body: orderBody, headers: []string{key, "k-1"}, wantStatus: 422, wantSlug: "idempotency-key-reused"},
		{name: "key busy", setup: func(h *harness) string { h.store.Fail("CreateOrder", order.ErrIdempotencyBusy); return "" },
			body: orderBody, headers: []string{key, "k-1"}, wantStatus: 409, wantSlug: "idempotency-key-in-use"},
		{name: "quota", setup: func(h *harness) string {
			h.store.Fail("CreateOrder", order.Quota{Max: 1, Window: time.Hour}.Refused(testNow))
			return ""
		}, body: orderBody, wantStatus: 429, wantSlug: "order-quota"},
		{name: "no such order", method: "GET", target: "/v1/orders/01JNQ00000000000000000000Z", wantStatus: 404, wantSlug: "not-found", wantDetail: "No such order."},
		{name: "not cancellable", setup: func(h *harness) string {
			return "/v1/orders/" + seedOrders(h, ada, 1, order.Shipped)[0] + "/cancel"
		}, wantStatus: 409, wantSlug: "order-not-cancellable", wantDetail: "The order can no longer be cancelled."},
		// Which routes are protected is internal/contract's to test, that
		// they refuse a request without a valid token before the handler
		// runs, web's; the answer's detail is pinned here.
		{name: "no access token", public: true, method: "GET", target: "/v1/orders", wantStatus: 401, wantSlug: "invalid-token",
			wantDetail: "A valid access token is required."},
		{name: "no such product", public: true, method: "GET", target: "/v1/products/NOPE-1", wantStatus: 404, wantSlug: "not-found", wantDetail: "No such product."},
		{name: "a path no route has", public: true, method: "GET", target: "/v1/products/", wantStatus: 404, wantSlug: "not-found"},
	}
	for _, v := range []string{"0", "101", "-1", "", "ten", "1.5", "99999999999999999999"} {
		tests = append(tests, problemCase{name: "limit " + v, method: "GET", target: "/v1/orders?limit=" + v, wantStatus: 400, wantSlug: "validation", wantFields: []string{"limit"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			method, target, caller := tt.method, tt.target, tt.caller
			if method == "" {
				method = "POST"
			}
			if target == "" {
				target = "/v1/orders"
			}
			if tt.setup != nil {
				if to := tt.setup(h); to != "" {
					target = to
				}
			}
			if caller == nil {
				caller = &ada
			}
			if tt.public {
				caller = nil
			}
			resp := h.send(t, caller, method, target, tt.body, append([]string{"X-Request-Id", "corr-1"}, tt.headers...)...)
			p := resp.Problem(t, tt.wantStatus, tt.wantSlug)
			if tt.wantDetail != "" && p.Detail != tt.wantDetail {
				t.Errorf("detail %q, want %q", p.Detail, tt.wantDetail)
			}
			if tt.wantFields != nil && !reflect.DeepEqual(p.Fields(), tt.wantFields) {
				t.Errorf("fields %v, want %v", p.Fields(), tt.wantFields)
			}
			// The quota's window ends at 13:00, 1785 s after 12:30:15.123.
			if tt.wantStatus == 429 && resp.Header.Get("Retry-After") != "1785" {
				t.Errorf("Retry-After %q, want the rest of the hour", resp.Header.Get("Retry-After"))
			}
		})
	}
}

// TestEmptyIdempotencyKey: a key header sent empty is a key, and not one.
func TestEmptyIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	r := h.request(t, &ada, "POST", "/v1/orders", orderBody)
	r.Header[HeaderIdempotencyKey] = []string{""}
	if p := h.Do(t, r).Problem(t, 400, "validation"); !reflect.DeepEqual(p.Fields(), []string{HeaderIdempotencyKey}) {
		t.Errorf("fields %v", p.Fields())
	}
}
