package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
)

func TestEtagMatches(t *testing.T) {
	const etag = `"abc123"`
	tests := []struct {
		name   string
		header string
		want   bool
	}{
		{"exact", `"abc123"`, true},
		{"weak prefix", `W/"abc123"`, true},
		{"in a list", `"zzz", "abc123"`, true},
		{"weak in a list", `"zzz",W/"abc123"`, true},
		{"list with spaces", `  "zzz" ,  "abc123"  `, true},
		{"star", `*`, true},
		{"star with spaces", ` * `, true},
		{"empty header", ``, false},
		{"no match", `"zzz"`, false},
		{"list without match", `"zzz", W/"yyy"`, false},
		{"unquoted", `abc123`, false},
		{"prefix of the tag", `"abc12"`, false},
		{"lower-case weak prefix", `w/"abc123"`, false},
		{"empty list entries", `,,`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := etagMatches(tt.header, etag); got != tt.want {
				t.Errorf("etagMatches(%q, %q) = %v, want %v", tt.header, etag, got, tt.want)
			}
		})
	}
}

type productList struct {
	Items []productJSON `json:"items"`
}

func TestListProducts(t *testing.T) {
	h := newHarness(t)
	resp := h.do(t, req{route: "GET /v1/products"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
	}
	got := decode[productList](t, resp)
	want := []productJSON{
		{SKU: "BRW-V60-02", Name: "Pour-over Dripper", Description: "Ceramic.", UnitPrice: 2400, Currency: "USD"},
		{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Description: "Dark roast.", UnitPrice: 1290, Currency: "USD"},
		{SKU: "EUR-ONLY", Name: "Euro item", Description: "Priced in euros.", UnitPrice: 999, Currency: "EUR"},
		{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Description: "Black tea.", UnitPrice: 850, Currency: "USD"},
	}
	if !reflect.DeepEqual(got.Items, want) {
		t.Errorf("items =\n%+v\nwant\n%+v", got.Items, want)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	etag := resp.Header.Get("ETag")
	if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		t.Errorf("ETag = %q, want a quoted strong tag", etag)
	}
}

func TestListProductsKeepsStoreOrder(t *testing.T) {
	h := newHarness(t)
	h.fake.ProductsFunc = func(context.Context) ([]order.Product, error) {
		return []order.Product{
			{SKU: "Z-1", Name: "z", UnitPrice: 1, Currency: "USD", Active: true},
			{SKU: "A-1", Name: "a", UnitPrice: 1, Currency: "USD", Active: false},
			{SKU: "M-1", Name: "m", UnitPrice: 1, Currency: "USD", Active: true},
			{SKU: "B-1", Name: "b", UnitPrice: 1, Currency: "USD", Active: true},
		}, nil
	}
	got := decode[productList](t, h.do(t, req{route: "GET /v1/products"}))
	var skus []string
	for _, p := range got.Items {
		skus = append(skus, p.SKU)
	}
	if want := []string{"Z-1", "M-1", "B-1"}; !reflect.DeepEqual(skus, want) {
		t.Errorf("skus = %v, want %v", skus, want)
	}
}

func TestListProductsEmptyCatalog(t *testing.T) {
	h := newHarness(t)
	h.fake.ProductsFunc = func(context.Context) ([]order.Product, error) { return nil, nil }
	resp := h.do(t, req{route: "GET /v1/products"})
	if resp.StatusCode != http.StatusOK || resp.Body != `{"items":[]}` {
		t.Errorf("empty catalog = %d %s, want 200 {\"items\":[]}", resp.StatusCode, resp.Body)
	}
}

func TestProductsConditionalGet(t *testing.T) {
	tests := []struct {
		name  string
		route string
		path  map[string]string
	}{
		{"list", "GET /v1/products", nil},
		{"product", "GET /v1/products/{sku}", map[string]string{"sku": "COF-ESP-250"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.do(t, req{route: tt.route, path: tt.path})
			etag := first.Header.Get("ETag")
			if first.StatusCode != http.StatusOK || etag == "" {
				t.Fatalf("first = %d, ETag %q", first.StatusCode, etag)
			}
			again := h.do(t, req{route: tt.route, path: tt.path})
			if again.Header.Get("ETag") != etag || again.Body != first.Body {
				t.Errorf("same representation, different ETag or body: %q vs %q", again.Header.Get("ETag"), etag)
			}

			cases := []struct {
				name        string
				ifNoneMatch string
				want        int
			}{
				{"same etag", etag, http.StatusNotModified},
				{"weak etag", "W/" + etag, http.StatusNotModified},
				{"in a list", `"other", ` + etag, http.StatusNotModified},
				{"star", "*", http.StatusNotModified},
				{"other etag", `"other"`, http.StatusOK},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					resp := h.do(t, req{route: tt.route, path: tt.path, headers: map[string]string{"If-None-Match": c.ifNoneMatch}})
					if resp.StatusCode != c.want {
						t.Fatalf("status = %d, want %d", resp.StatusCode, c.want)
					}
					if resp.Header.Get("ETag") != etag {
						t.Errorf("ETag = %q, want %q", resp.Header.Get("ETag"), etag)
					}
					if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
						t.Errorf("Cache-Control = %q", cc)
					}
					if c.want == http.StatusNotModified && resp.Body != "" {
						t.Errorf("304 has a body: %q", resp.Body)
					}
					if c.want == http.StatusOK && resp.Body != first.Body {
						t.Errorf("body = %s, want %s", resp.Body, first.Body)
					}
				})
			}
		})
	}
}

