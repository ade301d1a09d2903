package app_test

import (
	"testing"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
)

var orderItems = []order.ItemRequest{{SKU: "COF-ESP-250", Quantity: 2}, {SKU: "TEA-EARL-100", Quantity: 1}}

func item(sku string, quantity int) order.ItemRequest {
	return order.ItemRequest{SKU: sku, Quantity: quantity}
}

func TestRequestHash(t *testing.T) {
	base := app.RequestHash(orderItems)
	// Stored idempotency keys carry this hash for a day: it must not change
	// with a refactoring, or their retries would count as other requests.
	const storedByTheFirstVersion = "085ed448d2e08d2b1cdb2a8aaa4ca73d7f185335fdaa4713647abb2dc3fa8bc0"
	if base != storedByTheFirstVersion {
		t.Fatalf("RequestHash = %s, want the hash stored keys hold, %s", base, storedByTheFirstVersion)
	}
	tests := []struct {
		name  string
		items []order.ItemRequest
		same  bool
	}{
		{"same items", []order.ItemRequest{item("COF-ESP-250", 2), item("TEA-EARL-100", 1)}, true},
		{"different quantity", []order.ItemRequest{item("COF-ESP-250", 3), item("TEA-EARL-100", 1)}, false},
		{"different sku", []order.ItemRequest{item("COF-ESP-250", 2), item("TEA-EARL-250", 1)}, false},
		{"line dropped", []order.ItemRequest{item("COF-ESP-250", 2)}, false},
		{"line added", []order.ItemRequest{item("COF-ESP-250", 2), item("TEA-EARL-100", 1), item("BRW-V60-02", 1)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := app.RequestHash(tt.items)
			if (got == base) != tt.same {
				t.Errorf("app.RequestHash(%v) == app.RequestHash(%v) is %v, want %v", tt.items, orderItems, got == base, tt.same)
			}
		})
	}
}
