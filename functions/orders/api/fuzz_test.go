package api

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// fuzzID is the id of the n-th order newFuzzHarness stores.
func fuzzID(n int) string {
	var h harness
	h.ids.Store(int64(n - 1))
	return h.newID()
}

// ordersRouteSeeds are a request per route that the route accepts (see
// TestFuzzOrdersRouteSeedsSucceed), taken from the handler tests.
func ordersRouteSeeds() []apitest.FuzzRequest {
	cursor := cursorCodec{key: testCursorKey}.encode(ada.UserID, fuzzID(3))
	return []apitest.FuzzRequest{
		{Route: "GET /v1/products"},
		{Route: "GET /v1/products/{sku}", Param: "COF-ESP-250"},
		{Route: "POST /v1/orders", Body: orderBody, Headers: HeaderIdempotencyKey + ": k-1"},
		{Route: "GET /v1/orders", Query: "limit=2&cursor=" + cursor},
		{Route: "GET /v1/orders/{id}", Param: fuzzID(1)},
		{Route: "POST /v1/orders/{id}/cancel", Param: fuzzID(1)},
		{Route: "POST /v1/orders/{id}/reorder", Param: fuzzID(5), Headers: HeaderIdempotencyKey + ": k-2"},
		{Route: "GET /v1/admin/products"},
		{Route: "POST /v1/admin/products", Body: productBody},
		{Route: "GET /v1/admin/products/{sku}", Param: "MUG-OLD"},
		{Route: "PATCH /v1/admin/products/{sku}", Param: "COF-ESP-250", Body: `{"name":" Espresso ","unitPrice":1390,"active":false}`},
		{Route: "POST /v1/admin/products/{sku}/stock", Param: "COF-ESP-250", Body: `{"set":7,"expected":1000}`},
		{Route: "GET /v1/admin/orders", Query: "status=PENDING&limit=2"},
		{Route: "GET /v1/admin/orders/{id}", Param: fuzzID(4)},
		{Route: "POST /v1/admin/orders/{id}/confirm", Param: fuzzID(2)},
		{Route: "POST /v1/admin/orders/{id}/ship", Param: fuzzID(6), Body: `{"carrier":"DHL","trackingNumber":"JD0146 0000 1234"}`},
		{Route: "POST /v1/admin/orders/{id}/deliver", Param: fuzzID(7)},
		{Route: "POST /v1/admin/orders/{id}/cancel", Param: fuzzID(6), Body: `{"reason":"The parcel could not be packed."}`},
	}
}

// invalidRequests are variations sent to every route as seeds: a bit of
// everything a client can get wrong.
var invalidRequests = []apitest.FuzzRequest{
	{Body: `{}`, Query: "limit=0&cursor=", Headers: HeaderIdempotencyKey + ":"},
	{Body: `{"items":[{"sku":"COF-ESP-250","quantity":"2"}]}`, Param: fuzzID(4), Query: "limit=101&cursor=c1..",
		Headers: HeaderIdempotencyKey + ": a key with spaces\nIf-None-Match: *"},
	{Body: `{"items":[{"sku":"COF-ESP-250","quantity":1},{"sku":"COF-ESP-250","quantity":-1},{"sku":"NOPE-1","quantity":101}]}`,
		Param: strings.ToLower(fuzzID(1)), Query: "limit=ten&cursor=" + cursorCodec{key: testCursorKey}.encode(grace.UserID, fuzzID(4))},
	{Body: `{"items":[{"sku":"MUG-OLD","quantity":1},{"sku":"EUR-ONLY","quantity":1}],"total":1}`, Param: "../" + fuzzID(1),
		Headers: HeaderIdempotencyKey + ": " + strings.Repeat("k", 256)},
	{Body: `{"items":[{"sku":"COF-ESP-250","quantity":9223372036854775807}]}`, Query: "limit=1&limit=100&cursor=%zz"},
	{Body: `{"items":[{"sku":"COF-ESP-250","quantity":1}],"ITEMS":[],"items":[]}`, Param: "MUG-OLD", Query: "limit=99999999999999999999",
		Headers: "Content-Type: application/problem+json; charset=utf-8"},
	{Body: `[{"sku":"COF-ESP-250","quantity":1}]`, Param: "\x00", Query: "cursor=not+a+cursor",
		Headers: "Content-Type: text/plain\nX-Request-Id: ../../etc/passwd"},
	{Body: orderBody + orderBody, Param: strings.Repeat("9", 300), Flags: apitest.FlagBase64Flag},
	{Body: `{"items":`, Param: "%2e%2e", Flags: apitest.FlagNoCT | apitest.FlagNoBearer},
	{Body: orderBody, Headers: "Authorization: Bearer not-a-token\nIf-None-Match: W/\"x\", \"y\""},
	{Body: `{"sku":"-NEW","name":"\u202e","description":"\u0000","unitPrice":1000000000001,"currency":"usd"}`, Param: "COF-ESP-250"},
	{Body: `{"name":"","unitPrice":0,"currency":"EUR","sku":"X"}`, Param: "NOPE-1"},
	{Body: `{"active":"false","unitPrice":1.5,"description":null}`, Param: "MUG-OLD"},
	{Body: `{"delta":-1001,"set":2}`, Param: "TEA-EARL-100"},
	{Body: `{"set":-1,"expected":1.5}`, Param: "EUR-ONLY"},
	{Body: `{"delta":-9223372036854775808}`, Param: "COF-ESP-250"},
}

