// Package events defines the order events that travel from the orders
// service through the queue to the notification service, and checks them.
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
	"regexp"
	"strings"
	"time"
)

// Event types.
const (
	OrderCreated   = "order.created"
	OrderCancelled = "order.cancelled"
)

// Version is the schema version this package produces and accepts.
const Version = 1

// ErrInvalid wraps every reason an event is rejected.
var ErrInvalid = errors.New("events: invalid event")

// OrderEvent is the envelope and payload of an order event.
type OrderEvent struct {
	Type          string    `json:"type"`
	Version       int       `json:"version"`
	ID            string    `json:"id"`
	OccurredAt    time.Time `json:"occurredAt"`
	CorrelationID string    `json:"correlationId"`
	Order         Order     `json:"order"`
	Customer      Customer  `json:"customer"`
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
	// Bounds that keep line and order totals far from int64 overflow.
	maxQuantity  = 1_000_000
	maxUnitPrice = 1_000_000_000_000
)

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// Parse decodes and validates an event. Unknown fields are tolerated
// (additive changes keep the version); everything the consumers rely on is
// checked. Every error wraps ErrInvalid.
func Parse(data []byte) (OrderEvent, error) {
	if len(data) > MaxBytes {
		return OrderEvent{}, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalid, len(data), MaxBytes)
	}
	var e OrderEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&e); err != nil {
		return OrderEvent{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	// Only the end of input may follow. (dec.More would miss a stray ']' or '}'.)
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return OrderEvent{}, fmt.Errorf("%w: trailing data", ErrInvalid)
	}
	if err := e.Validate(); err != nil {
		return OrderEvent{}, err
	}
	return e, nil
}

// Validate checks the event against the schema of its version.
func (e OrderEvent) Validate() error {
	var problems []string
	check := func(ok bool, msg string) {
		if !ok {
			problems = append(problems, msg)
		}
	}
	check(e.Type == OrderCreated || e.Type == OrderCancelled, fmt.Sprintf("unknown type %q", e.Type))
	check(e.Version == Version, fmt.Sprintf("unsupported version %d", e.Version))
	check(idPattern.MatchString(e.ID), "id is missing or malformed")
	check(!e.OccurredAt.IsZero(), "occurredAt is missing")
	check(idPattern.MatchString(e.Order.ID), "order.id is missing or malformed")
	check(currencyPattern.MatchString(e.Order.Currency), "order.currency is not an ISO 4217 code")
	check(len(e.Order.Items) > 0 && len(e.Order.Items) <= maxLines, "order.items must have 1 to 100 lines")
	var sum int64
	for i, l := range e.Order.Items {
		check(l.SKU != "" && l.Quantity > 0 && l.Quantity <= maxQuantity && l.UnitPrice >= 0 && l.UnitPrice <= maxUnitPrice &&
			l.LineTotal == l.UnitPrice*int64(l.Quantity),
			fmt.Sprintf("order.items[%d] is inconsistent", i))
		sum += l.LineTotal
	}
	check(sum == e.Order.Total, "order.total is not the sum of its lines")
	check(e.Customer.ID != "", "customer.id is missing")
	check(strings.Count(e.Customer.Email, "@") == 1 && len(e.Customer.Email) <= 254, "customer.email is malformed")
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}