// TestProductsETagFollowsContent checks that a catalog change changes the
// ETag, so a cached copy is not revalidated as current.
func TestProductsETagFollowsContent(t *testing.T) {
	h := newHarness(t)
	before := h.do(t, req{route: "GET /v1/products"}).Header.Get("ETag")
	changed := testCatalog()[0]
	changed.UnitPrice++
	if err := h.mem.PutProducts(context.Background(), []order.Product{changed}); err != nil {
		t.Fatal(err)
	}
	h.advance(app.CatalogFresh) // the function's copy of the catalog expires
	after := h.do(t, req{route: "GET /v1/products", headers: map[string]string{"If-None-Match": before}})
	if after.StatusCode != http.StatusOK {
		t.Fatalf("status = %d after a price change, want 200", after.StatusCode)
	}
	if after.Header.Get("ETag") == before {
		t.Errorf("ETag %q unchanged after a price change", before)
	}
}

func TestGetProduct(t *testing.T) {
	tests := []struct {
		name      string
		sku       string
		want      int
		wantStore bool // whether the store is asked
	}{
		{"active", "COF-ESP-250", http.StatusOK, true},
		// The whole catalog is read once: an unknown SKU costs no more.
		{"unknown", "NOPE-1", http.StatusNotFound, true},
		{"inactive", "MUG-OLD", http.StatusNotFound, true},
		{"lower case", "cof-esp-250", http.StatusNotFound, false},
		{"empty", "", http.StatusNotFound, false},
		{"too long", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", http.StatusNotFound, false},
		{"key injection", "COF#PRODUCT", http.StatusNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := h.do(t, req{route: "GET /v1/products/{sku}", path: map[string]string{"sku": tt.sku}})
			if asked := h.mem.productReads > 0; asked != tt.wantStore {
				t.Errorf("store asked = %v, want %v", asked, tt.wantStore)
			}
			if tt.want != http.StatusOK {
				p := wantProblem(t, resp, tt.want, "not-found")
				if tt.sku != "" && p.Detail != "No such product." { // "": a path no route has
					t.Errorf("detail = %q", p.Detail)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d; body %s", resp.StatusCode, resp.Body)
			}
			got := decode[productJSON](t, resp)
			want := productJSON{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Description: "Dark roast.", UnitPrice: 1290, Currency: "USD"}
			if got != want {
				t.Errorf("product = %+v, want %+v", got, want)
			}
			if resp.Header.Get("Cache-Control") != "public, max-age=60" || resp.Header.Get("ETag") == "" {
				t.Errorf("headers = %v, want cacheable", resp.Header)
			}
		})
	}
}

// TestProductsStaleWhileTableDown: when the table cannot be read and the
// function's copy has expired, both product routes answer from the last
// good copy, marked stale, for up to an hour; then the error.
func TestProductsStaleWhileTableDown(t *testing.T) {
	h := newHarness(t)
	routes := []req{
		{route: "GET /v1/products"},
		{route: "GET /v1/products/{sku}", path: map[string]string{"sku": "COF-ESP-250"}},
	}
	fresh := map[string]string{}
	for _, r := range routes {
		resp := h.do(t, r)
		if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderCatalogStale) != "" || resp.Header.Get("Age") != "" {
			t.Fatalf("%s: %d %v; want a fresh 200", r.route, resp.StatusCode, resp.Header)
		}
		fresh[r.route] = resp.Body
	}
	h.fake.ProductsFunc = func(context.Context) ([]order.Product, error) {
		return nil, errors.New("dynamodb: service unavailable")
	}
	h.advance(app.CatalogFresh + 30*time.Second)
	for _, r := range routes {
		resp := h.do(t, r)
		if resp.StatusCode != http.StatusOK || resp.Body != fresh[r.route] {
			t.Fatalf("%s with the table down: %d %s; want the last good copy", r.route, resp.StatusCode, resp.Body)
		}
		want := map[string]string{HeaderCatalogStale: "true", "Age": "330", "Cache-Control": "no-cache"}
		for k, v := range want {
			if resp.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", r.route, k, resp.Header.Get(k), v)
			}
		}
		// A client that holds the copy revalidates it as usual.
		again := r
		again.headers = map[string]string{"If-None-Match": resp.Header.Get("ETag")}
		if resp := h.do(t, again); resp.StatusCode != http.StatusNotModified || resp.Header.Get(HeaderCatalogStale) != "true" {
			t.Errorf("%s revalidated: %d %v; want 304 marked stale", r.route, resp.StatusCode, resp.Header)
		}
	}
	h.advance(app.CatalogMaxStale)
	for _, r := range routes {
		resp := h.do(t, r)
		if resp.StatusCode < 500 || strings.Contains(resp.Body, "dynamodb") {
			t.Errorf("%s with a copy over an hour old: %d %s; want a 5xx problem without the cause", r.route, resp.StatusCode, resp.Body)
		}
	}
}
