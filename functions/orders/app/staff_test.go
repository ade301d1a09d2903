package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
)

// TestStaffProducts walks a product's life through the staff's use cases:
// created active without stock, changed, its stock changed both ways, and
// the refusals of malformed SKUs (not found), bad fields (validation) and
// the store's errors, passed on.
func TestStaffProducts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	mug := order.Product{SKU: "MUG-NEW", Name: "Mug", Description: "A mug.", UnitPrice: 900, Currency: "USD"}
	created, err := f.svc.CreateProduct(ctx, mug)
	if err != nil || !created.Active || created.Stock != 0 || created.SKU != mug.SKU || !created.UpdatedAt.Equal(testNow.Truncate(1e6)) {
		t.Fatalf("CreateProduct = %+v, %v; want it active, without stock", created, err)
	}
	if _, err := f.svc.CreateProduct(ctx, mug); !errors.Is(err, order.ErrProductExists) {
		t.Errorf("CreateProduct again: %v, want ErrProductExists", err)
	}
	if _, err := f.svc.CreateProduct(ctx, order.Product{SKU: "bad sku"}); problem.Of(err, problem.Invalid) == nil {
		t.Errorf("CreateProduct of a bad product: %v, want a validation error", err)
	}

	price := int64(950)
	changed, err := f.svc.UpdateProduct(ctx, mug.SKU, order.ProductChange{UnitPrice: &price})
	if err != nil || changed.UnitPrice != price || !changed.Active {
		t.Errorf("UpdateProduct = %+v, %v; want the new price", changed, err)
	}
	if _, err := f.svc.UpdateProduct(ctx, mug.SKU, order.ProductChange{}); problem.Of(err, problem.Invalid) == nil {
		t.Errorf("UpdateProduct without a change: %v, want a validation error", err)
	}

	delta, set, expected, stale := int64(5), int64(7), int64(5), int64(1)
	for _, tt := range []struct {
		name   string
		change order.StockChange
		want   int64
		err    error
	}{
		{"delta", order.StockChange{Delta: &delta}, 5, nil},
		{"set", order.StockChange{Set: &set, Expected: &expected}, 7, nil},
		{"set on a stale level", order.StockChange{Set: &set, Expected: &stale}, 0, order.ErrStockChanged},
	} {
		if got, err := f.svc.ChangeStock(ctx, mug.SKU, tt.change); got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ChangeStock %s = %d, %v; want %d, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if _, err := f.svc.ChangeStock(ctx, mug.SKU, order.StockChange{}); problem.Of(err, problem.Invalid) == nil {
		t.Errorf("ChangeStock without a change: %v, want a validation error", err)
	}
	if p, err := f.svc.StaffProduct(ctx, mug.SKU); err != nil || p.Stock != 7 || p.UnitPrice != price {
		t.Errorf("StaffProduct = %+v, %v; want stock 7 at %d", p, err, price)
	}

	for _, sku := range []string{"lower-case", "", "MUG#NEW"} {
		_, err1 := f.svc.StaffProduct(ctx, sku)
		_, err2 := f.svc.UpdateProduct(ctx, sku, order.ProductChange{UnitPrice: &price})
		_, err3 := f.svc.ChangeStock(ctx, sku, order.StockChange{Delta: &delta})
		if !errors.Is(err1, order.ErrProductNotFound) || !errors.Is(err2, order.ErrProductNotFound) || !errors.Is(err3, order.ErrProductNotFound) {
			t.Errorf("SKU %q: %v, %v, %v; want ErrProductNotFound", sku, err1, err2, err3)
		}
	}
}

// TestStaffOrders: staff read any customer's order and move it along,
// with an event per change; a malformed id is not found and bad fields
// are refused before anything is read.
func TestStaffOrders(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.seed(grace, order.Pending)
	if o, err := f.svc.StaffOrder(ctx, id); err != nil || o.Customer != grace {
		t.Errorf("StaffOrder = %+v, %v; want Grace's order", o, err)
	}
	confirmed, err := f.svc.Transition(ctx, id, order.Confirm(), "corr-1")
	if err != nil || confirmed.Status != order.Confirmed {
		t.Fatalf("Transition(Confirm) = %+v, %v", confirmed, err)
	}
	f.wantEvent(t, events.OrderConfirmed, confirmed)
	if _, err := f.svc.Transition(ctx, id, order.Ship(order.Shipment{Carrier: "DHL"}), "corr-1"); problem.Of(err, problem.Invalid) == nil {
		t.Errorf("Ship without a tracking number: %v, want a validation error", err)
	}
	if _, err := f.svc.Transition(ctx, id, order.Deliver(), "corr-1"); !errors.Is(err, order.ErrIllegalTransition) {
		t.Errorf("Deliver a confirmed order: %v, want ErrIllegalTransition", err)
	}
	for _, bad := range []string{"not-an-order", "", id[:25]} {
		_, err1 := f.svc.StaffOrder(ctx, bad)
		_, err2 := f.svc.Transition(ctx, bad, order.Confirm(), "corr-1")
		if !errors.Is(err1, order.ErrNotFound) || !errors.Is(err2, order.ErrNotFound) {
			t.Errorf("id %q: %v, %v; want ErrNotFound", bad, err1, err2)
		}
	}
}
