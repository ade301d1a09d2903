package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
)

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
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
		})
	}
}
