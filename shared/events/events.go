// Package events defines the events that travel through the queue to the
// notification service, and checks them: order events from the orders
// service and account events from the users service.
//
// An event is versioned JSON. Additive changes (a new optional field, or a
// new type) keep the version; anything else is a new version, which
// consumers must learn before producers emit it. A consumer meeting a type
// or version it does not know treats the message as poison: it can never
// succeed.
//
// A consumer tells the shapes apart by type first, then version, then the
// optional fields the type's documentation names. Every type is at version
// 1. The order's life cycle (PENDING, CONFIRMED, SHIPPED, DELIVERED,
// CANCELLED) was added without a new version: order.confirmed,
// order.shipped and order.delivered are new types, whose order carries the
// status the type names; order.shipped's order carries a shipment (and
// order.delivered's may); order.cancelled gained cancelledBy and reason,
// whose absence (every cancellation from before) means the customer
// cancelled without a reason; every order event may carry the order's
// history. Consumers of before read the new fields as unknown and the new
// types as poison, so they are deployed before producers emit them.
package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/serverless-shop/backend/shared/text"
)

// Event types of orders.
const (
	OrderCreated   = "order.created"
	OrderConfirmed = "order.confirmed"
	OrderShipped   = "order.shipped"
	OrderDelivered = "order.delivered"
	OrderCancelled = "order.cancelled"
)

// Order statuses, as the orders service's domain names them.
const (
	StatusPending   = "PENDING"
	StatusConfirmed = "CONFIRMED"
	StatusShipped   = "SHIPPED"
	StatusDelivered = "DELIVERED"
	StatusCancelled = "CANCELLED"
)

// orderStatuses is the status the order has in an event of each order type:
// an event announces the transition into it. Its values are the known
// statuses: a new one comes with the event type that announces it, which
// consumers learn first.
var orderStatuses = map[string]string{
	OrderCreated:   StatusPending,
	OrderConfirmed: StatusConfirmed,
	OrderShipped:   StatusShipped,
	OrderDelivered: StatusDelivered,
	OrderCancelled: StatusCancelled,
}

// Who cancelled an order, as order.cancelled's cancelledBy says. An event
// without cancelledBy is the customer's cancel (every one from before the
// field).
const (
	CancelledByCustomer = "customer"
	CancelledByStaff    = "staff"
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
	// CancelledBy, in order.cancelled only, says who cancelled:
	// CancelledByCustomer or CancelledByStaff; absent, the customer.
	CancelledBy string `json:"cancelledBy,omitempty"`
	// Reason, in order.cancelled only, is why: required when staff
	// cancelled (the email quotes it), optional otherwise (see ValidReason).
	Reason string `json:"reason,omitempty"`
}

// ByStaff reports whether the event is a cancellation by staff: the shop
// cancelled the order, not its customer.
func (e OrderEvent) ByStaff() bool {
	return e.Type == OrderCancelled && e.CancelledBy == CancelledByStaff
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
	// Shipment is how the order travels: required in order.shipped,
	// optional in order.delivered, absent before the order ships.
	Shipment *Shipment `json:"shipment,omitempty"`
	// History is every status the order entered, oldest first, the last
	// its status; optional.
	History []StatusChange `json:"history,omitempty"`
}

