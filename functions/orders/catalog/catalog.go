// Package catalog holds the product catalog that is loaded into the orders
// table on every deploy, and the custom resource handler that loads it.
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
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/text"
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
	for i, p := range raw {
		if !order.ValidSKU(p.SKU) || seen[p.SKU] || p.Name == "" || !text.Clean(p.Name) || !text.Clean(p.Description) ||
			p.UnitPrice <= 0 || p.UnitPrice > events.MaxUnitPrice || len(p.Currency) != 3 || !text.Only(p.Currency, text.Upper) {
			return nil, fmt.Errorf("seed catalog: entry %d (%q) is invalid or repeated", i, p.SKU)
		}
		seen[p.SKU] = true
		p.Product.Active, p.UpdatedAt = p.Active, now.UTC()
		products = append(products, p.Product)
	}
	return products, nil
}

// Writer stores products; the orders store implements it.
type Writer interface {
	PutProducts(ctx context.Context, products []order.Product) error
}

// Handler is the CloudFormation custom resource that loads the catalog on
// stack create and update. Loading is an upsert, so it is repeatable; on
// delete it does nothing (the table goes with the stack).
func Handler(w Writer, log *slog.Logger, now func() time.Time) cfn.CustomResourceFunction {
	return func(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
		physicalID := "catalog-seed"
		if ev.RequestType == cfn.RequestDelete {
			return physicalID, nil, nil
		}
		products, err := Catalog(now())
		if err != nil {
			return physicalID, nil, err
		}
		if err := w.PutProducts(ctx, products); err != nil {
			return physicalID, nil, err
		}
		log.InfoContext(ctx, "catalog seeded", slog.Int("products", len(products)), slog.String("requestType", string(ev.RequestType)))
		return physicalID, map[string]any{"Products": len(products)}, nil
	}
}
