// Package catalog holds the seed product catalog, a first deploy's
// convenience, and the custom resource handler that adds it to the orders
// table: what the table lacks only, never overwriting what staff changed.
package catalog

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/serverless-shop/backend/functions/orders/order"
)

//go:embed catalog.json
var catalogJSON []byte

// Catalog returns the seed catalog, validated: well-formed unique SKUs,
// names and descriptions of clean text (shared/text), prices above zero and
// within the bound the event schema accepts (a product priced beyond it
// would make every event of its orders poison), ISO currency codes.
func Catalog(now time.Time) ([]order.Product, error) {
	var raw []struct {
		order.Product      // the API's JSON of a product, which hides whether it is active
		Active        bool `json:"active"`
	}
	dec := json.NewDecoder(bytes.NewReader(catalogJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("seed catalog: %w", err)
	}
	seen := map[string]bool{}
	products := make([]order.Product, 0, len(raw))
	for i, r := range raw {
		p, err := order.NewProduct(r.Product) // the rules of a product staff add
		if err != nil || seen[p.SKU] || p != (order.Product{SKU: r.SKU, Name: r.Name, Description: r.Description, UnitPrice: r.UnitPrice, Currency: r.Currency, Active: true}) {
			return nil, fmt.Errorf("seed catalog: entry %d (%q) is invalid, not normalised or repeated", i, r.SKU)
		}
		seen[p.SKU] = true
		p.Active, p.UpdatedAt = r.Active, now.UTC()
		products = append(products, p)
	}
	return products, nil
}

// SeedStock is the stock the seed gives each of its products that has no
// stock item: enough that the tests' orders (e2e, the fault campaign, the
// launch day, the benchmarks) never run out; staff set the real figure.
const SeedStock = 1_000_000_000

// Handler is the CloudFormation custom resource that seeds the catalog on
// stack create and update with seed, which adds the products the table
// lacks and gives stock to those without a stock item, changing nothing
// else (the orders store's SeedProducts): it adds only what is missing, so
// it is repeatable and never undoes a staff member's change; on delete it
// does nothing (the table goes with the stack).
func Handler(seed func(ctx context.Context, products []order.Product, stock int64) error, log *slog.Logger, now func() time.Time) cfn.CustomResourceFunction {
	return func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		physicalID := "catalog-seed"
		if ev.RequestType == cfn.RequestDelete {
			return physicalID, nil, nil
		}
		products, err := Catalog(now())
		if err != nil {
			return physicalID, nil, err
		}
		if err := seed(ctx, products, SeedStock); err != nil {
			return physicalID, nil, err
		}
		log.InfoContext(ctx, "catalog seeded", slog.Int("products", len(products)), slog.String("requestType", string(ev.RequestType)))
		return physicalID, map[string]any{"Products": len(products)}, nil
	}
}
