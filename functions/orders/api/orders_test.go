package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/apitest"
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

func TestValidIdempotencyKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"uuid", "8e0f8a52-3c3b-4a55-9a8e-0b8f8f2f7c11", true},
		{"one character", "k", true},
		{"255 characters", strings.Repeat("k", 255), true},
		{"visible punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", true},
		{"empty", "", false},
		{"256 characters", strings.Repeat("k", 256), false},
		{"non-ASCII", "clé-1", false},
		{"emoji", "key-🔑", false},
		{"space", "a b", false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"NUL", "a\x00b", false},
		{"DEL", "a\x7fb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validIdempotencyKey(tt.key); got != tt.want {
				t.Errorf("validIdempotencyKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

func TestRequestHash(t *testing.T) {
	base := requestHash(orderItems)
	if len(base) != 64 || strings.Trim(base, "0123456789abcdef") != "" {
		t.Fatalf("requestHash = %q, want 64 lower-case hex digits", base)
	}
	tests := []struct {
		name  string
		items []order.ItemRequest
		same  bool
	}{
		{"same items", []order.ItemRequest{item("COF-ESP-250", 2), item("TEA-EARL-100", 1)}, true},
		{"different quantity", []order.ItemRequest{item("COF-ESP-250", 3), item("TEA-EARL-100", 1)}, false},
		{"different sku", []order.ItemRequest{item("COF-ESP-250", 2), item("TEA-EARL-250", 1)}, false},
		{"line dropped", []order.ItemRequest{item("COF-ESP-250", 2)}, false},
		{"line added", []order.ItemRequest{item("COF-ESP-250", 2), item("TEA-EARL-100", 1), item("BRW-V60-02", 1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requestHash(tt.items)
			if (got == base) != tt.same {
				t.Errorf("requestHash(%v) == requestHash(%v) is %v, want %v", tt.items, orderItems, got == base, tt.same)
			}
		})
	}
}

func item(sku string, quantity int) order.ItemRequest {
	return order.ItemRequest{SKU: sku, Quantity: quantity}
}

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
	if !validOrderID(got.ID) {
		t.Fatalf("order id %q is not an order id", got.ID)
	}
	want := orderJSON{
		ID:     got.ID,
		Status: order.Pending,
		Items: []order.Line{
			{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 2, UnitPrice: 1290, LineTotal: 2580},
			{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 1, UnitPrice: 850, LineTotal: 850},
		},
		Total: 3430, Currency: "USD", CreatedAt: now, UpdatedAt: now,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body =\n%+v\nwant\n%+v", got, want)
	}
	if loc := resp.Headers["Location"]; loc != "/v1/orders/"+got.ID {
		t.Errorf("Location = %q, want /v1/orders/%s", loc, got.ID)
	}
	if cc := resp.Headers["Cache-Control"]; cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if _, ok := resp.Headers[HeaderReplayed]; ok {
		t.Errorf("a first response carries %s", HeaderReplayed)
	}

	stored, ok := h.mem.stored(ada.UserID, got.ID)
	if !ok {
		t.Fatal("order not stored under the caller")
	}
	wantStored := order.Order{
		ID: got.ID, Customer: order.Customer{ID: ada.UserID, Email: ada.Email, Name: ada.Name},
		Status: order.Pending, Lines: want.Items, Total: 3430, Currency: "USD",
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if !reflect.DeepEqual(stored, wantStored) {
		t.Errorf("stored =\n%+v\nwant\n%+v", stored, wantStored)
	}
	if len(h.mem.claims) != 0 || len(h.mem.completions) != 1 || h.mem.completions[0] != nil {
		t.Errorf("without a key: claims %v, completions %v; want none and one nil", h.mem.claims, h.mem.completions)
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

func TestCreateOrderCorrelationID(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"from X-Request-Id", map[string]string{"X-Request-Id": "client-req-42"}, "client-req-42"},
		{"unsafe X-Request-Id replaced", map[string]string{"X-Request-Id": "bad id\n"}, apitest.GatewayRequestID},
		{"none", nil, apitest.GatewayRequestID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, req{route: ordersRoute, body: orderBody, headers: tt.headers, caller: &ada})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			if got := resp.Headers["X-Request-Id"]; got != tt.want {
				t.Errorf("X-Request-Id = %q, want %q", got, tt.want)
			}
			if evs := h.mem.events(); len(evs) != 1 || evs[0].CorrelationID != tt.want {
				t.Errorf("events = %+v, want one with correlation id %q", evs, tt.want)
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, createReq(tt.body, tt.headers))
			p := wantProblem(t, resp, tt.wantStatus, tt.wantSlug)
			if tt.wantFields != nil && !reflect.DeepEqual(p.Fields(), tt.wantFields) {
				t.Errorf("problem fields = %v, want %v", p.Fields(), tt.wantFields)
			}
			if len(h.mem.completions) != 0 || len(h.mem.events()) != 0 {
				t.Error("a rejected order reached CreateOrder")
			}
		})
	}
}

func TestCreateOrderStoreFailure(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeStore)
	}{
		{"catalog read", func(f *fakeStore) {
			f.ProductsBySKUFunc = func(context.Context, []string) (map[string]order.Product, error) {
				return nil, errors.New("dynamodb: throttled")
			}
		}},
		{"transaction", func(f *fakeStore) {
			f.CreateOrderFunc = func(context.Context, order.Order, events.OrderEvent, *store.Completion) error {
				return errors.New("dynamodb: transaction canceled")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.setup(h.fake)
			resp := h.do(t, createReq(orderBody, nil))
			wantProblem(t, resp, http.StatusInternalServerError, "internal")
			if strings.Contains(resp.Body, "dynamodb") {
				t.Errorf("500 body leaks the cause: %s", resp.Body)
			}
			if len(h.mem.releases) != 0 {
				t.Errorf("ReleaseKey called without an Idempotency-Key: %v", h.mem.releases)
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

	if len(h.mem.claims) != 1 {
		t.Fatalf("claims = %d, want 1", len(h.mem.claims))
	}
	claim := h.mem.claims[0]
	if claim.CustomerID != ada.UserID || claim.Key != key[idemHeader] || claim.RequestHash != requestHash(orderItems) || claim.Owner == "" {
		t.Errorf("claim = %+v", claim)
	}
	if len(h.mem.completions) != 1 || h.mem.completions[0] == nil {
		t.Fatalf("completions = %v, want one", h.mem.completions)
	}
	c := h.mem.completions[0]
	if c.Claim != claim || c.Status != http.StatusCreated || string(c.Body) != first.Body || c.OrderID != id {
		t.Errorf("completion = %+v %s, want the claim and the response", c.Claim, c.Body)
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
		if replay.Headers[k] != v {
			t.Errorf("replay %s = %q, want %q", k, replay.Headers[k], v)
		}
	}
	if n := len(h.mem.events()); n != 1 {
		t.Errorf("events = %d after a replay, want 1", n)
	}
	if len(h.mem.completions) != 1 {
		t.Errorf("CreateOrder called %d times, want once", len(h.mem.completions))
	}

	// Keys are per customer: the same key from someone else is a new order.
	other := createReq(orderBody, key)
	other.caller = &grace
	resp := h.do(t, other)
	if resp.StatusCode != http.StatusCreated || resp.Headers[HeaderReplayed] != "" {
		t.Fatalf("other customer: status %d, replayed %q; want a new order", resp.StatusCode, resp.Headers[HeaderReplayed])
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
	if len(h.mem.releases) != 0 {
		t.Errorf("ReleaseKey called on reuse: %v", h.mem.releases)
	}
	if n := len(h.mem.events()); n != 1 {
		t.Errorf("events = %d, want 1", n)
	}
}

func TestCreateOrderIdempotencyBusy(t *testing.T) {
	key := "key-busy"
	claimAs := func(h *harness, owner string, now time.Time) {
		if _, err := h.mem.ClaimKey(context.Background(), store.Claim{CustomerID: ada.UserID, Key: key,
			RequestHash: requestHash(orderItems), Owner: owner}, now); err != nil {
			panic(err)
		}
	}
	tests := []struct {
		name  string
		setup func(h *harness)
	}{
		{"in flight at claim", func(h *harness) { claimAs(h, "other-request", testNow) }},
		{"claim taken over before the transaction", func(h *harness) {
			// Our lease lapses while we read the catalog and another
			// attempt takes the key; the transaction then finds it gone.
			next := h.fake.ProductsBySKUFunc
			h.fake.ProductsBySKUFunc = func(ctx context.Context, skus []string) (map[string]order.Product, error) {
				claimAs(h, "usurper", testNow.Add(store.IdempotencyLease))
				return next(ctx, skus)
			}
		}},
		{"transaction reports busy", func(h *harness) {
			h.fake.CreateOrderFunc = func(context.Context, order.Order, events.OrderEvent, *store.Completion) error {
				return order.ErrIdempotencyBusy
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.setup(h)
			resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: key}))
			wantProblem(t, resp, http.StatusConflict, "idempotency-key-in-use")
			if len(h.mem.releases) != 0 {
				t.Errorf("ReleaseKey called on busy: %+v", h.mem.releases)
			}
			if n := len(h.mem.events()); n != 0 {
				t.Errorf("events = %d, want 0", n)
			}
		})
	}
}

func TestCreateOrderTakesOverLapsedClaim(t *testing.T) {
	h := newHarness(t)
	if _, err := h.mem.ClaimKey(context.Background(), store.Claim{CustomerID: ada.UserID, Key: "key-1",
		RequestHash: requestHash(orderItems), Owner: "dead-request"}, testNow.Add(-store.IdempotencyLease-time.Second)); err != nil {
		t.Fatal(err)
	}
	resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: "key-1"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
}

func TestCreateOrderInvalidIdempotencyKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
	}{
		{"empty", ""},
		{"256 characters", strings.Repeat("k", 256)},
		{"non-ASCII", "clé"},
		{"space", "two words"},
		{"control character", "a\x01b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: tt.key}))
			p := wantProblem(t, resp, http.StatusBadRequest, "validation")
			if !reflect.DeepEqual(p.Fields(), []string{idemHeader}) {
				t.Errorf("fields = %v, want [%s]", p.Fields(), idemHeader)
			}
			if len(h.mem.claims) != 0 || len(h.mem.events()) != 0 {
				t.Error("an invalid key reached the store")
			}
		})
	}
}

func TestCreateOrderLongestIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	resp := h.do(t, createReq(orderBody, map[string]string{idemHeader: strings.Repeat("k", 255)}))
	if resp.StatusCode != http.StatusCreated || len(h.mem.claims) != 1 {
		t.Fatalf("status = %d, claims %d; want 201 and one claim", resp.StatusCode, len(h.mem.claims))
	}
}

func TestCreateOrderReleasesKeyOnFailure(t *testing.T) {
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
				f.ProductsBySKUFunc = func(context.Context, []string) (map[string]order.Product, error) {
					return nil, errors.New("throttled")
				}
			},
			wantStatus: http.StatusInternalServerError,
		},
		{
			name: "transaction fails",
			body: orderBody,
			setup: func(f *fakeStore) {
				f.CreateOrderFunc = func(context.Context, order.Order, events.OrderEvent, *store.Completion) error {
					return errors.New("transaction canceled")
				}
			},
			wantStatus: http.StatusInternalServerError,
		},
		{
			name: "release fails too",
			body: orderBody,
			setup: func(f *fakeStore) {
				f.CreateOrderFunc = func(context.Context, order.Order, events.OrderEvent, *store.Completion) error {
					return errors.New("transaction canceled")
				}
				release := f.ReleaseKeyFunc
				f.ReleaseKeyFunc = func(ctx context.Context, c store.Claim) error {
					_ = release(ctx, c)
					return errors.New("release failed")
				}
			},
			wantStatus: http.StatusInternalServerError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			createOrder, productsBySKU := h.fake.CreateOrderFunc, h.fake.ProductsBySKUFunc
			if tt.setup != nil {
				tt.setup(h.fake)
			}
			key := map[string]string{idemHeader: "key-1"}
			resp := h.do(t, createReq(tt.body, key))
			wantProblem(t, resp, tt.wantStatus, "")
			if len(h.mem.claims) != 1 {
				t.Fatalf("claims = %d, want 1", len(h.mem.claims))
			}
			if !reflect.DeepEqual(h.mem.releases, h.mem.claims) {
				t.Errorf("releases = %+v, want the claim %+v", h.mem.releases, h.mem.claims)
			}

			// The key is free again: a corrected retry creates the order.
			h.fake.CreateOrderFunc, h.fake.ProductsBySKUFunc = createOrder, productsBySKU
			retry := h.do(t, createReq(orderBody, key))
			if retry.StatusCode != http.StatusCreated || retry.Headers[HeaderReplayed] != "" {
				t.Errorf("retry = %d replayed %q, want a new 201; body %s", retry.StatusCode, retry.Headers[HeaderReplayed], retry.Body)
			}
		})
	}
}

