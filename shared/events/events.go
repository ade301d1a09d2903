// Package events defines the events that travel through the queue to the
// notification service, and checks them: order events from the orders
// service and account events from the users service.
//
// An event is versioned JSON. Additive changes (a new optional field) keep
// the version; anything else is a new version, which consumers must learn
// before producers emit it. A consumer meeting a type or version it does not
// know treats the message as poison: it can never succeed.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/text"
)

// Event types of orders.
const (
	OrderCreated   = "order.created"
	OrderCancelled = "order.cancelled"
)

// Version is the schema version this package produces and accepts.
const Version = 1

// ErrInvalid wraps every reason an event is rejected.
var ErrInvalid = errors.New("events: invalid event")

// Header is what every event carries, whatever its type.
type Header struct {
	Type          string    `json:"type"`
	Version       int       `json:"version"`
	ID            string    `json:"id"`
	OccurredAt    time.Time `json:"occurredAt"`
	CorrelationID string    `json:"correlationId"`
}

// Head returns the header; every event has it by embedding Header.
func (h Header) Head() Header { return h }

// Event is an event of any type: an OrderEvent or an AccountEvent.
type Event interface {
	Head() Header
	Validate() error
}

// OrderEvent is the envelope and payload of an order event.
type OrderEvent struct {
	Header
	Order    Order    `json:"order"`
	Customer Customer `json:"customer"`
}

// Order is the order as the event carries it.
type Order struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Items     []Line    `json:"items"`
	Total     int64     `json:"total"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Line is one line of the order.
type Line struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
	LineTotal int64  `json:"lineTotal"`
}

// Customer is who placed the order.
type Customer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Limits that keep a hostile or corrupt message from costing much.
const (
	MaxBytes = 200 << 10
	maxLines = 100
	// Bounds that keep line totals far from int64 overflow (the order
	// total is checked as it is summed). The catalog is validated against
	// MaxUnitPrice too, so that no product can turn its orders' events
	// into poison.
	maxQuantity  = 1_000_000
	MaxUnitPrice = 1_000_000_000_000
)

// isID reports whether s is 1 to 128 ASCII letters, digits or "._:-".
func isID(s string) bool {
	return len(s) <= 128 && text.Only(s, text.Upper+text.Lower+text.Digits+"._:-")
}

// isCurrency reports whether s has the shape of an ISO 4217 code.
func isCurrency(s string) bool { return len(s) == 3 && text.Only(s, text.Upper) }

// Parse decodes and validates an event of any known type: it reads the
// header, then the whole event as the type's schema says. Unknown fields
// are tolerated (additive changes keep the version); everything the
// consumers rely on is checked. Every error wraps ErrInvalid.
func Parse(data []byte) (Event, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalid, len(data), MaxBytes)
	}
	var h Header
	if err := decode(data, &h); err != nil {
		return nil, err
	}
	switch h.Type {
	case OrderCreated, OrderCancelled:
		return parse[OrderEvent](data)
	case AccountVerificationRequested, AccountPasswordResetRequested:
		return parse[AccountEvent](data)
	}
	return nil, fmt.Errorf("%w: unknown type %q", ErrInvalid, h.Type)
}

// parse decodes and validates an event of type E.
func parse[E Event](data []byte) (Event, error) {
	var e E
	if err := decode(data, &e); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}

// decode reads one JSON object into v; only whitespace may follow it.
func decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Only the end of input may follow. (dec.More would miss a stray ']' or '}'.)
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	return nil
}

// checker collects what is wrong with an event, so that one error names
// everything and a poison message explains itself in one log line.
type checker []string

func (c *checker) check(ok bool, msg string) {
	if !ok {
		*c = append(*c, msg)
	}
}

func (c checker) err() error {
	if len(c) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(c, "; "))
}

// header checks the parts of the header every type shares.
func (c *checker) header(h Header) {
	c.check(h.Version == Version, fmt.Sprintf("unsupported version %d", h.Version))
	c.check(isID(h.ID), "id is missing or malformed")
	c.check(!h.OccurredAt.IsZero(), "occurredAt is missing")
}

// validEmail is the loose check consumers need: one @, a sane length, and
// nothing a mail header or the queue would misread.
func validEmail(s string) bool { return strings.Count(s, "@") == 1 && len(s) <= 254 && text.Clean(s) }

// Validate checks the event against the schema of its version.
func (e OrderEvent) Validate() error {
	var c checker
	c.check(e.Type == OrderCreated || e.Type == OrderCancelled, fmt.Sprintf("unknown type %q", e.Type))
	c.header(e.Header)
	c.check(isID(e.Order.ID), "order.id is missing or malformed")
	c.check(isCurrency(e.Order.Currency), "order.currency is not an ISO 4217 code")
	c.check(len(e.Order.Items) > 0 && len(e.Order.Items) <= maxLines, "order.items must have 1 to 100 lines")
	var sum int64
	overflow := false
	for i, l := range e.Order.Items {
		c.check(l.SKU != "" && l.Quantity > 0 && l.Quantity <= maxQuantity && l.UnitPrice >= 0 && l.UnitPrice <= MaxUnitPrice && text.Clean(l.Name) &&
			l.LineTotal == l.UnitPrice*int64(l.Quantity),
			fmt.Sprintf("order.items[%d] is inconsistent", i))
		// A line is bounded, a hundred of them are not: the sum could wrap
		// around and match a forged total.
		overflow = overflow || (l.LineTotal > 0 && sum > math.MaxInt64-l.LineTotal)
		sum += l.LineTotal
	}
	c.check(!overflow, "order.items add up to more than a total can hold")
	c.check(sum == e.Order.Total, "order.total is not the sum of its lines")
	c.check(e.Customer.ID != "", "customer.id is missing")
	c.check(validEmail(e.Customer.Email), "customer.email is malformed")
	c.check(text.Clean(e.Customer.Name), "customer.name holds characters outside the allow-list")
	return c.err()
}
