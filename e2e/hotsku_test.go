//go:build integration

package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// localStockShards is the items each product's stock is split over on the
// local cloud (StockShards in localstack/params.sh; 8 on AWS by default).
const localStockShards = 4

// stockShards reads the shards of the SKU's stock from the orders table.
func stockShards(t *testing.T, sku string) []int64 {
	t.Helper()
	units, err := testcloud.StockShards(dynamodb.NewFromConfig(stack.aws), output(t, "OrdersTableName"), sku, localStockShards)
	if err != nil {
		t.Fatal(err)
	}
	return units
}

// TestAHotSKUsStockIsSplitOverShards: on the deployed stack a product's
// stock is split over shards (ADR 9), which staff never see: a set spreads
// it, an order larger than any one shard is split over them, the last unit
// is found whichever shard holds it, an order is out of stock only when
// the total is short, and a cancel gives the units back once.
func TestAHotSKUsStockIsSplitOverShards(t *testing.T) {
	t.Parallel()
	staff := staffUser(t)
	buyers := customers(t, 2, "shard-buyer")
	sku := fmt.Sprintf("E2E-SHARD-%d", time.Now().UnixNano()%1_000_000_000)
	call(t, "POST", "/v1/admin/products", map[string]any{"sku": sku, "name": "Sharded " + sku, "description": "", "unitPrice": 500, "currency": "USD"},
		staff.bearer()...).Expect(t, 201)
	call(t, "POST", "/v1/admin/products/"+sku+"/stock", map[string]any{"set": 4, "expected": 0}, staff.bearer()...).Expect(t, 200)
	if got := fmt.Sprint(stockShards(t, sku)); got != "[1 1 1 1]" {
		t.Fatalf("shards after set 4 = %s, want [1 1 1 1] (StockShards=4 locally)", got)
	}
	time.Sleep(localCatalogFresh + time.Second) // every copy of the catalog has it now

	var split orderDoc
	call(t, "POST", "/v1/orders", items(sku, 3), buyers[0].bearer()...).Expect(t, 201).JSON(t, &split)
	outOfStock(t, call(t, "POST", "/v1/orders", items(sku, 2), buyers[1].bearer()...), "items[0].sku")
	call(t, "POST", "/v1/orders", items(sku, 1), buyers[1].bearer()...).Expect(t, 201)
	if left, shards := stock(t, staff, sku), stockShards(t, sku); left != 0 || fmt.Sprint(shards) != "[0 0 0 0]" {
		t.Fatalf("after 3 and 1 of 4: stock %d, shards %v; want 0 everywhere", left, shards)
	}
	outOfStock(t, call(t, "POST", "/v1/orders", items(sku, 1), buyers[1].bearer()...), "items[0].sku")

	call(t, "POST", "/v1/orders/"+split.ID+"/cancel", nil, buyers[0].bearer()...).Expect(t, 200)
	call(t, "POST", "/v1/orders/"+split.ID+"/cancel", nil, buyers[0].bearer()...).Problem(t, 409, "order-not-cancellable")
	if left := stock(t, staff, sku); left != 3 {
		t.Fatalf("stock %d after the cancel, want 3", left)
	}

	// Staff's changes over the shards: set only on the total read, spread;
	// a delta taken from several shards, never below 0.
	call(t, "POST", "/v1/admin/products/"+sku+"/stock", map[string]any{"set": 10, "expected": 4}, staff.bearer()...).Problem(t, 409, "conflict")
	call(t, "POST", "/v1/admin/products/"+sku+"/stock", map[string]any{"set": 10, "expected": 3}, staff.bearer()...).Expect(t, 200)
	if got := fmt.Sprint(stockShards(t, sku)); got != "[3 3 2 2]" {
		t.Fatalf("shards after set 10 = %s, want [3 3 2 2]", got)
	}
	var changed struct{ Stock int64 }
	call(t, "POST", "/v1/admin/products/"+sku+"/stock", map[string]any{"delta": -9}, staff.bearer()...).Expect(t, 200).JSON(t, &changed)
	if changed.Stock != 1 {
		t.Fatalf("stock %d after delta -9 of 10, want 1", changed.Stock)
	}
	call(t, "POST", "/v1/admin/products/"+sku+"/stock", map[string]any{"delta": -2}, staff.bearer()...).Problem(t, 409, "conflict")
	if left := stock(t, staff, sku); left != 1 {
		t.Fatalf("stock %d after a refused delta, want 1", left)
	}
}
