package store

import (
	"reflect"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
)

func TestStockShardPK(t *testing.T) {
	if got := stockShardPK("SKU-1", 0); got != "STOCK#SKU-1" {
		t.Errorf("shard 0 = %q, want the unsplit stock's key STOCK#SKU-1", got)
	}
	if got := stockShardPK("SKU-1", 3); got != "STOCK#SKU-1#3" {
		t.Errorf("shard 3 = %q, want STOCK#SKU-1#3", got)
	}
	for _, n := range []int{0, 1, 7} {
		if got := (stockRecord{PK: stockShardPK("SKU-1", n), SKU: "SKU-1"}).shard(); got != n {
			t.Errorf("shard of %s = %d, want %d", stockShardPK("SKU-1", n), got, n)
		}
	}
}

func TestFirstTakesOneShardALine(t *testing.T) {
	lines := []order.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}
	got := firstTakes(lines, 4, func(n int) int { return n - 1 })
	want := []take{{Line: 0, SKU: "A", Shard: 3, Units: 2}, {Line: 1, SKU: "B", Shard: 3, Units: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("firstTakes = %+v, want %+v", got, want)
	}
}

func TestPlanTakes(t *testing.T) {
	first := func(int) int { return 0 }
	last := func(n int) int { return n - 1 }
	tests := []struct {
		name      string
		lines     []order.Line
		stock     map[string][]int64
		pick      func(int) int
		want      []take
		wantShort []order.Short
	}{
		{
			name:  "whole from a shard that holds it, chosen among those",
			lines: []order.Line{{SKU: "A", Quantity: 2}},
			stock: map[string][]int64{"A": {1, 2, 0, 5}},
			pick:  last,
			want:  []take{{Line: 0, SKU: "A", Shard: 3, Units: 2}},
		},
		{
			name:  "only shards that hold it are candidates",
			lines: []order.Line{{SKU: "A", Quantity: 2}},
			stock: map[string][]int64{"A": {1, 2, 0, 5}},
			pick:  first,
			want:  []take{{Line: 0, SKU: "A", Shard: 1, Units: 2}},
		},
		{
			name:  "split over the fullest shards when none holds it",
			lines: []order.Line{{SKU: "A", Quantity: 4}},
			stock: map[string][]int64{"A": {1, 2, 0, 2}},
			pick:  first,
			want:  []take{{Line: 0, SKU: "A", Shard: 1, Units: 2}, {Line: 0, SKU: "A", Shard: 3, Units: 2}},
		},
		{
			name:  "the last unit of every shard",
			lines: []order.Line{{SKU: "A", Quantity: 3}},
			stock: map[string][]int64{"A": {1, 1, 0, 1}},
			pick:  first,
			want:  []take{{Line: 0, SKU: "A", Shard: 0, Units: 1}, {Line: 0, SKU: "A", Shard: 1, Units: 1}, {Line: 0, SKU: "A", Shard: 3, Units: 1}},
		},
		{
			name:      "short only when the total is, with what is left",
			lines:     []order.Line{{SKU: "A", Quantity: 4}},
			stock:     map[string][]int64{"A": {1, 1, 0, 1}},
			pick:      first,
			wantShort: []order.Short{{Line: 0, Left: 3}},
		},
		{
			name:      "a SKU without stock items is short of everything",
			lines:     []order.Line{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 1}},
			stock:     map[string][]int64{"A": {0, 1}, "B": {0, 0}},
			pick:      first,
			wantShort: []order.Short{{Line: 1, Left: 0}},
		},
		{
			name:      "every short line named, none taken",
			lines:     []order.Line{{SKU: "A", Quantity: 9}, {SKU: "B", Quantity: 1}, {SKU: "C", Quantity: 2}},
			stock:     map[string][]int64{"A": {4, 4}, "B": {0, 1}, "C": {1, 0}},
			pick:      first,
			wantShort: []order.Short{{Line: 0, Left: 8}, {Line: 2, Left: 1}},
		},
		{
			name:  "lines of several SKUs, each its own takes",
			lines: []order.Line{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 3}},
			stock: map[string][]int64{"A": {0, 1}, "B": {2, 2}},
			pick:  first,
			want:  []take{{Line: 0, SKU: "A", Shard: 1, Units: 1}, {Line: 1, SKU: "B", Shard: 0, Units: 2}, {Line: 1, SKU: "B", Shard: 1, Units: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, short := planTakes(tt.lines, tt.stock, tt.pick)
			if !reflect.DeepEqual(got, tt.want) || !reflect.DeepEqual(short, tt.wantShort) {
				t.Errorf("planTakes = %+v, short %+v; want %+v, short %+v", got, short, tt.want, tt.wantShort)
			}
			for _, tk := range got {
				if tk.Units <= 0 || tk.Units > tt.stock[tk.SKU][tk.Shard] {
					t.Errorf("take %+v: not 1 to the shard's %d units", tk, tt.stock[tk.SKU][tk.Shard])
				}
			}
		})
	}
}

func TestSpread(t *testing.T) {
	tests := []struct {
		units  int64
		shards int
		want   []int64
	}{
		{0, 3, []int64{0, 0, 0}},
		{5, 4, []int64{2, 1, 1, 1}},
		{8, 4, []int64{2, 2, 2, 2}},
		{2, 4, []int64{1, 1, 0, 0}},
		{7, 1, []int64{7}},
	}
	for _, tt := range tests {
		got := spread(tt.units, tt.shards)
		if !reflect.DeepEqual(got, tt.want) || sumUnits(got) != tt.units {
			t.Errorf("spread(%d, %d) = %v, want %v", tt.units, tt.shards, got, tt.want)
		}
	}
}

func TestWithStockShardsBounds(t *testing.T) {
	s := New(nil, "t")
	for n, want := range map[int]int{-1: 1, 0: 1, 1: 1, 8: 8, MaxStockShards + 5: MaxStockShards} {
		if got := s.WithStockShards(n).shards; got != want {
			t.Errorf("WithStockShards(%d) = %d shards, want %d", n, got, want)
		}
	}
	if s.shards != 1 {
		t.Errorf("WithStockShards changed the store it was called on")
	}
}
