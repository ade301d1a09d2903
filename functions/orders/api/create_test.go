package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/principal"
)

const (
	orderBody   = `{"items":[{"sku":"COF-ESP-250","quantity":2},{"sku":"TEA-EARL-100","quantity":1}]}`
	testCorrID  = "corr-test-000001"
	idemHeader  = "Idempotency-Key"
	ordersRoute = "POST /v1/orders"
)

var orderItems = []order.ItemRequest{{SKU: "COF-ESP-250", Quantity: 2}, {SKU: "TEA-EARL-100", Quantity: 1}}

func createReq(body string, headers map[string]string) req {
	h := map[string]string{"X-Request-Id": testCorrID}
	for k, v := range headers {
		h[k] = v
	}
	return req{route: ordersRoute, body: body, headers: h, caller: &ada}
}

func TestCreateOrder(t *testing.T) {
	h := newHarness(t)
	resp := h.do(t, createReq(orderBody, nil))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
	got := decode[orderJSON](t, resp)
	now := testNow.Truncate(time.Millisecond)
	if !order.ValidID(got.ID) {
		t.Fatalf("order id %q is not an order id", got.ID)
	}
	wantLines := []order.Line{
		{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1290, LineTotal: 2580},
		{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 850, LineTotal: 850},
	}
	want := orderJSON{
		ID:     got.ID,
		Status: order.Pending,
		Items: []lineJSON{
			{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1290, LineTotal: 2580},
			{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 850, LineTotal: 850},
		},
		Total: 3430, Currency: "USD", CreatedAt: now, UpdatedAt: now,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body =\n%+v\nwant\n%+v", got, want)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/orders/"+got.ID {
		t.Errorf("Location = %q, want /v1/orders/%s", loc, got.ID)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if _, ok := resp.Header[HeaderReplayed]; ok {
		t.Errorf("a first response carries %s", HeaderReplayed)
	}

	stored, ok := h.mem.stored(ada.UserID, got.ID)
	if !ok {
		t.Fatal("order not stored under the caller")
	}
	wantStored := order.Order{
		ID: got.ID, Customer: order.Customer{ID: ada.UserID, Email: ada.Email, Name: ada.Name},
		Status: order.Pending, Lines: wantLines, Total: 3430, Currency: "USD",
		CreatedAt: now, UpdatedAt: now,
	}
	if !reflect.DeepEqual(stored, wantStored) {
		t.Errorf("stored =\n%+v\nwant\n%+v", stored, wantStored)
	}
	if len(h.mem.creates) != 1 || h.mem.creates[0] != nil {
		t.Errorf("without a key: CreateOrder keys %v; want one call without a key", h.mem.creates)
	}

	evs := h.mem.events()
	if len(evs) != 1 {
		t.Fatalf("events = %d, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Type != events.OrderCreated {
		t.Errorf("event type = %q, want %q", ev.Type, events.OrderCreated)
	}
	if ev.Order.ID != got.ID || ev.Order.Status != string(order.Pending) || ev.Order.Total != 3430 {
		t.Errorf("event order = %+v", ev.Order)
	}
	if wantC := (events.Customer{ID: ada.UserID, Email: ada.Email, Name: ada.Name}); ev.Customer != wantC {
		t.Errorf("event customer = %+v, want %+v", ev.Customer, wantC)
	}
	if ev.CorrelationID != testCorrID {
		t.Errorf("event correlation id = %q, want %q", ev.CorrelationID, testCorrID)
	}
	if ev.ID == "" || ev.ID == got.ID {
		t.Errorf("event id = %q, want its own id", ev.ID)
	}
	if !ev.OccurredAt.Equal(now) {
		t.Errorf("event occurredAt = %v, want %v", ev.OccurredAt, now)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("event does not validate: %v", err)
	}
}

// TestCreateOrderCorrelationID: the order's event carries the request's
// correlation id: the client's X-Request-Id when it is safe, else one of
// the server's own (API Gateway's request id: shared/web's adapter test).
func TestCreateOrderCorrelationID(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string // "": one of the server's own
	}{
		{"from X-Request-Id", map[string]string{"X-Request-Id": "client-req-42"}, "client-req-42"},
		{"unsafe X-Request-Id replaced", map[string]string{"X-Request-Id": "bad id\n"}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, req{route: ordersRoute, body: orderBody, headers: tt.headers, caller: &ada})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			got := resp.Header.Get("X-Request-Id")
			if tt.want != "" && got != tt.want || tt.want == "" && (got == "" || got == tt.headers["X-Request-Id"]) {
				t.Errorf("X-Request-Id = %q, want %q", got, tt.want)
			}
			if evs := h.mem.events(); len(evs) != 1 || evs[0].CorrelationID != got {
				t.Errorf("events = %+v, want one with correlation id %q", evs, got)
			}
		})
	}
}

