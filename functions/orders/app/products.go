package app

import (
	"context"
	"errors"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// Products returns the products a customer can order, ordered by SKU.
func (s *Service) Products(ctx context.Context) ([]order.Product, error) {
	all, err := s.Store.Products(ctx)
	if err != nil {
		return nil, err
	}
	active := make([]order.Product, 0, len(all))
	for _, p := range all {
		if p.Active {
			active = append(active, p)
		}
	}
	return active, nil
}

// Product returns an orderable product, or order.ErrProductNotFound: for
// a malformed SKU, an unknown one and a discontinued one alike.
func (s *Service) Product(ctx context.Context, sku string) (order.Product, error) {
	if !order.ValidSKU(sku) {
		return order.Product{}, order.ErrProductNotFound
	}
	p, err := s.Store.Product(ctx, sku)
	if errors.Is(err, order.ErrNotFound) || (err == nil && !p.Active) {
		return order.Product{}, order.ErrProductNotFound
	}
	return p, err
}