type orderPage struct {
	Items      []orderJSON `json:"items"`
	NextCursor *string     `json:"nextCursor"`
}

// seedOrders stores n orders of p with growing ids and returns the ids.
func seedOrders(h *harness, p principal.Principal, n int, status order.Status) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = h.newID()
		h.mem.put(order.Order{
			ID: ids[i], Customer: order.Customer{ID: p.UserID, Email: p.Email, Name: p.Name}, Status: status,
			Lines: []order.Line{{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290}},
			Total: 1290, Currency: "USD", CreatedAt: testNow, UpdatedAt: testNow, Version: 1,
		})
	}
	return ids
}

func listReq(p *principal.Principal, query map[string]string) req {
	return req{route: "GET /v1/orders", query: query, caller: p}
}

func TestListOrders(t *testing.T) {
	h := newHarness(t)
	ids := seedOrders(h, ada, 3, order.Pending)
	seedOrders(h, grace, 2, order.Pending)

	resp := h.do(t, listReq(&ada, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(resp.Body, `"nextCursor":null`) {
		t.Errorf("last page body lacks \"nextCursor\":null: %s", resp.Body)
	}
	page := decode[orderPage](t, resp)
	var got []string
	for _, o := range page.Items {
		got = append(got, o.ID)
	}
	if want := []string{ids[2], ids[1], ids[0]}; !reflect.DeepEqual(got, want) {
		t.Errorf("ids = %v, want %v (the caller's, newest first)", got, want)
	}
	if want := []pageCall{{ada.UserID, DefaultPageSize, ""}}; !reflect.DeepEqual(h.mem.pageCalls, want) {
		t.Errorf("store calls = %+v, want %+v", h.mem.pageCalls, want)
	}
	if o := page.Items[0]; o.Status != order.Pending || o.Total != 1290 || len(o.Items) != 1 || o.Currency != "USD" {
		t.Errorf("item = %+v", o)
	}
}

func TestListOrdersEmpty(t *testing.T) {
	h := newHarness(t)
	resp := h.do(t, listReq(&ada, nil))
	if resp.StatusCode != http.StatusOK || resp.Body != `{"items":[],"nextCursor":null}` {
		t.Errorf("empty list = %d %s", resp.StatusCode, resp.Body)
	}
}

func TestListOrdersLimit(t *testing.T) {
	tests := []struct {
		name      string
		limit     string
		wantLimit int // 0: 400
	}{
		{"1", "1", 1},
		{"100", "100", 100},
		{"50", "50", 50},
		{"0", "0", 0},
		{"101", "101", 0},
		{"negative", "-1", 0},
		{"empty", "", 0},
		{"not a number", "ten", 0},
		{"fraction", "1.5", 0},
		{"huge", "99999999999999999999", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, listReq(&ada, map[string]string{"limit": tt.limit}))
			if tt.wantLimit == 0 {
				p := wantProblem(t, resp, http.StatusBadRequest, "validation")
				if !reflect.DeepEqual(p.Fields(), []string{"limit"}) {
					t.Errorf("fields = %v, want [limit]", p.Fields())
				}
				if len(h.mem.pageCalls) != 0 {
					t.Error("store called with a bad limit")
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			if len(h.mem.pageCalls) != 1 || h.mem.pageCalls[0].limit != tt.wantLimit {
				t.Errorf("store calls = %+v, want limit %d", h.mem.pageCalls, tt.wantLimit)
			}
		})
	}
}

func TestListOrdersPagination(t *testing.T) {
	h := newHarness(t)
	ids := seedOrders(h, ada, 5, order.Pending)
	slices.Reverse(ids) // newest first

	var seen []string
	var afters []string
	query := map[string]string{"limit": "2"}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		resp := h.do(t, listReq(&ada, query))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("page %d: status = %d; body %s", pages, resp.StatusCode, resp.Body)
		}
		page := decode[orderPage](t, resp)
		for _, o := range page.Items {
			seen = append(seen, o.ID)
		}
		afters = append(afters, h.mem.pageCalls[len(h.mem.pageCalls)-1].after)
		if page.NextCursor == nil {
			break
		}
		if *page.NextCursor == "" || strings.Contains(*page.NextCursor, page.Items[len(page.Items)-1].ID) {
			t.Errorf("cursor %q is empty or shows the position in clear", *page.NextCursor)
		}
		query = map[string]string{"limit": "2", "cursor": *page.NextCursor}
	}
	if !reflect.DeepEqual(seen, ids) {
		t.Errorf("pages gave %v, want %v", seen, ids)
	}
	if want := []string{"", ids[1], ids[3]}; !reflect.DeepEqual(afters, want) {
		t.Errorf("store got after = %q, want %q", afters, want)
	}
}