func TestCreateOrderRejects(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		headers    map[string]string
		wantStatus int
		wantSlug   string
		wantFields []string
	}{
		{
			name:       "client unit price",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":1,"unitPrice":1}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"unitPrice"},
		},
		{
			name:       "client total",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":1}],"total":1}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"total"},
		},
		{
			// encoding/json would place the second list: the one a proxy
			// or a log that reads the first does not see.
			name:       "two items keys",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":1}],"items":[{"sku":"TEA-EARL-100","quantity":9}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"items"},
		},
		{
			name:       "keys in another case",
			body:       `{"Items":[{"SKU":"COF-ESP-250","quantity":1}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"Items"},
		},
		{
			name:       "no content type",
			body:       orderBody,
			headers:    map[string]string{"Content-Type": ""},
			wantStatus: http.StatusUnsupportedMediaType, wantSlug: "unsupported-media-type",
		},
		{
			name:       "no items field",
			body:       `{}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"items"},
		},
		{
			name:       "empty items",
			body:       `{"items":[]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"items"},
		},
		{
			name:       "fifty-one lines",
			body:       `{"items":[` + strings.Repeat(`{"sku":"A","quantity":1},`, 50) + `{"sku":"B","quantity":1}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"items"},
		},
		{
			name:       "quantity 0",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":0}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{"items[0].quantity"},
		},
		{
			name:       "every field error",
			body:       `{"items":[{"sku":"bad","quantity":101},{"sku":"COF-ESP-250","quantity":1},{"sku":"COF-ESP-250","quantity":-1}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation",
			wantFields: []string{"items[0].sku", "items[0].quantity", "items[2].sku", "items[2].quantity"},
		},
		{
			name:       "quantity as a string",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":"2"}]}`,
			wantStatus: http.StatusBadRequest, wantSlug: "validation",
		},
		{
			name:       "not JSON",
			body:       `{"items":`,
			wantStatus: http.StatusBadRequest, wantSlug: "invalid-request",
		},
		{
			name:       "an array",
			body:       `[{"sku":"COF-ESP-250","quantity":1}]`,
			wantStatus: http.StatusBadRequest, wantSlug: "invalid-request",
		},
		{
			name:       "two objects",
			body:       orderBody + orderBody,
			wantStatus: http.StatusBadRequest, wantSlug: "invalid-request",
		},
		{
			name:       "not JSON media type",
			body:       orderBody,
			headers:    map[string]string{"Content-Type": "text/plain"},
			wantStatus: http.StatusUnsupportedMediaType, wantSlug: "unsupported-media-type",
		},
		{
			name:       "unknown sku",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":1},{"sku":"NOPE-1","quantity":1}]}`,
			wantStatus: http.StatusUnprocessableEntity, wantSlug: "unknown-product", wantFields: []string{"items[1].sku"},
		},
		{
			name:       "inactive product",
			body:       `{"items":[{"sku":"MUG-OLD","quantity":1}]}`,
			wantStatus: http.StatusUnprocessableEntity, wantSlug: "unknown-product", wantFields: []string{"items[0].sku"},
		},
		{
			name:       "mixed currencies",
			body:       `{"items":[{"sku":"COF-ESP-250","quantity":1},{"sku":"EUR-ONLY","quantity":1}]}`,
			wantStatus: http.StatusUnprocessableEntity, wantSlug: "unknown-product", wantFields: []string{"items[1].sku"},
		},
		{name: "empty key", body: orderBody, headers: map[string]string{idemHeader: ""}, wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{idemHeader}},
		{name: "256-character key", body: orderBody, headers: map[string]string{idemHeader: strings.Repeat("k", 256)}, wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{idemHeader}},
		{name: "non-ASCII key", body: orderBody, headers: map[string]string{idemHeader: "clé"}, wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{idemHeader}},
		{name: "key with a space", body: orderBody, headers: map[string]string{idemHeader: "two words"}, wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{idemHeader}},
		{name: "key with a control character", body: orderBody, headers: map[string]string{idemHeader: "a\x01b"}, wantStatus: http.StatusBadRequest, wantSlug: "validation", wantFields: []string{idemHeader}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, createReq(tt.body, tt.headers))
			p := wantProblem(t, resp, tt.wantStatus, tt.wantSlug)
			if tt.wantFields != nil && !reflect.DeepEqual(p.Fields(), tt.wantFields) {
				t.Errorf("problem fields = %v, want %v", p.Fields(), tt.wantFields)
			}
			if len(h.mem.creates) != 0 || len(h.mem.events()) != 0 {
				t.Error("a rejected order reached CreateOrder")
			}
		})
	}
}

