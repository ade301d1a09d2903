package api

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
)

// TestEtagMatches: If-None-Match's weak comparison, against a list of
// entity tags or "*".
func TestEtagMatches(t *testing.T) {
	const etag = `"abc123"`
	for header, want := range map[string]bool{
		`"abc123"`:              true,
		`W/"abc123"`:            true,
		`  "zzz" ,  "abc123"  `: true,
		`*`:                     true,
		``:                      false,
		`"zzz"`:                 false,
		`abc123`:                false, // unquoted
		`"abc12"`:               false, // a prefix of the tag
		`w/"abc123"`:            false, // a lower-case weak prefix
	} {
		if got := etagMatches(header, etag); got != want {
			t.Errorf("etagMatches(%q, %q) = %v, want %v", header, etag, got, want)
		}
	}
}

type productList struct {
	Items []order.Product `json:"items"`
}

// TestProductRoutes: the catalog's views, cacheable for a minute, with a
// strong ETag; an empty catalog is an empty list.
func TestProductRoutes(t *testing.T) {
	h := newHarness(t)
	for target, want := range map[string]any{
		"/v1/products": productList{[]order.Product{
			{SKU: "BRW-V60-02", Name: "Pour-over Dripper", Description: "Ceramic.", UnitPrice: 2400, Currency: "USD"},
			{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Description: "Dark roast.", UnitPrice: 1290, Currency: "USD"},
			{SKU: "EUR-ONLY", Name: "Euro item", Description: "Priced in euros.", UnitPrice: 999, Currency: "EUR"},
			{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Description: "Black tea.", UnitPrice: 850, Currency: "USD"},
		}},
		"/v1/products/COF-ESP-250": order.Product{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Description: "Dark roast.", UnitPrice: 1290, Currency: "USD"},
	} {
		resp := h.send(t, nil, "GET", target, "").Expect(t, http.StatusOK)
		got := reflect.New(reflect.TypeOf(want))
		resp.JSON(t, got.Interface())
		if !reflect.DeepEqual(got.Elem().Interface(), want) {
			t.Errorf("%s =\n%+v\nwant\n%+v", target, got.Elem().Interface(), want)
		}
		etag := resp.Header.Get("ETag")
		if resp.Header.Get("Cache-Control") != "public, max-age=60" || resp.Header.Get("Content-Type") != "application/json" ||
			len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
			t.Errorf("%s: headers %v; want cacheable JSON with a quoted strong ETag", target, resp.Header)
		}
	}
	empty := newHarnessWith(t, Config{LoadCursorKey: loadTestCursorKey}, nil)
	if resp := empty.send(t, nil, "GET", "/v1/products", ""); resp.StatusCode != http.StatusOK || resp.Body != `{"items":[]}` {
		t.Errorf("empty catalog = %d %s, want 200 {\"items\":[]}", resp.StatusCode, resp.Body)
	}
}

func TestProductsConditionalGet(t *testing.T) {
	for _, target := range []string{"/v1/products", "/v1/products/COF-ESP-250"} {
		t.Run(target, func(t *testing.T) {
			h := newHarness(t)
			first := h.send(t, nil, "GET", target, "").Expect(t, http.StatusOK)
			etag := first.Header.Get("ETag")
			if again := h.send(t, nil, "GET", target, ""); again.Header.Get("ETag") != etag || again.Body != first.Body {
				t.Errorf("same representation, different ETag or body: %q vs %q", again.Header.Get("ETag"), etag)
			}
			for ifNoneMatch, want := range map[string]int{etag: 304, "W/" + etag: 304, `"other", ` + etag: 304, "*": 304, `"other"`: 200} {
				resp := h.send(t, nil, "GET", target, "", "If-None-Match", ifNoneMatch).Expect(t, want)
				if resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") != "public, max-age=60" {
					t.Errorf("If-None-Match %s: headers %v", ifNoneMatch, resp.Header)
				}
				if want == 304 && resp.Body != "" || want == 200 && resp.Body != first.Body {
					t.Errorf("If-None-Match %s: body %q", ifNoneMatch, resp.Body)
				}
			}
		})
	}
}

// TestProductsETagFollowsContent checks that a catalog change changes the
// ETag, so a cached copy is not revalidated as current.
func TestProductsETagFollowsContent(t *testing.T) {
	h := newHarness(t)
	before := h.send(t, nil, "GET", "/v1/products", "").Header.Get("ETag")
	changed := apptest.Catalog()[0]
	changed.UnitPrice++
	h.store.PutProducts(changed)
	h.later.Store(int64(app.CatalogFresh)) // the function's copy of the catalog expires
	if after := h.send(t, nil, "GET", "/v1/products", "", "If-None-Match", before).Expect(t, http.StatusOK); after.Header.Get("ETag") == before {
		t.Errorf("ETag %q unchanged after a price change", before)
	}
}

// TestProductsStaleWhileTableDown: when the table cannot be read and the
// function's copy has expired, both product routes answer from the last
// good copy, marked stale. (For how long, then the error, is app's
// TestCatalogCache; a failed read's answer, TestStoreFailuresAreInternal.)
func TestProductsStaleWhileTableDown(t *testing.T) {
	h := newHarness(t)
	targets := []string{"/v1/products", "/v1/products/COF-ESP-250"}
	fresh := map[string]string{}
	for _, target := range targets {
		resp := h.send(t, nil, "GET", target, "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get(HeaderCatalogStale) != "" || resp.Header.Get("Age") != "" {
			t.Fatalf("%s: %d %v; want a fresh 200", target, resp.StatusCode, resp.Header)
		}
		fresh[target] = resp.Body
	}
	h.store.Fail("Products", errors.New("dynamodb: service unavailable"))
	h.later.Store(int64(app.CatalogFresh + 30*time.Second))
	for _, target := range targets {
		resp := h.send(t, nil, "GET", target, "")
		if resp.StatusCode != http.StatusOK || resp.Body != fresh[target] {
			t.Fatalf("%s with the table down: %d %s; want the last good copy", target, resp.StatusCode, resp.Body)
		}
		for k, v := range map[string]string{HeaderCatalogStale: "true", "Age": "330", "Cache-Control": "no-cache"} {
			if resp.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", target, k, resp.Header.Get(k), v)
			}
		}
		// A client that holds the copy revalidates it as usual.
		if resp := h.send(t, nil, "GET", target, "", "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != http.StatusNotModified || resp.Header.Get(HeaderCatalogStale) != "true" {
			t.Errorf("%s revalidated: %d %v; want 304 marked stale", target, resp.StatusCode, resp.Header)
		}
	}
}
