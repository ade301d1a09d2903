package api

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/principal"
)

func seedOrders(h *harness, p principal.Principal, n int, status order.Status) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = h.newID()
		h.mem.put(order.Order{
			ID: ids[i], Customer: order.Customer{ID: p.UserID, Email: p.Email, Name: p.Name}, Status: status,
			Lines: []order.Line{{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Quantity: 1, UnitPrice: 1290, LineTotal: 1290}},
			Total: 1290, Currency: "USD", CreatedAt: testNow, UpdatedAt: testNow,
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
