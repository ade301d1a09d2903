// Package order is the orders service's domain: the catalog's products, how
// an order is validated and priced, and the life cycle of an order. It
// imports nothing from AWS.
package order

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
)

// Status is where an order is in its life cycle.
type Status string

// Order statuses. An order is created PENDING; fulfilment moves it to
// CONFIRMED and SHIPPED; it can be cancelled until it ships.
const (
	Pending   Status = "PENDING"
	Confirmed Status = "CONFIRMED"
	Shipped   Status = "SHIPPED"
	Cancelled Status = "CANCELLED"
)

// Transition is a change of an order's status that the service makes: it
// may start from any of the statuses From and leads to To; from any other
// it is Refused. The domain decides it once here; the store compiles it
// into the condition and update of its one conditional write, and its
// conformance tests check that it agrees with Apply.
type Transition struct {
	From    []Status
	To      Status
	Refused error
}

// Cancel is the customer cancelling their order: allowed until it ships.
func Cancel() Transition {
	return Transition{From: []Status{Pending, Confirmed}, To: Cancelled, Refused: ErrNotCancellable}
}

// Apply returns o moved along t at the time at, or t.Refused (and o
// unchanged) when o's status is not one t starts from.
func (t Transition) Apply(o Order, at time.Time) (Order, error) {
	if !slices.Contains(t.From, o.Status) {
		return o, t.Refused
	}
	o.Status, o.UpdatedAt = t.To, at
	return o, nil
}

// Bounds on an order.
const (
	MaxLines    = 50
	MaxQuantity = 100
)

// Errors of the orders domain.
var (
	ErrNotFound         = errors.New("order: not found")
	ErrProductNotFound  = errors.New("order: no such product")
	ErrNotCancellable   = errors.New("order: not cancellable in its status")
	ErrIdempotencyBusy  = errors.New("order: a request with this idempotency key is in flight")
	ErrIdempotencyReuse = errors.New("order: idempotency key reused with another request")
	ErrEmailUnverified  = errors.New("order: the customer's email is not verified")
)

// Product is an entry of the catalog. Prices are in minor units (cents).
// Its JSON is the API's view of an orderable product.
type Product struct {
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	UnitPrice   int64     `json:"unitPrice"`
	Currency    string    `json:"currency"`
	Active      bool      `json:"-"`
	UpdatedAt   time.Time `json:"-"`
}

// Line is one priced line of an order. Its JSON is the API's view of it;
// the orders table stores it under its field names (functions/orders/store).
type Line struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
	LineTotal int64  `json:"lineTotal"`
}

// Customer is who placed an order, as the authorizer vouched for them.
type Customer struct {
	ID    string
	Email string
	Name  string
}

// Order is a customer's order.
type Order struct {
	ID        string
	Customer  Customer
	Status    Status
	Lines     []Line
	Total     int64
	Currency  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AsPlaced is the order as it was when placed: placing fixes its customer,
// lines, total and creation time for good, and only its status (which
// starts Pending) changes afterwards. An idempotent replay answers this,
// so that it repeats the first response exactly.
func (o Order) AsPlaced() Order {
	o.Status = Pending
	o.UpdatedAt = o.CreatedAt
	return o
}

// ItemRequest is one requested line: a product and a quantity. Its JSON
// is a line of the API's order request.
type ItemRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ValidSKU reports whether s has the shape of a SKU: 1 to 32 characters of
// A-Z, 0-9 and '-', the first not '-'.
func ValidSKU(s string) bool {
	return len(s) <= 32 && text.Only(s, text.Upper+text.Digits+"-") && s[0] != '-'
}

// ValidID reports whether s has the shape of an order id: 26 characters of
// 0-9 and A-Z, as a ULID has.
func ValidID(s string) bool { return len(s) == 26 && text.Only(s, text.Upper+text.Digits) }

// ValidateItems checks the shape of an order request: 1 to MaxLines lines,
// well-formed SKUs, quantities from 1 to MaxQuantity, no SKU twice.
func ValidateItems(items []ItemRequest) error {
	if len(items) == 0 || len(items) > MaxLines {
		return problem.Validation(problem.FieldError{Field: "items", Message: fmt.Sprintf("must have 1 to %d lines", MaxLines)})
	}
	var errs []problem.FieldError
	seen := make(map[string]int, len(items))
	for i, it := range items {
		switch prev, dup := seen[it.SKU]; {
		case !ValidSKU(it.SKU):
			errs = append(errs, problem.FieldError{Field: fmt.Sprintf("items[%d].sku", i), Message: "must be 1 to 32 characters of A-Z, 0-9 and -"})
		case dup:
			errs = append(errs, problem.FieldError{Field: fmt.Sprintf("items[%d].sku", i), Message: fmt.Sprintf("repeats items[%d]; combine the quantities", prev)})
		default:
			seen[it.SKU] = i
		}
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			errs = append(errs, problem.FieldError{Field: fmt.Sprintf("items[%d].quantity", i), Message: fmt.Sprintf("must be 1 to %d", MaxQuantity)})
		}
	}
	if len(errs) > 0 {
		return problem.Validation(errs...)
	}
	return nil
}

// Price prices validated items from the catalog: every unit price comes
// from the catalog, never from the client. Unknown or inactive products and
// a mix of currencies are an Unprocessable *problem.Error naming them.
func Price(items []ItemRequest, catalog map[string]Product) ([]Line, int64, string, error) {
	var errs []problem.FieldError
	lines := make([]Line, 0, len(items))
	var total int64
	currency := ""
	for i, it := range items {
		p, ok := catalog[it.SKU]
		if !ok || !p.Active {
			errs = append(errs, problem.FieldError{Field: fmt.Sprintf("items[%d].sku", i), Message: "is not a product of the catalog"})
			continue
		}
		if currency == "" {
			currency = p.Currency
		} else if p.Currency != currency {
			errs = append(errs, problem.FieldError{Field: fmt.Sprintf("items[%d].sku", i), Message: "is priced in " + p.Currency + ", other items in " + currency})
			continue
		}
		// Bounded: MaxLines * MaxQuantity * a catalog price fits easily in int64.
		lt := p.UnitPrice * int64(it.Quantity)
		total += lt
		lines = append(lines, Line{SKU: p.SKU, Name: p.Name, Quantity: it.Quantity, UnitPrice: p.UnitPrice, LineTotal: lt})
	}
	if len(errs) > 0 {
		return nil, 0, "", &problem.Error{Kind: problem.Unprocessable, Slug: "unknown-product", Detail: "Some items cannot be ordered.", Fields: errs}
	}
	return lines, total, currency, nil
}
