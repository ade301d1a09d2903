//go:build integration

package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/problem"
)

const testShards = 4

// shardedFixture is a fixture whose store splits every SKU's stock over
// testShards items.
func shardedFixture(t *testing.T) fixture {
	f := newFixture(t)
	f.s = f.s.WithStockShards(testShards)
	return f
}

// TestShardedStockConformance runs the stock and order tests of the
// conformance suite on a store whose stock is split over shards: every
// guarantee of the one-item stock holds over the shards.
func TestShardedStockConformance(t *testing.T) {
	testConformance(t, func(t *testing.T) subject { return shardedFixture(t).subject() })
}

// shardUnits reads every shard of the SKU's stock as stored (a missing
// shard: 0).
func (f fixture) shardUnits(t *testing.T, sku string) []int64 {
	t.Helper()
	units, err := testcloud.StockShards(f.db, f.table, sku, testShards)
	if err != nil {
		t.Fatal(err)
	}
	return units
}

// TestShardedStockSpreadAndLastUnits: staff's set spreads the units over
// the shards; an order larger than any one shard is split over them; an
// order is out of stock only when the shards' total is short, never while
// units remain on some shard; a cancel gives the units back (once, also
// when the SDK retries it: the conformance tests' OrdersTakeStock..., which
// TestShardedStockConformance runs on shards).
func TestShardedStockSpreadAndLastUnits(t *testing.T) {
	f := shardedFixture(t)
	ctx := context.Background()
	s := subject{s: f.s}
	s.stock(t, "SH-1", 0)
	if _, err := f.s.SetStock(ctx, "SH-1", 5, 0); err != nil {
		t.Fatal(err)
	}
	if got := f.shardUnits(t, "SH-1"); fmt.Sprint(got) != "[2 1 1 1]" {
		t.Fatalf("shards after set 5 = %v, want [2 1 1 1]", got)
	}
	// 4 units: no shard holds them alone.
	if err := buy(ctx, f.s, "cust-sh", 1, "SH-1", 4); err != nil {
		t.Fatalf("an order of 4 from shards of 2, 1, 1, 1: %v", err)
	}
	if s.units(t, "SH-1") != 1 {
		t.Fatalf("stock after 4 of 5 = %d, want 1", s.units(t, "SH-1"))
	}
	// The last unit is found whichever shard holds it.
	err := buy(ctx, f.s, "cust-sh", 2, "SH-1", 2)
	if p := problem.Of(err, problem.Conflict); p == nil || p.Slug != "out-of-stock" || p.Fields[0].Message != "is out of stock: 1 left" {
		t.Fatalf("2 of 1 left: %v", err)
	}
	if err := buy(ctx, f.s, "cust-sh", 3, "SH-1", 1); err != nil {
		t.Fatalf("the last unit: %v", err)
	}
	if got := f.shardUnits(t, "SH-1"); fmt.Sprint(got) != "[0 0 0 0]" {
		t.Fatalf("shards after every unit sold = %v", got)
	}
	if _, err := f.s.CancelOrder(ctx, "cust-sh", orderID(1), time.Now(), ref("ev-sh-c")); err != nil {
		t.Fatal(err)
	}
	if got := s.units(t, "SH-1"); got != 4 {
		t.Fatalf("stock after the cancel = %d, want 4", got)
	}
	// A set based on the stock staff saw still applies after the units
	// moved between shards (the cancel gave them all to one), and is
	// refused once the total changed.
	if _, err := f.s.SetStock(ctx, "SH-1", 8, 4); err != nil {
		t.Fatal(err)
	}
	if got := f.shardUnits(t, "SH-1"); fmt.Sprint(got) != "[2 2 2 2]" {
		t.Fatalf("shards after set 8 = %v, want [2 2 2 2]", got)
	}
	if _, err := f.s.AdjustStock(ctx, "SH-1", -7); err != nil {
		t.Fatalf("delta -7 of 8 over shards of 2: %v", err)
	}
	if got, err := f.s.AdjustStock(ctx, "SH-1", -2); err == nil || got != 0 || s.units(t, "SH-1") != 1 {
		t.Fatalf("delta -2 of 1 = %d, %v; want refused, 1 left", got, err)
	}
}

// TestShardedStockRace: many buyers of one SKU through the real store at
// once, with staff adjusting it meanwhile: exactly the stock is sold, no
// shard ever goes below 0, and nobody is told out of stock while units
// remain (every refusal comes after the units ran out).
func TestShardedStockRace(t *testing.T) {
	f := shardedFixture(t)
	ctx := context.Background()
	s := subject{s: f.s}
	const stock, buyers = 30, 60
	s.stock(t, "SH-HOT", stock)
	var sold, refused atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	stop := make(chan struct{})
	watched := make(chan []int64, 1)
	go func() { // a reader of every shard throughout
		var low []int64
		for {
			select {
			case <-stop:
				watched <- low
				return
			default:
			}
			units, err := testcloud.StockShards(f.db, f.table, "SH-HOT", testShards)
			if err != nil {
				continue
			}
			for _, u := range units {
				if u < 0 {
					low = units
				}
			}
		}
	}()
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			quantity := 1 + i%2 // some lines of 2: split over shards near the end
			err := buy(ctx, f.s, fmt.Sprint("cust-race-", i), i, "SH-HOT", quantity)
			switch p := problem.Of(err, problem.Conflict); {
			case err == nil:
				sold.Add(int64(quantity))
			case p != nil && p.Slug == "out-of-stock":
				refused.Add(1)
				if !strings.HasSuffix(p.Fields[0].Message, ": 0 left") && !(quantity == 2 && strings.HasSuffix(p.Fields[0].Message, ": 1 left")) {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("buyer %d of %d refused with %q", i, quantity, p.Fields[0].Message))
					mu.Unlock()
				}
			default:
				mu.Lock()
				failures = append(failures, fmt.Sprintf("buyer %d: %v", i, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	if low := <-watched; low != nil {
		t.Errorf("a shard read below 0: %v", low)
	}
	for _, f := range failures {
		t.Error(f)
	}
	left := s.units(t, "SH-HOT")
	if sold.Load()+left != stock || left > 1 {
		t.Fatalf("%d units sold, %d left (%d refused); want %d sold or %d with 1 left", sold.Load(), left, refused.Load(), stock, stock-1)
	}
	for n, u := range f.shardUnits(t, "SH-HOT") {
		if u < 0 {
			t.Errorf("shard %d = %d", n, u)
		}
	}
}
