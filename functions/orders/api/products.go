package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/httpapi"
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

type productJSON struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	UnitPrice   int64  `json:"unitPrice"`
	Currency    string `json:"currency"`
}

func productView(p order.Product) productJSON {
	return productJSON{SKU: p.SKU, Name: p.Name, Description: p.Description, UnitPrice: p.UnitPrice, Currency: p.Currency}
}

func (a *API) listProducts(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	products, fresh, err := a.orders.Products(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]productJSON, len(products))
	for i, p := range products {
		items[i] = productView(p)
	}
	return cacheable(r, fresh, struct {
		Items []productJSON `json:"items"`
	}{items})
}

func (a *API) getProduct(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	p, fresh, err := a.orders.Product(ctx, r.PathParam("sku"))
	if err != nil {
		return nil, err
	}
	return cacheable(r, fresh, productView(p))
}

// cacheable renders v with a strong ETag over its bytes, answering 304 when
// the client already holds that representation. A stale answer says so.
func cacheable(r *httpapi.Request, fresh app.Freshness, v any) (*httpapi.Response, error) {
	resp, err := httpapi.JSON(http.StatusOK, v)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(resp.Body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	if etagMatches(r.Header("If-None-Match"), etag) {
		resp = httpapi.NotModified(etag)
	} else {
		resp.Set("ETag", etag)
	}
	if !fresh.Stale {
		return resp.Set("Cache-Control", catalogCacheControl), nil
	}
	return resp.Set("Cache-Control", staleCacheControl).Set(HeaderCatalogStale, "true").
		Set("Age", strconv.Itoa(int(fresh.Age/time.Second))), nil
}

// etagMatches implements the weak comparison If-None-Match uses (RFC 9110,
// section 13.1.2) against a list of entity tags or "*".
func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == etag {
			return true
		}
	}
	return false
}
