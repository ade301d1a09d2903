package order

import (
	"errors"
	"unicode/utf8"

	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
)

// MaxDescriptionLength is the most characters (code points) a product's
// description may have.
const MaxDescriptionLength = 1000

// ErrProductExists means a product with the SKU is in the catalog
// (archived ones too: a SKU is never reused).
var ErrProductExists = errors.New("order: a product with this SKU exists")

// StaffProduct is a product as staff see it: archived or not, with its
// stock. Its JSON is the API's staff product.
type StaffProduct struct {
	Product
	Active bool  `json:"active"`
	Stock  int64 `json:"stock"`
}

// ProductChange is what a staff member changes of a product; nil fields
// stay as they are. A product's SKU and currency never change. Its JSON is
// the body of PATCH /v1/admin/products/{sku}.
type ProductChange struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	UnitPrice   *int64  `json:"unitPrice"`
	Active      *bool   `json:"active"`
}

// NewProduct is the product a staff member adds, active, with its name and
// description normalised (text.Name, text.NFC), or a validation
// *problem.Error naming every bad field.
func NewProduct(p Product) (Product, error) {
	var bad fields
	bad.add(!ValidSKU(p.SKU), "sku", "must be 1 to 32 characters of A-Z, 0-9 and -, not starting with -")
	bad.add(len(p.Currency) != 3 || !text.Only(p.Currency, text.Upper), "currency", "must be an ISO 4217 code of 3 capital letters")
	c, err := ProductChange{Name: &p.Name, Description: &p.Description, UnitPrice: &p.UnitPrice}.Check()
	if perr := problem.Of(err, problem.Invalid); perr != nil {
		bad = append(bad, perr.Fields...)
	}
	if err := bad.err(); err != nil {
		return Product{}, err
	}
	p.Name, p.Description, p.Active = *c.Name, *c.Description, true
	return p, nil
}

// Check returns the change with its text normalised, or a validation
// *problem.Error naming every bad field: a name of text.Name's rules, a
// description of clean text up to MaxDescriptionLength, a price from 1 to
// the bound the order events accept (a product priced beyond it would make
// every event of its orders poison), and at least one field.
func (c ProductChange) Check() (ProductChange, error) {
	var bad fields
	bad.add(c == ProductChange{}, "(root)", "must change at least one of name, description, unitPrice, active")
	if c.Name != nil {
		name, ok := text.Name(*c.Name)
		bad.add(!ok, "name", "must be 1 to %d visible characters: letters, marks, digits, punctuation, symbols and spaces", text.MaxNameLength)
		c.Name = &name
	}
	if c.Description != nil {
		d := text.NFC(*c.Description)
		bad.add(utf8.RuneCountInString(d) > MaxDescriptionLength || !text.Clean(d), "description", "must be at most %d characters: letters, marks, digits, punctuation, symbols and spaces", MaxDescriptionLength)
		c.Description = &d
	}
	bad.add(c.UnitPrice != nil && (*c.UnitPrice < 1 || *c.UnitPrice > events.MaxUnitPrice), "unitPrice", "must be an integer from 1 to %d (minor units)", int64(events.MaxUnitPrice))
	if err := bad.err(); err != nil {
		return ProductChange{}, err
	}
	return c, nil
}
