package app

import (
	"context"
	"log/slog"
	"slices"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// Products returns the products a customer can order, ordered by SKU, from
// the function's copy of the catalog (see CatalogFresh). When the table
// cannot be read it answers from the last good copy for up to
// CatalogMaxStale, saying so in the Freshness; after that, or without a
// copy, the read's error.
func (s *Service) Products(ctx context.Context) ([]order.Product, Freshness, error) {
	snap, fresh, err := s.browse(ctx)
	if err != nil {
		return nil, Freshness{}, err
	}
	active := slices.DeleteFunc(append([]order.Product{}, snap.products...), func(p order.Product) bool { return !p.Active })
	return active, fresh, nil
}

// Product returns an orderable product, or order.ErrProductNotFound: for
// a malformed SKU, an unknown one and a discontinued one alike. It reads
// the catalog as Products does.
func (s *Service) Product(ctx context.Context, sku string) (order.Product, Freshness, error) {
	if !order.ValidSKU(sku) {
		return order.Product{}, Freshness{}, order.ErrProductNotFound
	}
	snap, fresh, err := s.browse(ctx)
	if err != nil {
		return order.Product{}, Freshness{}, err
	}
	p, ok := snap.bySKU[sku]
	if !ok || !p.Active {
		return order.Product{}, Freshness{}, order.ErrProductNotFound
	}
	return p, fresh, nil
}

// browse reads the catalog for the product routes, logging a stale answer.
func (s *Service) browse(ctx context.Context) (*catalogSnapshot, Freshness, error) {
	snap, fresh, err := s.catalog.browse(ctx)
	if err == nil && fresh.Stale {
		s.Metrics.Add(MetricCatalogStale, 1)
		s.Log.WarnContext(ctx, "catalog unavailable: answering from the last good copy",
			slog.Duration("age", fresh.Age))
	}
	return snap, fresh, err
}