// fuzzHarness is a harness with orders in its store for the fuzzed
// requests to find (Ada's pending fuzzID(1) to fuzzID(3), Grace's
// fuzzID(4), Ada's cancelled fuzzID(5), confirmed fuzzID(6) and shipped
// fuzzID(7)), and an access token of Ada's
// for every protected request (of the staff member Kim on staff routes).
type fuzzHarness struct {
	*harness
	bearer, staffBearer string
}

func newFuzzHarness(t *testing.T) fuzzHarness {
	t.Helper()
	h := newHarness(t)
	seedOrders(h, ada, 3, order.Pending)
	seedOrders(h, grace, 1, order.Pending)
	seedOrder(h, ada, order.Cancelled, order.Line{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Quantity: 3, UnitPrice: 800, LineTotal: 2400})
	seedOrders(h, ada, 1, order.Confirmed)
	seedOrders(h, ada, 1, order.Shipped)
	return fuzzHarness{harness: h, bearer: h.auth.Token(t, ada), staffBearer: h.auth.Token(t, kim)}
}

// send sends r, as Ada on a protected route, and returns the answer,
// having checked what every answer to any request must satisfy.
func (h fuzzHarness) send(t *testing.T, r apitest.FuzzRequest) *apitest.Response {
	t.Helper()
	switch routes := h.server.Routes(); {
	case slices.Contains(routes, web.Route{Pattern: r.Route, Protected: true}):
		r.Bearer = h.bearer
	case slices.Contains(routes, web.Route{Pattern: r.Route, Protected: true, Staff: true}):
		r.Bearer = h.staffBearer
	}
	resp := h.Do(t, r.HTTP())
	resp.CheckFuzz(t)
	return resp
}

// FuzzOrdersRoutes sends fuzzed requests (path parameter, query string,
// headers, body, and how the body travels) to the orders API's routes
// through the real server and use cases, on the in-memory store, as Ada:
// to the route the input names, or to every route in turn when it names
// none. No answer may be a 5xx (a handler's panic is one: the server
// recovers it as a 500), and every answer that is not a success must be a
// problem document of its status (apitest.Response.CheckFuzz).
func FuzzOrdersRoutes(f *testing.F) {
	routes := ordersRouteKeys(f)
	seeds := ordersRouteSeeds()
	for _, route := range routes {
		i := slices.IndexFunc(seeds, func(r apitest.FuzzRequest) bool { return r.Route == route })
		if i < 0 {
			f.Fatalf("no seed for the route %s", route)
		}
		apitest.AddFuzzSeed(f, seeds[i])
		for _, r := range invalidRequests {
			r.Route = route
			apitest.AddFuzzSeed(f, r)
		}
	}
	apitest.AddFuzzSeed(f, apitest.FuzzRequest{Param: fuzzID(5), Query: "limit=1", Headers: HeaderIdempotencyKey + ": k-3", Body: orderBody, Flags: apitest.FlagBase64})

	f.Fuzz(func(t *testing.T, route, param, query, headers, body string, flags uint8) {
		h := newFuzzHarness(t)
		targets := routes
		if slices.Contains(routes, route) {
			targets = []string{route}
		}
		for _, route := range targets {
			h.send(t, apitest.FuzzRequest{Route: route, Param: param, Query: query, Headers: headers, Body: body, Flags: flags})
		}
	})
}

// ordersRouteKeys are the route keys of the API, sorted.
func ordersRouteKeys(tb testing.TB) []string {
	tb.Helper()
	var keys []string
	for _, r := range NewHandler(slog.New(slog.DiscardHandler), Config{Verifier: token.NewVerifier(nil, "", "", nil)}).Routes() {
		keys = append(keys, r.Pattern)
	}
	slices.Sort(keys)
	return keys
}

