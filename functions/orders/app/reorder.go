package app

import (
	"context"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// Reorder asks to place again what one of the customer's orders holds.
type Reorder struct {
	Customer       order.Customer
	EmailVerified  bool    // as for PlaceOrder
	OrderID        string  // the order to repeat
	IdempotencyKey *string // as for PlaceOrder
	CorrelationID  string
}

// Reorder places a new order with the SKUs and quantities of an earlier
// one, in any status, at today's catalog prices: it is PlaceOrder with the
// items read from the order. Errors are PlaceOrder's, and order.ErrNotFound
// when the caller has no such order; a product since retired makes the new
// order unprocessable, as it would be in a new request.
func (s *Service) Reorder(ctx context.Context, in Reorder) (Placed, error) {
	if !in.EmailVerified {
		return Placed{}, order.ErrEmailUnverified
	}
	earlier, err := s.Order(ctx, in.Customer.ID, in.OrderID)
	if err != nil {
		return Placed{}, err
	}
	items := make([]order.ItemRequest, len(earlier.Lines))
	for i, l := range earlier.Lines {
		items[i] = order.ItemRequest{SKU: l.SKU, Quantity: l.Quantity}
	}
	return s.PlaceOrder(ctx, PlaceOrder{
		Customer: in.Customer, EmailVerified: in.EmailVerified, Items: items, IdempotencyKey: in.IdempotencyKey, CorrelationID: in.CorrelationID,
	})
}
