package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/httpapi"
)

// catalogCacheControl lets browsers and shared caches keep catalog
// responses for a minute and revalidate them with If-None-Match after that.
const catalogCacheControl = "public, max-age=60"

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
	products, err := a.orders.Products(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]productJSON, len(products))
	for i, p := range products {
		items[i] = productView(p)
	}
	return cacheable(r, struct {
		Items []productJSON `json:"items"`
	}{items})
}

func (a *API) getProduct(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	p, err := a.orders.Product(ctx, r.PathParam("sku"))
	if err != nil {
		return nil, err
	}
	return cacheable(r, productView(p))
}

// cacheable renders v with a strong ETag over its bytes, answering 304 when
// the client already holds that representation.
func cacheable(r *httpapi.Request, v any) (*httpapi.Response, error) {
	resp, err := httpapi.JSON(http.StatusOK, v)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(resp.Body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
	if etagMatches(r.Header("If-None-Match"), etag) {
		return httpapi.NotModified(etag).Set("Cache-Control", catalogCacheControl), nil
	}
	return resp.Set("ETag", etag).Set("Cache-Control", catalogCacheControl), nil
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