// TestFuzzOrdersRouteSeedsSucceed keeps FuzzOrdersRoutes' valid seeds
// valid: each is a success of its route.
func TestFuzzOrdersRouteSeedsSucceed(t *testing.T) {
	for _, s := range ordersRouteSeeds() {
		t.Run(s.Route, func(t *testing.T) {
			h := newFuzzHarness(t)
			if resp := h.send(t, s); resp.StatusCode < 200 || resp.StatusCode > 299 {
				t.Errorf("%s answered %d to its seed: %s", s.Route, resp.StatusCode, resp.Body)
			}
		})
	}
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// FuzzCursor checks the cursor codec: decoding never panics and accepts
// only what encode issued, for the one customer it was issued to; and
// encode writes URL-safe cursors (none for no position), which decode
// to any order id, for any customer. The seeds are cursors edited, forged,
// of another customer or another key, and not cursors at all.
func FuzzCursor(f *testing.F) {
	c := cursorCodec{key: testCursorKey}
	good := c.encode(cursorUser, cursorPos)
	parts := strings.Split(good, ".")
	enc := base64.RawURLEncoding
	sig, _ := enc.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01
	for _, s := range []struct{ user, other, pos, cursor string }{
		{cursorUser, "user-2", cursorPos, good},
		{cursorUser, cursorUser + "\x00", cursorPos, parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4]},
		{"", "\x00", "00000000000000000000000000", "c1.." + parts[2]},
		{"user-ada", "user-grace", strings.ToLower(cursorPos), "c2." + parts[1] + "." + parts[2]},
		{"ü", "u", "ORDER#" + cursorPos, good + ".x"},
		{cursorUser, "User-1", strings.Repeat("A", 200), parts[0] + "." + parts[1] + "==." + parts[2]},
		{cursorUser, "user-2", "", strings.Repeat("c1.", 100)},
		{cursorUser, "user-2", cursorPos + "\n", cursorPos},
		{cursorUser, "user-2", cursorPos, parts[0] + "." + enc.EncodeToString([]byte("01JNQ6Z5V2G7W4X9K3M8P0R1SV")) + "." + parts[2]},
		{cursorUser, "user-2", cursorPos, parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig)},
		{cursorUser, "user-2", cursorPos, parts[0] + "." + parts[1] + "."},
		{cursorUser, "user-2", cursorPos, parts[0] + "." + parts[2] + "." + parts[1]},
		{"user-2", cursorUser, cursorPos, good},
		{cursorUser, "user-2", cursorPos, cursorCodec{key: []byte(strings.Repeat("k", 32))}.encode(cursorUser, cursorPos)},
		{cursorUser, "user-2", cursorPos, parts[1] + "." + parts[2]},
		{cursorUser, "user-2", cursorPos, "C1." + parts[1] + "." + parts[2]},
		{cursorUser, "user-2", cursorPos, c.encode(cursorUser, strings.Repeat("A", 200))},
		{cursorUser, "user-2", cursorPos, good + strings.Repeat("A", 257-len(good))},
		{cursorUser, "user-2", cursorPos, c.encode(cursorUser, "ORDER#"+cursorPos)},
		{cursorUser, "user-2", cursorPos, c.encode(cursorUser, strings.ToLower(cursorPos))},
		{cursorUser, "user-2", cursorPos, parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/"},
		{cursorUser, "user-2", cursorPos, ""},
		{cursorUser, "user-2", cursorPos, ".."},
		{cursorUser, "user-2", cursorPos, "c1.."},
		{cursorUser, "user-2", cursorPos, "not a cursor"},
		{cursorUser, "user-2", cursorPos, "c1.!!!.???"},
	} {
		f.Add(s.user, s.other, s.pos, s.cursor)
	}

	f.Fuzz(func(t *testing.T, user, other, pos, cursor string) {
		// Arbitrary cursors.
		got, err := c.decode(user, cursor, order.ValidID)
		if err != nil {
			if !errors.Is(err, errBadCursor) || got != "" {
				t.Fatalf("decode(%q, %q) = %q, %v; want \"\", errBadCursor", user, cursor, got, err)
			}
		} else {
			if !order.ValidID(got) {
				t.Errorf("decode(%q, %q) = %q, not an order id", user, cursor, got)
			}
			// Only encode's own cursor decodes: the MAC covers the
			// position, and strict base64 has one spelling, but for the
			// line breaks that Go's decoder skips.
			if want := c.encode(user, got); strings.NewReplacer("\r", "", "\n", "").Replace(cursor) != want {
				t.Errorf("decode(%q, %q) accepted a cursor encode would write as %q", user, cursor, want)
			}
			if other != user {
				if p, err := c.decode(other, cursor, order.ValidID); err == nil {
					t.Errorf("the cursor %q of %q decodes for %q too, at %q", cursor, user, other, p)
				}
			}
		}

		// Round trips.
		enc := c.encode(user, pos)
		if pos == "" {
			if enc != "" {
				t.Errorf("encode(%q, \"\") = %q, want \"\"", user, enc)
			}
			return
		}
		if !urlSafe.MatchString(enc) {
			t.Errorf("encode(%q, %q) = %q, not URL-safe", user, pos, enc)
		}
		back, err := c.decode(user, enc, order.ValidID)
		switch {
		case !order.ValidID(pos) && err == nil:
			t.Errorf("decode(encode(%q, %q)) = %q, want an error: not an order id", user, pos, back)
		case order.ValidID(pos) && (err != nil || back != pos):
			t.Errorf("decode(encode(%q, %q)) = %q, %v", user, pos, back, err)
		}
		if other != user {
			if p, err := c.decode(other, enc, order.ValidID); err == nil {
				t.Errorf("the cursor of %q at %q decodes for %q, at %q", user, pos, other, p)
			}
		}
	})
}
