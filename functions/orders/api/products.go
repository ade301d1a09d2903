package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/problem"
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
	all, err := a.Store.Products(ctx)
	if err != nil {
		return nil, err
	}
	items := make([]productJSON, 0, len(all))
	for _, p := range all {
		if p.Active {
			items = append(items, productView(p))
		}
	}
	return cacheable(r, struct {
		Items []productJSON `json:"items"`
	}{items})
}

func (a *API) getProduct(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	sku := r.PathParam("sku")
	if !order.ValidSKU(sku) {
		return nil, problem.New(problem.NotFound, "No such product.")
	}
	p, err := a.Store.Product(ctx, sku)
	if errors.Is(err, order.ErrNotFound) || (err == nil && !p.Active) {
		return nil, problem.New(problem.NotFound, "No such product.")
	}
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
