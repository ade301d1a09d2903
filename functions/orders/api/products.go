package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
)

// catalogCacheControl lets browsers and shared caches keep catalog
// responses for a minute and revalidate them with If-None-Match after that.
const catalogCacheControl = "public, max-age=60"

// HeaderCatalogStale marks a catalog answer served from the function's last
// good copy because the table could not be read (with Age, RFC 9111, the
// copy's age in seconds). Such answers carry staleCacheControl so that no
// cache keeps them once the table answers again.
const (
	HeaderCatalogStale = "X-Catalog-Stale"
	staleCacheControl  = "no-cache"
)

func (a *API) listProducts(w http.ResponseWriter, r *http.Request) error {
	products, fresh, err := a.orders.Products(r.Context())
	if err != nil {
		return err
	}
	return cacheable(w, r, fresh, map[string]any{"items": products})
}

func (a *API) getProduct(w http.ResponseWriter, r *http.Request) error {
	p, fresh, err := a.orders.Product(r.Context(), r.PathValue("sku"))
	if err != nil {
		return err
	}
	return cacheable(w, r, fresh, p)
}

// cacheable renders v with a strong ETag over its bytes, answering 304 when
// the client already holds that representation. A stale answer says so.
func cacheable(w http.ResponseWriter, r *http.Request, fresh app.Freshness, v any) error {
	body, _ := json.Marshal(v) // the catalog's views have only plain fields
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", catalogCacheControl)
	if fresh.Stale {
		h.Set("Cache-Control", staleCacheControl)
		h.Set(HeaderCatalogStale, "true")
		h.Set("Age", strconv.Itoa(int(fresh.Age/time.Second)))
	}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(body)
	return nil
}

// etagMatches implements the weak comparison If-None-Match uses (RFC 9110,
// section 13.1.2) against a list of entity tags or "*".
func etagMatches(header, etag string) bool {
	return slices.ContainsFunc(strings.Split(header, ","), func(candidate string) bool {
		candidate = strings.TrimSpace(candidate)
		return candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag
	})
}