func TestCreateOrderIdempotentReplay(t *testing.T) {
	h := newHarness(t)
	key := map[string]string{idemHeader: "8e0f8a52-3c3b-4a55-9a8e-0b8f8f2f7c11"}
	first := h.do(t, createReq(orderBody, key))
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("first status = %d; body %s", first.StatusCode, first.Body)
	}
	id := decode[orderJSON](t, first).ID

	if len(h.mem.creates) != 1 || h.mem.creates[0] == nil {
		t.Fatalf("CreateOrder keys = %v, want one call with the key", h.mem.creates)
	}
	claim := *h.mem.creates[0]
	if want := (order.Claim{CustomerID: ada.UserID, Key: key[idemHeader], RequestHash: app.RequestHash(orderItems)}); claim != want {
		t.Errorf("key = %+v, want %+v", claim, want)
	}
	if o, err := h.mem.KeyedOrder(context.Background(), claim, testNow); err != nil || o == nil || o.ID != id {
		t.Errorf("the key replays %+v, %v; want the order placed, %q", o, err, id)
	}

	// The order is cancelled meanwhile: a replay still repeats the first
	// answer.
	if resp := h.do(t, req{route: "POST /v1/orders/{id}/cancel", path: map[string]string{"id": id}, caller: &ada}); resp.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %d %s", resp.StatusCode, resp.Body)
	}

	// The same request, spelled differently, is the same request.
	again := `{ "items": [ {"quantity": 2, "sku": "COF-ESP-250"}, {"sku": "TEA-EARL-100", "quantity": 1} ] }`
	replay := h.do(t, createReq(again, key))
	if replay.StatusCode != http.StatusCreated {
		t.Fatalf("replay status = %d; body %s", replay.StatusCode, replay.Body)
	}
	if replay.Body != first.Body {
		t.Errorf("replay body =\n%s\nwant\n%s", replay.Body, first.Body)
	}
	wantHeaders := map[string]string{HeaderReplayed: "true", "Location": "/v1/orders/" + id, "Content-Type": "application/json"}
	for k, v := range wantHeaders {
		if replay.Header.Get(k) != v {
			t.Errorf("replay %s = %q, want %q", k, replay.Header.Get(k), v)
		}
	}
	if n := len(h.mem.events()); n != 2 {
		t.Errorf("events = %d after a replay, want 2 (created, cancelled)", n)
	}
	if n := h.mem.ordersOf(ada.UserID); n != 1 {
		t.Errorf("%d orders stored, want 1", n)
	}

	// Keys are per customer: the same key from someone else is a new order.
	other := createReq(orderBody, key)
	other.caller = &grace
	resp := h.do(t, other)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(HeaderReplayed) != "" {
		t.Fatalf("other customer: status %d, replayed %q; want a new order", resp.StatusCode, resp.Header.Get(HeaderReplayed))
	}
	if decode[orderJSON](t, resp).ID == id {
		t.Error("another customer got the first customer's order")
	}
}

