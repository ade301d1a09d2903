package app

import (
	"context"
	"log/slog"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// CreateProduct adds a product to the catalog, active and without stock.
// Errors: a validation *problem.Error, order.ErrProductExists.
func (s *Service) CreateProduct(ctx context.Context, p order.Product) (order.StaffProduct, error) {
	p, err := order.NewProduct(p)
	if err != nil {
		return order.StaffProduct{}, err
	}
	p.UpdatedAt = s.now()
	if err := s.Store.CreateProduct(ctx, p); err != nil {
		return order.StaffProduct{}, err
	}
	s.Log.InfoContext(ctx, "product created", slog.String("sku", p.SKU), slog.Int64("unitPrice", p.UnitPrice), slog.String("currency", p.Currency))
	return order.StaffProduct{Product: p, Active: true}, nil
}

// UpdateProduct changes a product; active false archives it (it is never
// deleted: old orders keep showing it). New orders are priced with the
// change once the function's copy of the catalog is older than its
// freshness (CatalogFresh). Errors: a validation *problem.Error,
// order.ErrProductNotFound.
func (s *Service) UpdateProduct(ctx context.Context, sku string, c order.ProductChange) (order.StaffProduct, error) {
	if !order.ValidSKU(sku) {
		return order.StaffProduct{}, order.ErrProductNotFound
	}
	c, err := c.Check()
	if err != nil {
		return order.StaffProduct{}, err
	}
	p, err := s.Store.UpdateProduct(ctx, sku, c, s.now())
	if err != nil {
		return order.StaffProduct{}, err
	}
	s.Log.InfoContext(ctx, "product changed", slog.String("sku", p.SKU), slog.Int64("unitPrice", p.UnitPrice), slog.Bool("active", p.Active))
	stock, err := s.Store.Stock(ctx, sku)
	if err != nil {
		return order.StaffProduct{}, err
	}
	return order.StaffProduct{Product: p, Active: p.Active, Stock: stock[sku]}, nil
}

// StaffProduct returns a product as staff see it, read from the table.
// Errors: order.ErrProductNotFound.
func (s *Service) StaffProduct(ctx context.Context, sku string) (order.StaffProduct, error) {
	if !order.ValidSKU(sku) {
		return order.StaffProduct{}, order.ErrProductNotFound
	}
	return s.Store.StaffProduct(ctx, sku)
}

// ChangeStock applies a staff member's change to a product's stock and
// returns the new stock. Errors: a validation *problem.Error,
// order.ErrProductNotFound, order.ErrStockBelowZero, order.ErrStockChanged.
func (s *Service) ChangeStock(ctx context.Context, sku string, c order.StockChange) (int64, error) {
	if !order.ValidSKU(sku) {
		return 0, order.ErrProductNotFound
	}
	if err := c.Check(); err != nil {
		return 0, err
	}
	var stock int64
	var err error
	if c.Delta != nil {
		stock, err = s.Store.AdjustStock(ctx, sku, *c.Delta)
	} else {
		stock, err = s.Store.SetStock(ctx, sku, *c.Set, *c.Expected)
	}
	if err != nil {
		return 0, err
	}
	s.Log.InfoContext(ctx, "stock changed", slog.String("sku", sku), slog.Int64("stock", stock))
	return stock, nil
}

// StaffOrder returns any customer's order. Errors: order.ErrNotFound
// (also for a malformed id).
func (s *Service) StaffOrder(ctx context.Context, id string) (order.Order, error) {
	if !order.ValidID(id) {
		return order.Order{}, order.ErrNotFound
	}
	return s.Store.StaffOrder(ctx, id)
}

// Metric names of the staff's transitions.
const MetricTransitions = "OrderTransitions"

// Transition moves any customer's order id along t, a staff member's
// action (order.Confirm, Ship, Deliver or StaffCancel), announcing its
// event, or answers a validation *problem.Error for what staff gave it
// (t.Check), order.ErrNotFound (also for a malformed id) or t.Refused
// (order.ErrIllegalTransition). A repeat of the transition answers the
// order unchanged; a cancel gives the order's stock back once.
func (s *Service) Transition(ctx context.Context, id string, t order.Transition, correlationID string) (order.Order, error) {
	if err := t.Check(); err != nil {
		return order.Order{}, err
	}
	if !order.ValidID(id) {
		return order.Order{}, order.ErrNotFound
	}
	ev := order.EventRef{ID: s.NewID(), CorrelationID: correlationID}
	o, err := s.Store.Transition(ctx, id, t, s.now(), ev)
	if err != nil {
		return order.Order{}, err
	}
	s.Metrics.Add(MetricTransitions, 1)
	s.Log.InfoContext(ctx, "order transition", slog.String("orderId", o.ID), slog.String("status", string(o.Status)), slog.String("eventId", ev.ID))
	return o, nil
}
