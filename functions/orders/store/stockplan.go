package store

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// A product's stock is split over shards: items with distinct partition
// keys, so that one SKU's orders spread over as many partitions (ADR 9,
// docs/decisions/0009-hot-sku-stock.md). Shard 0 is the item every SKU had
// before (STOCK#<sku>), so stored stock stays valid; shard n ≥ 1 is
// STOCK#<sku>#<n>. The stock is the sum of the shards; a missing shard
// holds 0.

// MaxStockShards bounds the shards of a SKU: staff's set-if-expected is one
// transaction over every shard, and a transaction has at most 100 items.
const MaxStockShards = 32

// stockShardPK is the partition key of shard n of the SKU's stock.
func stockShardPK(sku string, n int) string {
	if n == 0 {
		return stockPK(sku)
	}
	return stockPK(sku) + "#" + strconv.Itoa(n)
}

// take is units a line of an order takes from one shard of its SKU.
type take struct {
	Line  int // the line's index in the order
	SKU   string
	Shard int
	Units int64
}

// firstTakes are an order's takes when nothing is known of its stock: each
// line from one shard chosen by pick (pick(n) is in [0, n)), so that a warm
// order stays one transaction whatever the shards.
func firstTakes(lines []order.Line, shards int, pick func(int) int) []take {
	takes := make([]take, len(lines))
	for i, l := range lines {
		takes[i] = take{Line: i, SKU: l.SKU, Shard: pick(shards), Units: int64(l.Quantity)}
	}
	return takes
}

// planTakes are an order's takes given its SKUs' shards as a consistent
// read found them (stock[sku][n]: shard n's units), or the lines the stock
// cannot fill (with the units left), in line order. A line is taken whole
// from one of the shards that hold it, chosen by pick, so that concurrent
// buyers spread over them; when no shard holds it alone, it is split over
// the fullest shards, fewest first. A line is short only when the sum of
// its shards is.
func planTakes(lines []order.Line, stock map[string][]int64, pick func(int) int) ([]take, []order.Short) {
	var takes []take
	var short []order.Short
	for i, l := range lines {
		shards, want := stock[l.SKU], int64(l.Quantity)
		var holding []int
		var total int64
		for n, units := range shards {
			total += units
			if units >= want {
				holding = append(holding, n)
			}
		}
		switch {
		case total < want:
			short = append(short, order.Short{Line: i, Left: total})
		case len(holding) > 0:
			takes = append(takes, take{Line: i, SKU: l.SKU, Shard: holding[pick(len(holding))], Units: int64(l.Quantity)})
		default:
			byUnits := make([]int, len(shards))
			for n := range byUnits {
				byUnits[n] = n
			}
			slices.SortStableFunc(byUnits, func(a, b int) int { return cmp.Compare(shards[b], shards[a]) })
			left := want
			for _, n := range byUnits {
				units := min(left, shards[n])
				takes = append(takes, take{Line: i, SKU: l.SKU, Shard: n, Units: units})
				if left -= units; left == 0 {
					break
				}
			}
		}
	}
	if len(short) > 0 {
		return nil, short
	}
	return takes, nil
}

// spread splits units over shards as evenly as it goes (the first shards
// get one more): how staff's set and added units are placed.
func spread(units int64, shards int) []int64 {
	out := make([]int64, shards)
	for n := range out {
		out[n] = units / int64(shards)
		if int64(n) < units%int64(shards) {
			out[n]++
		}
	}
	return out
}

// sumUnits is the stock of a SKU: the sum of its shards.
func sumUnits(shards []int64) int64 {
	var total int64
	for _, u := range shards {
		total += u
	}
	return total
}
