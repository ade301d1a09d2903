package api

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
)

type orderPage struct {
	Items      []orderJSON `json:"items"`
	NextCursor *string     `json:"nextCursor"`
}

// TestPlacingRoutes: both routes that place an order answer 201 with the
// order and its location, not to be cached; a retry with the key repeats
// that answer, marked replayed.
func TestPlacingRoutes(t *testing.T) {
	h := newHarness(t)
	earlier := seedOrders(h, ada, 1, order.Shipped)[0]
	now := testNow.Truncate(time.Millisecond)
	for _, tc := range []struct{ target, body string }{
		{"/v1/orders", `{"items":[{"sku":"COF-ESP-250","quantity":1}]}`},
		{"/v1/orders/" + earlier + "/reorder", ""},
	} {
		first := h.send(t, &ada, "POST", tc.target, tc.body, HeaderIdempotencyKey, "k"+tc.target).Expect(t, http.StatusCreated)
		got := decode[orderJSON](t, first)
		want := orderJSON{ID: got.ID, Status: order.Pending, Total: 1290, Currency: "USD", CreatedAt: now, UpdatedAt: now,
			Items: []order.Line{{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290}}}
		if got.ID == earlier || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: body =\n%+v\nwant\n%+v", tc.target, got, want)
		}
		wantHeaders := map[string]string{"Location": "/v1/orders/" + got.ID, "Cache-Control": "no-store", "Content-Type": "application/json", HeaderReplayed: ""}
		replay := h.send(t, &ada, "POST", tc.target, tc.body, HeaderIdempotencyKey, "k"+tc.target).Expect(t, http.StatusCreated)
		for k, v := range wantHeaders {
			if first.Header.Get(k) != v || k != HeaderReplayed && replay.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, then %q; want %q", tc.target, k, first.Header.Get(k), replay.Header.Get(k), v)
			}
		}
		if replay.Header.Get(HeaderReplayed) != "true" || replay.Body != first.Body {
			t.Errorf("%s: replay %s (replayed %q), want the first answer %s, marked", tc.target, replay.Body, replay.Header.Get(HeaderReplayed), first.Body)
		}
	}
}

// TestCorrelationID: the order's event carries the request's correlation
// id: the client's X-Request-Id when it is safe, else one of the server's
// own (API Gateway's request id: shared/web's adapter test).
func TestCorrelationID(t *testing.T) {
	h := newHarness(t)
	id := seedOrders(h, ada, 1, order.Pending)[0]
	for i, tc := range []struct{ target, body, header, want string }{
		{"/v1/orders", orderBody, "client-req-42", "client-req-42"},
		{"/v1/orders", orderBody, "bad id\n", ""},
		{"/v1/orders/" + id + "/reorder", "", "", ""},
		{"/v1/orders/" + id + "/cancel", "", "client-req-43", "client-req-43"},
	} {
		resp := h.send(t, &ada, "POST", tc.target, tc.body, "X-Request-Id", tc.header)
		got := resp.Header.Get("X-Request-Id")
		if resp.StatusCode >= 300 || tc.want != "" && got != tc.want || tc.want == "" && (got == "" || got == tc.header) {
			t.Errorf("%s: %d, X-Request-Id = %q, want %q", tc.target, resp.StatusCode, got, tc.want)
		}
		if evs := h.store.Events(); len(evs) != i+1 || evs[i].CorrelationID != got {
			t.Errorf("%s: events = %+v, want the last with correlation id %q", tc.target, evs, got)
		}
	}
}

// TestOrderRoutes: reading and cancelling answer the order as it is
// stored, not to be cached.
func TestOrderRoutes(t *testing.T) {
	h := newHarness(t)
	id := seedOrders(h, ada, 1, order.Confirmed)[0]
	for _, method := range []string{"GET", "POST"} {
		target := "/v1/orders/" + id
		if method == "POST" {
			target += "/cancel"
		}
		resp := h.send(t, &ada, method, target, "").Expect(t, http.StatusOK)
		stored, _ := h.store.MemStore.Order(t.Context(), ada.UserID, id)
		if got := decode[orderJSON](t, resp); !reflect.DeepEqual(got, orderDetail(stored)) || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s = %+v, %v; want %+v, no-store", method, target, got, resp.Header, orderDetail(stored))
		}
	}
}

func listOrders(t *testing.T, h *harness, p *principal.Principal, query string) *apitest.Response {
	t.Helper()
	return h.send(t, p, "GET", "/v1/orders?"+query, "")
}

func TestListOrders(t *testing.T) {
	h := newHarness(t)
	if resp := listOrders(t, h, &ada, ""); resp.StatusCode != http.StatusOK || resp.Body != `{"items":[],"nextCursor":null}` {
		t.Errorf("empty list = %d %s", resp.StatusCode, resp.Body)
	}
	ids := seedOrders(h, ada, DefaultPageSize+1, order.Pending)
	seedOrders(h, grace, 2, order.Pending)
	slices.Reverse(ids) // newest first
	if page := decode[orderPage](t, listOrders(t, h, &ada, "")); len(page.Items) != DefaultPageSize || page.NextCursor == nil {
		t.Errorf("first page of %d, next %v; want %d and a cursor", len(page.Items), page.NextCursor, DefaultPageSize)
	}
	for _, limit := range []string{"1", "50", "100"} {
		listOrders(t, h, &ada, "limit="+limit).Expect(t, http.StatusOK)
	}
	var seen []string
	query := "limit=8"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		page := decode[orderPage](t, listOrders(t, h, &ada, query).Expect(t, http.StatusOK))
		for _, o := range page.Items {
			seen = append(seen, o.ID)
		}
		if page.NextCursor == nil {
			break
		}
		if strings.Contains(*page.NextCursor, page.Items[len(page.Items)-1].ID) {
			t.Errorf("cursor %q shows the position in clear", *page.NextCursor)
		}
		query = "limit=8&cursor=" + *page.NextCursor
	}
	if !reflect.DeepEqual(seen, ids) {
		t.Errorf("pages gave %v, want %v", seen, ids)
	}
	if o := decode[orderPage](t, listOrders(t, h, &ada, "limit=1")).Items[0]; !reflect.DeepEqual(o.Items, []order.Line{{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290}}) {
		t.Errorf("item = %+v", o)
	}
}

func TestListOrdersBadCursor(t *testing.T) {
	h := newHarness(t)
	seedOrders(h, ada, 3, order.Pending)
	seedOrders(h, grace, 3, order.Pending)
	next := func(p *principal.Principal) string {
		page := decode[orderPage](t, listOrders(t, h, p, "limit=1"))
		if page.NextCursor == nil {
			t.Fatal("no next cursor")
		}
		return *page.NextCursor
	}
	adas, graces := next(&ada), next(&grace)
	parts := strings.Split(adas, ".")
	for _, cursor := range []string{
		parts[0] + "." + parts[1][:len(parts[1])-2] + "AA." + parts[2], // tampered
		graces, "c9" + strings.TrimPrefix(adas, "c1"), adas + strings.Repeat("A", 300), "%25%25%25", "",
	} {
		calls := h.store.Calls("Orders")
		p := listOrders(t, h, &ada, "cursor="+cursor).Problem(t, http.StatusBadRequest, "validation")
		if !reflect.DeepEqual(p.Fields(), []string{"cursor"}) || h.store.Calls("Orders") != calls {
			t.Errorf("cursor %q: fields %v, store called %v; want [cursor], not called", cursor, p.Fields(), h.store.Calls("Orders") != calls)
		}
	}
	listOrders(t, h, &ada, "cursor="+adas).Expect(t, http.StatusOK)
}
