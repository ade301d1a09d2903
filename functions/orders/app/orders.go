package app

import (
	"context"
	"log/slog"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// Order returns the customer's order, or order.ErrNotFound, also for a
// malformed id and for another customer's order.
func (s *Service) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	if !order.ValidID(id) {
		return order.Order{}, order.ErrNotFound
	}
	return s.Store.Order(ctx, customerID, id)
}

// CancelOrder cancels the customer's order, announcing its order.cancelled
// event, or answers order.ErrNotFound or order.ErrNotCancellable (also
// when a concurrent cancel won).
func (s *Service) CancelOrder(ctx context.Context, customerID, id, correlationID string) (order.Order, error) {
	if !order.ValidID(id) {
		return order.Order{}, order.ErrNotFound
	}
	ev := order.EventRef{ID: s.NewID(), CorrelationID: correlationID}
	cancelled, err := s.Store.CancelOrder(ctx, customerID, id, s.now(), ev)
	if err != nil {
		return order.Order{}, err
	}
	s.Metrics.Add(MetricCancelled, 1)
	s.Log.InfoContext(ctx, "order cancelled", slog.String("orderId", cancelled.ID), slog.String("eventId", ev.ID))
	return cancelled, nil
}