// Shipment is the carrier of a shipped order and its tracking number (see
// ValidCarrier and ValidTrackingNumber).
type Shipment struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"trackingNumber"`
}

// StatusChange is one entry of an order's history: the status it entered
// and when.
type StatusChange struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
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
	// maxHistory bounds an order's history: its life cycle has at most
	// four entries today.
	maxHistory = 16
)

// Bounds of the text staff give a transition, in characters (Unicode code
// points). The orders service checks what staff send against the same
// functions, so that no transition can turn its event into poison.
const (
	MaxCarrier        = 64
	MaxTrackingNumber = 64
	MaxReason         = 500
)

// trackingChars are the characters of a tracking number: carriers use
// letters, digits and at most spaces, dashes, dots and slashes between them.
const trackingChars = text.Upper + text.Lower + text.Digits + " -./"

// ValidCarrier reports whether s can name a carrier: 1 to MaxCarrier
// characters of text.Clean's allow-list, with no surrounding space.
func ValidCarrier(s string) bool {
	return s != "" && strings.TrimSpace(s) == s && utf8.RuneCountInString(s) <= MaxCarrier && text.Clean(s)
}

// ValidTrackingNumber reports whether s can be a tracking number: 1 to
// MaxTrackingNumber ASCII letters, digits, spaces, '-', '.' or '/', with no
// surrounding space.
func ValidTrackingNumber(s string) bool {
	return len(s) <= MaxTrackingNumber && text.Only(s, trackingChars) && strings.TrimSpace(s) == s
}

// ValidReason reports whether s can be the reason of a cancellation: 1 to
// MaxReason characters of text.Clean's allow-list (one paragraph: no line
// breaks), not all of them spaces. The email escapes it like every value.
func ValidReason(s string) bool {
	return strings.TrimSpace(s) != "" && utf8.RuneCountInString(s) <= MaxReason && text.Clean(s)
}

// isID reports whether s is 1 to 128 ASCII letters, digits or "._:-".
func isID(s string) bool {
	return len(s) <= 128 && text.Only(s, text.Upper+text.Lower+text.Digits+"._:-")
}

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
	if _, ok := orderStatuses[h.Type]; ok {
		return parse[OrderEvent](data)
	}
	if LinkPurpose(h.Type) != "" {
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

// header checks the parts of the header every type shares; known says
// whether the event's type is one of the validating event's.
func (c *checker) header(h Header, known bool) {
	c.check(known, fmt.Sprintf("unknown type %q", h.Type))
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
	status, known := orderStatuses[e.Type]
	c.header(e.Header, known)
	c.check(isID(e.Order.ID), "order.id is missing or malformed")
	c.check(!known || e.Order.Status == status, fmt.Sprintf("order.status of %s is not %s", e.Type, status))
	c.check(len(e.Order.Currency) == 3 && text.Only(e.Order.Currency, text.Upper), "order.currency is not an ISO 4217 code")
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
	c.lifecycle(e)
	return c.err()
}

// lifecycle checks the fields of the order's life cycle: the shipment, the
// history and who cancelled why, each only in the types that may carry it.
func (c *checker) lifecycle(e OrderEvent) {
	if s := e.Order.Shipment; s != nil {
		c.check(e.Type == OrderShipped || e.Type == OrderDelivered, "order.shipment before the order shipped")
		c.check(ValidCarrier(s.Carrier), "order.shipment.carrier is missing or malformed")
		c.check(ValidTrackingNumber(s.TrackingNumber), "order.shipment.trackingNumber is missing or malformed")
	} else {
		c.check(e.Type != OrderShipped, "order.shipment is missing")
	}

	history := e.Order.History
	c.check(len(history) <= maxHistory, fmt.Sprintf("order.history has more than %d entries", maxHistory))
	for i, h := range history[:min(len(history), maxHistory)] { // one complaint per entry, and a few
		c.check(slices.Contains(slices.Collect(maps.Values(orderStatuses)), h.Status) && !h.At.IsZero() && (i == 0 || !h.At.Before(history[i-1].At)),
			fmt.Sprintf("order.history[%d] is not a known status after the one before", i))
	}
	c.check(len(history) == 0 || history[len(history)-1].Status == e.Order.Status, "order.history does not end with order.status")

	if e.Type != OrderCancelled {
		c.check(e.CancelledBy == "" && e.Reason == "", "cancelledBy and reason belong to order.cancelled")
		return
	}
	c.check(e.CancelledBy == "" || e.CancelledBy == CancelledByCustomer || e.CancelledBy == CancelledByStaff,
		fmt.Sprintf("cancelledBy %q is neither %s nor %s", e.CancelledBy, CancelledByCustomer, CancelledByStaff))
	c.check(ValidReason(e.Reason) || e.Reason == "" && e.CancelledBy != CancelledByStaff, "reason is missing or malformed")
}