func TestListOrdersBadCursor(t *testing.T) {
	h := newHarness(t)
	seedOrders(h, ada, 3, order.Pending)
	seedOrders(h, grace, 3, order.Pending)
	next := func(p *principal.Principal) string {
		page := decode[orderPage](t, h.do(t, listReq(p, map[string]string{"limit": "1"})))
		if page.NextCursor == nil {
			t.Fatal("no next cursor")
		}
		return *page.NextCursor
	}
	adas, graces := next(&ada), next(&grace)
	parts := strings.Split(adas, ".")
	tampered := parts[0] + "." + parts[1][:len(parts[1])-2] + "AA." + parts[2]

	tests := []struct {
		name   string
		cursor string
	}{
		{"tampered", tampered},
		{"another user's", graces},
		{"wrong version", "c9" + strings.TrimPrefix(adas, "c1")},
		{"too long", adas + strings.Repeat("A", 300)},
		{"garbage", "%%%"},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := len(h.mem.pageCalls)
			resp := h.do(t, listReq(&ada, map[string]string{"cursor": tt.cursor}))
			p := wantProblem(t, resp, http.StatusBadRequest, "validation")
			if !reflect.DeepEqual(p.Fields(), []string{"cursor"}) {
				t.Errorf("fields = %v, want [cursor]", p.Fields())
			}
			if len(h.mem.pageCalls) != calls {
				t.Error("store called with a bad cursor")
			}
		})
	}
	// The untampered cursor works.
	if resp := h.do(t, listReq(&ada, map[string]string{"cursor": adas})); resp.StatusCode != http.StatusOK {
		t.Errorf("valid cursor: status %d; body %s", resp.StatusCode, resp.Body)
	}
}

