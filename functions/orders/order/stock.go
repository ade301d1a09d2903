package order

import (
	"errors"
	"fmt"

	"github.com/serverless-shop/backend/shared/problem"
)

// MaxStock bounds a stock level and a change of it.
const MaxStock = 1_000_000_000_000

// Errors of stock changes.
var (
	ErrStockBelowZero = errors.New("order: the change would take the stock below 0")
	ErrStockChanged   = errors.New("order: the stock is not the expected one")
)

// StockChange is a staff member's change of a product's stock: Delta
// alone, added atomically, or Set with Expected, applied only if the stock
// is still Expected. Its JSON is the body of
// POST /v1/admin/products/{sku}/stock.
type StockChange struct {
	Delta    *int64 `json:"delta"`
	Set      *int64 `json:"set"`
	Expected *int64 `json:"expected"`
}

// Check returns a validation *problem.Error naming what is wrong: both
// forms or neither, Set without Expected or the other way round, a level
// below 0, or a figure beyond MaxStock.
func (c StockChange) Check() error {
	var bad fields
	bad.add((c.Delta == nil) == (c.Set == nil && c.Expected == nil), "(root)", "must have either delta, or set and expected")
	bad.add(c.Delta == nil && c.Set != nil && c.Expected == nil, "expected", "is required with set: the stock the change is based on")
	bad.add(c.Delta == nil && c.Set == nil && c.Expected != nil, "set", "is required with expected")
	bounded := func(field string, v *int64, low int64) {
		bad.add(v != nil && (*v < low || *v > MaxStock), field, "must be an integer from %d to %d", low, int64(MaxStock))
	}
	bounded("delta", c.Delta, -MaxStock)
	bounded("set", c.Set, 0)
	bounded("expected", c.Expected, 0)
	return bad.err()
}

// Short is a line of an order its product's stock cannot fill: the
// line's index and the units left.
type Short struct {
	Line int
	Left int64
}

// OutOfStock is the answer to an order with short lines: nothing is
// ordered, and the problem names each line as items[i].sku.
func OutOfStock(short []Short) error {
	fields := make([]problem.FieldError, len(short))
	for i, s := range short {
		fields[i] = problem.FieldError{Field: fmt.Sprintf("items[%d].sku", s.Line), Message: fmt.Sprintf("is out of stock: %d left", s.Left)}
	}
	return &problem.Error{Kind: problem.Conflict, Slug: "out-of-stock", Detail: "Some items are out of stock; nothing was ordered.", Fields: fields}
}
