package app

import (
	"context"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// Reorder places a new order with the SKUs and quantities of the
// customer's earlier order orderID, in any status, at today's catalog
// prices: it is PlaceOrder with in's items read from that order (in.Items
// is not read). Errors are PlaceOrder's, and order.ErrNotFound when the
// caller has no such order; a product since retired makes the new order
// unprocessable, as it would be in a new request.
func (s *Service) Reorder(ctx context.Context, orderID string, in PlaceOrder) (Placed, error) {
	if !in.EmailVerified {
		return Placed{}, order.ErrEmailUnverified
	}
	earlier, err := s.Order(ctx, in.Customer.ID, orderID)
	if err != nil {
		return Placed{}, err
	}
	in.Items = make([]order.ItemRequest, len(earlier.Lines))
	for i, l := range earlier.Lines {
		in.Items[i] = order.ItemRequest{SKU: l.SKU, Quantity: l.Quantity}
	}
	return s.PlaceOrder(ctx, in)
}