func TestCreateOrderIdempotencyKeyReused(t *testing.T) {
	h := newHarness(t)
	key := map[string]string{idemHeader: "key-1"}
	if resp := h.do(t, createReq(orderBody, key)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("first status = %d", resp.StatusCode)
	}
	changed := strings.Replace(orderBody, `"quantity":2`, `"quantity":3`, 1)
	resp := h.do(t, createReq(changed, key))
	wantProblem(t, resp, http.StatusUnprocessableEntity, "idempotency-key-reused")
	if n := len(h.mem.events()); n != 1 {
		t.Errorf("events = %d, want 1", n)
	}
}

// TestCreateOrderIdempotencyBusy: the store answers busy while another
// request with the key is in its transaction; the API answers 409 and
// stores nothing.
func TestCreateOrderIdempotencyBusy(t *testing.T) {
	h := newHarness(t)
	h.fake.CreateOrderFunc = func(context.Context, order.Order, order.EventRef, *order.Claim, order.Quota, time.Time) (*order.Order, error) {
		return nil, order.ErrIdempotencyBusy
	}
	resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: "key-busy"}))
	wantProblem(t, resp, http.StatusConflict, "idempotency-key-in-use")
	if n := len(h.mem.events()); n != 0 {
		t.Errorf("events = %d, want 0", n)
	}
}

// TestCreateOrderReplaysAfterAProductIsRetired: a retry of a keyed request
// replays the order it placed even when one of its products has since
// left the catalog, which a new request would be refused.
func TestCreateOrderReplaysAfterAProductIsRetired(t *testing.T) {
	h := newHarness(t)
	key := map[string]string{idemHeader: "key-retired-later"}
	first := h.do(t, createReq(orderBody, key))
	if first.StatusCode != http.StatusCreated {
		t.Fatalf("first: %d %s", first.StatusCode, first.Body)
	}
	retired := testCatalog()[0] // TEA-EARL-100
	retired.Active = false
	if err := h.mem.PutProducts(context.Background(), []order.Product{retired}); err != nil {
		t.Fatal(err)
	}
	h.advance(app.CatalogFresh) // the function reads the catalog again
	replay := h.do(t, createReq(orderBody, key))
	if replay.StatusCode != http.StatusCreated || replay.Header.Get(HeaderReplayed) != "true" || replay.Body != first.Body {
		t.Fatalf("retry: %d replayed %q body %s; want the first answer replayed", replay.StatusCode, replay.Header.Get(HeaderReplayed), replay.Body)
	}
	wantProblem(t, h.do(t, createReq(orderBody, nil)), http.StatusUnprocessableEntity, "unknown-product")
}

func TestCreateOrderLongestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: strings.Repeat("k", 255)}))
	if resp.StatusCode != http.StatusCreated || len(h.mem.creates) != 1 || h.mem.creates[0] == nil {
		t.Fatalf("status = %d, CreateOrder keys %v; want 201 and one call with the key", resp.StatusCode, h.mem.creates)
	}
}

// TestCreateOrderKeyStaysFreeOnFailure: a keyed request that stores
// nothing leaves its key free, so a corrected retry places the order.
func TestCreateOrderKeyStaysFreeOnFailure(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		setup      func(f *fakeStore)
		wantStatus int
	}{
		{
			name:       "unknown product",
			body:       `{"items":[{"sku":"NOPE-1","quantity":2},{"sku":"TEA-EARL-100","quantity":1}]}`,
			wantStatus: http.StatusUnprocessableEntity,
		},
		{
			name: "catalog read fails",
			body: orderBody,
			setup: func(f *fakeStore) {
				f.ProductsFunc = func(context.Context) ([]order.Product, error) {
					return nil, errors.New("throttled")
				}
			},
			wantStatus: http.StatusInternalServerError,
		},
		{
			name: "transaction fails",
			body: orderBody,
			setup: func(f *fakeStore) {
				f.CreateOrderFunc = func(context.Context, order.Order, order.EventRef, *order.Claim, order.Quota, time.Time) (*order.Order, error) {
					return nil, errors.New("transaction canceled")
				}
			},
			wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			createOrder, products := h.fake.CreateOrderFunc, h.fake.ProductsFunc
			if tt.setup != nil {
				tt.setup(h.fake)
			}
			key := map[string]string{idemHeader: "key-1"}
			resp := h.do(t, createReq(tt.body, key))
			wantProblem(t, resp, tt.wantStatus, "")
			if n, m := h.mem.ordersOf(ada.UserID), len(h.mem.events()); n != 0 || m != 0 {
				t.Fatalf("orders %d, events %d; want nothing stored", n, m)
			}

			// The key is free: a corrected retry creates the order.
			h.fake.CreateOrderFunc, h.fake.ProductsFunc = createOrder, products
			retry := h.do(t, createReq(orderBody, key))
			if retry.StatusCode != http.StatusCreated || retry.Header.Get(HeaderReplayed) != "" {
				t.Errorf("retry = %d replayed %q, want a new 201; body %s", retry.StatusCode, retry.Header.Get(HeaderReplayed), retry.Body)
			}
		})
	}
}