func TestListOrdersStoreFailure(t *testing.T) {
	h := newHarness(t)
	h.fake.OrdersFunc = func(context.Context, string, int, string) ([]order.Order, string, error) {
		return nil, "", errors.New("dynamodb: boom")
	}
	resp := h.do(t, listReq(&ada, nil))
	wantProblem(t, resp, http.StatusInternalServerError, "internal")
	if strings.Contains(resp.Body, "boom") {
		t.Errorf("500 body leaks the cause: %s", resp.Body)
	}
}

func TestGetOrder(t *testing.T) {
	h := newHarness(t)
	mine := seedOrders(h, ada, 1, order.Confirmed)[0]
	theirs := seedOrders(h, grace, 1, order.Pending)[0]
	tests := []struct {
		name      string
		id        string
		want      int
		wantStore bool
	}{
		{"own order", mine, http.StatusOK, true},
		{"unknown", "01JNQ00000000000000000000Z", http.StatusNotFound, true},
		{"another customer's", theirs, http.StatusNotFound, true},
		{"lower case", strings.ToLower(mine), http.StatusNotFound, false},
		{"too short", mine[:25], http.StatusNotFound, false},
		{"too long", mine + "0", http.StatusNotFound, false},
		{"key injection", "ORDER#" + mine[6:], http.StatusNotFound, false},
		{"empty", "", http.StatusNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reads := h.mem.orderReads
			resp := h.do(t, req{route: "GET /v1/orders/{id}", path: map[string]string{"id": tt.id}, caller: &ada})
			if asked := h.mem.orderReads > reads; asked != tt.wantStore {
				t.Errorf("store asked = %v, want %v", asked, tt.wantStore)
			}
			if tt.want == http.StatusNotFound {
				wantProblem(t, resp, http.StatusNotFound, "not-found")
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			stored, _ := h.mem.stored(ada.UserID, mine)
			if got := decode[orderJSON](t, resp); !reflect.DeepEqual(got, orderView(stored)) {
				t.Errorf("order = %+v, want %+v", got, orderView(stored))
			}
			if cc := resp.Headers["Cache-Control"]; cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

func cancelReq(id string) req {
	return req{route: "POST /v1/orders/{id}/cancel", path: map[string]string{"id": id},
		headers: map[string]string{"X-Request-Id": testCorrID}, caller: &ada}
}

func TestCancelOrder(t *testing.T) {
	tests := []struct {
		name       string
		status     order.Status
		wantStatus int
	}{
		{"pending", order.Pending, http.StatusOK},
		{"confirmed", order.Confirmed, http.StatusOK},
		{"shipped", order.Shipped, http.StatusConflict},
		{"cancelled", order.Cancelled, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			id := seedOrders(h, ada, 1, tt.status)[0]
			before, _ := h.mem.stored(ada.UserID, id)
			resp := h.do(t, cancelReq(id))
			after, _ := h.mem.stored(ada.UserID, id)

			if tt.wantStatus == http.StatusConflict {
				wantProblem(t, resp, http.StatusConflict, "order-not-cancellable")
				if !reflect.DeepEqual(after, before) {
					t.Errorf("order changed: %+v", after)
				}
				if n := len(h.mem.events()); n != 0 {
					t.Errorf("events = %d, want 0", n)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			now := testNow.Truncate(time.Millisecond)
			want := before
			want.Status, want.UpdatedAt, want.Version = order.Cancelled, now, before.Version+1
			if !reflect.DeepEqual(after, want) {
				t.Errorf("stored =\n%+v\nwant\n%+v", after, want)
			}
			if got := decode[orderJSON](t, resp); !reflect.DeepEqual(got, orderView(want)) {
				t.Errorf("body = %+v, want %+v", got, orderView(want))
			}
			evs := h.mem.events()
			if len(evs) != 1 {
				t.Fatalf("events = %d, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Type != events.OrderCancelled || ev.Order.ID != id || ev.Order.Status != string(order.Cancelled) ||
				ev.CorrelationID != testCorrID || ev.Customer.ID != ada.UserID || ev.ID == "" || ev.ID == id {
				t.Errorf("event = %+v", ev)
			}
			if !ev.OccurredAt.Equal(now) || !ev.Order.UpdatedAt.Equal(now) {
				t.Errorf("event times = %v / %v, want %v", ev.OccurredAt, ev.Order.UpdatedAt, now)
			}
			if err := ev.Validate(); err != nil {
				t.Errorf("event does not validate: %v", err)
			}
		})
	}
}

func TestCancelOrderConcurrentWrite(t *testing.T) {
	h := newHarness(t)
	id := seedOrders(h, ada, 1, order.Pending)[0]
	read := h.fake.OrderFunc
	h.fake.OrderFunc = func(ctx context.Context, customerID, id string) (order.Order, error) {
		o, err := read(ctx, customerID, id)
		// Someone else changes the order between our read and our write.
		changed := o
		changed.Status, changed.Version = order.Confirmed, o.Version+1
		h.mem.put(changed)
		return o, err
	}
	resp := h.do(t, cancelReq(id))
	p := wantProblem(t, resp, http.StatusConflict, "")
	if !strings.HasSuffix(p.Type, "#concurrent-modification") {
		t.Errorf("type = %q", p.Type)
	}
	if stored, _ := h.mem.stored(ada.UserID, id); stored.Status != order.Confirmed {
		t.Errorf("the concurrent write was overwritten: %+v", stored)
	}
	if n := len(h.mem.events()); n != 0 {
		t.Errorf("events = %d, want 0", n)
	}
}

func TestCancelOrderNotFound(t *testing.T) {
	h := newHarness(t)
	theirs := seedOrders(h, grace, 1, order.Pending)[0]
	tests := []struct {
		name string
		id   string
	}{
		{"malformed", "not-an-order"},
		{"lower case", strings.ToLower(theirs)},
		{"unknown", "01JNQ00000000000000000000Z"},
		{"another customer's", theirs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantProblem(t, h.do(t, cancelReq(tt.id)), http.StatusNotFound, "not-found")
		})
	}
	if stored, _ := h.mem.stored(grace.UserID, theirs); stored.Status != order.Pending {
		t.Errorf("another customer's order changed: %+v", stored)
	}
	if n := len(h.mem.events()); n != 0 {
		t.Errorf("events = %d, want 0", n)
	}
}

func TestCancelOrderStoreFailure(t *testing.T) {
	h := newHarness(t)
	id := seedOrders(h, ada, 1, order.Pending)[0]
	h.fake.UpdateOrderFunc = func(context.Context, order.Order, order.Order, events.OrderEvent) error {
		return errors.New("dynamodb: boom")
	}
	wantProblem(t, h.do(t, cancelReq(id)), http.StatusInternalServerError, "internal")
}

func TestCancelOrderRetriesAfterAConcurrentChange(t *testing.T) {
	for _, tc := range []struct {
		name       string
		concurrent order.Status // what another writer sets between our read and write, once
		status     int
		slug       string
		final      order.Status
		events     int
	}{
		{"confirmed meanwhile: cancel still wins", order.Confirmed, http.StatusOK, "", order.Cancelled, 1},
		{"cancelled meanwhile: not cancellable", order.Cancelled, http.StatusConflict, "order-not-cancellable", order.Cancelled, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			id := seedOrders(h, ada, 1, order.Pending)[0]
			read := h.fake.OrderFunc
			interfered := false
			h.fake.OrderFunc = func(ctx context.Context, customerID, id string) (order.Order, error) {
				o, err := read(ctx, customerID, id)
				if !interfered {
					interfered = true
					changed := o
					changed.Status, changed.Version = tc.concurrent, o.Version+1
					h.mem.put(changed)
				}
				return o, err
			}
			cancelled := 0
			update := h.fake.UpdateOrderFunc
			h.fake.UpdateOrderFunc = func(ctx context.Context, prev, next order.Order, ev events.OrderEvent) error {
				err := update(ctx, prev, next, ev)
				if err == nil {
					cancelled++
				}
				return err
			}
			resp := h.do(t, cancelReq(id))
			if tc.status == http.StatusOK {
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
				}
			} else {
				wantProblem(t, resp, tc.status, tc.slug)
			}
			if stored, _ := h.mem.stored(ada.UserID, id); stored.Status != tc.final {
				t.Errorf("stored status %s, want %s", stored.Status, tc.final)
			}
			if cancelled != tc.events {
				t.Errorf("%d successful cancel writes, want %d", cancelled, tc.events)
			}
		})
	}
}