type orderPage struct {
	Items      []orderJSON `json:"items"`
	NextCursor *string     `json:"nextCursor"`
}

// seedOrders stores n orders of p with growing ids and returns the ids.

// TestPlacingNeedsAVerifiedEmail checks that a caller whose email is not
// verified can place nothing, by either route: the order would be mailed
// to an address nobody proved they own.
func TestPlacingNeedsAVerifiedEmail(t *testing.T) {
	unverified := ada
	unverified.EmailVerified = false
	h := newHarness(t)
	earlier := seedOrders(h, ada, 1, order.Shipped)[0]
	for _, r := range []req{
		createReq(orderBody, map[string]string{idemHeader: "k-unverified"}),
		reorderReq(earlier, map[string]string{idemHeader: "k-unverified"}),
		createReq(`{"items":[]}`, nil), // refused before the body is even judged
	} {
		r.caller = &unverified
		p := wantProblem(t, h.do(t, r), http.StatusForbidden, "email-unverified")
		if !strings.Contains(p.Detail, "Verify your email") {
			t.Errorf("%s: detail %q", r.route, p.Detail)
		}
	}
	if n := len(h.mem.events()); n != 0 || len(h.mem.creates) != 0 {
		t.Errorf("events %d, CreateOrder calls %d; want nothing stored", n, len(h.mem.creates))
	}
}

func TestOrderQuota(t *testing.T) {
	h := newHarness(t)
	keyed := createReq(orderBody, map[string]string{idemHeader: "quota-key"})
	for i := range order.DefaultOrdersPerHour {
		r := createReq(orderBody, nil)
		if i == 0 {
			r = keyed
		}
		if resp := h.do(t, r); resp.StatusCode != http.StatusCreated {
			t.Fatalf("order %d: %d %s", i+1, resp.StatusCode, resp.Body)
		}
	}
	// A replay of an order placed with a key counts nothing; a new order
	// is refused, with when the hour ends.
	if resp := h.do(t, keyed); resp.StatusCode != http.StatusCreated || resp.Header.Get(HeaderReplayed) == "" {
		t.Fatalf("replay at the quota: %d %v %s", resp.StatusCode, resp.Header, resp.Body)
	}
	resp := h.do(t, createReq(orderBody, nil))
	wantProblem(t, resp, http.StatusTooManyRequests, "order-quota")
	if got, want := resp.Header.Get("Retry-After"), fmt.Sprint(math.Ceil(testNow.Truncate(time.Hour).Add(time.Hour).Sub(testNow).Seconds())); got != want {
		t.Errorf("Retry-After %q, want %q (the rest of the hour)", got, want)
	}
	if n := len(h.mem.events()); n != order.DefaultOrdersPerHour {
		t.Errorf("%d events queued, want one per acknowledged order (%d)", n, order.DefaultOrdersPerHour)
	}
	// Another customer still orders.
	other := createReq(orderBody, nil)
	other.caller = &principal.Principal{UserID: "01HZX3YQ7A8B9C0D1E2F3GBOB1", Email: "bob@example.com", Name: "Bob", EmailVerified: true}
	if resp := h.do(t, other); resp.StatusCode != http.StatusCreated {
		t.Fatalf("another customer's order: %d %s", resp.StatusCode, resp.Body)
	}
}
