// Package order is the orders service's domain: the catalog's products, how
// an order is validated and priced, and the life cycle of an order. It
// imports nothing from AWS.
package order

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
)

// Status is where an order is in its life cycle.
type Status string

// Order statuses: PENDING → CONFIRMED → SHIPPED → DELIVERED, and
// CANCELLED from PENDING or CONFIRMED. An order is created PENDING; staff
// move it along (Confirm, Ship, Deliver, StaffCancel); its customer can
// cancel it until it ships (Cancel).
const (
	Pending   Status = "PENDING"
	Confirmed Status = "CONFIRMED"
	Shipped   Status = "SHIPPED"
	Delivered Status = "DELIVERED"
	Cancelled Status = "CANCELLED"
)

// Statuses are the statuses, in the order of the life cycle.
var Statuses = []Status{Pending, Confirmed, Shipped, Delivered, Cancelled}

// Change is one entry of an order's history: the status it entered and
// when.
type Change struct {
	Status Status    `json:"status"`
	At     time.Time `json:"at"`
}

// Shipment is how a shipped order travels: its carrier and tracking
// number (shared/events' ValidCarrier and ValidTrackingNumber).
type Shipment struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"trackingNumber"`
}

// CancelledByStaff is the Order.CancelledBy of an order the shop
// cancelled (absent: its customer did).
const CancelledByStaff = "staff"

// Transition is a change of an order's status that the service makes: it
// may start from any of the statuses From and leads to To; from any other
// it is Refused, except that a Repeatable one finds an order already in To
// done (a repeat of the same staff action answers the order unchanged).
// The domain decides it once here; the store compiles it into the
// condition and update of its one conditional write, and its conformance
// tests check that it agrees with Apply.
type Transition struct {
	From       []Status
	To         Status
	Refused    error
	Repeatable bool
	// Set by the transition besides the status and the history.
	Shipment    *Shipment // Ship's
	CancelledBy string    // StaffCancel's: CancelledByStaff
	Reason      string    // StaffCancel's
}

// Cancel is the customer cancelling their order: allowed until it ships.
// A second cancel is refused (ErrNotCancellable), as it always was.
func Cancel() Transition {
	return Transition{From: []Status{Pending, Confirmed}, To: Cancelled, Refused: ErrNotCancellable}
}

// Confirm is staff accepting a pending order.
func Confirm() Transition {
	return Transition{From: []Status{Pending}, To: Confirmed, Refused: ErrIllegalTransition, Repeatable: true}
}

// Ship is staff handing a confirmed order to carrier s.
func Ship(s Shipment) Transition {
	return Transition{From: []Status{Confirmed}, To: Shipped, Refused: ErrIllegalTransition, Repeatable: true, Shipment: &s}
}

// Deliver is staff recording that a shipped order arrived.
func Deliver() Transition {
	return Transition{From: []Status{Shipped}, To: Delivered, Refused: ErrIllegalTransition, Repeatable: true}
}

// StaffCancel is the shop cancelling an order for reason: allowed until
// it ships, as the customer's Cancel.
func StaffCancel(reason string) Transition {
	return Transition{From: []Status{Pending, Confirmed}, To: Cancelled, Refused: ErrIllegalTransition, Repeatable: true,
		CancelledBy: CancelledByStaff, Reason: reason}
}

// Allows reports whether t moves an order in status st: what the store's
// condition says.
func (t Transition) Allows(st Status) bool { return slices.Contains(t.From, st) }

// Apply returns o moved along t at the time at: its status To, the change
// appended to its history, and what t sets. A Repeatable t finds an order
// already in To done and returns it unchanged; from any other status it
// returns t.Refused (and o unchanged).
func (t Transition) Apply(o Order, at time.Time) (Order, error) {
	if !t.Allows(o.Status) {
		if t.Repeatable && o.Status == t.To {
			return o, nil
		}
		return o, t.Refused
	}
	o.Status, o.UpdatedAt = t.To, at
	o.History = append(slices.Clone(o.History), Change{Status: t.To, At: at})
	if t.Shipment != nil {
		s := *t.Shipment
		o.Shipment = &s
	}
	if t.CancelledBy != "" {
		o.CancelledBy, o.Reason = t.CancelledBy, t.Reason
	}
	return o, nil
}

// EventRef names the event a change of an order announces: its id and the
// correlation id of the request that caused it (the change says which type
// of event). The stored order carries it, and the relay publishes the event
// from the order as stored (functions/orders/store), so the event always
// describes what was stored.
type EventRef struct {
	ID            string
	CorrelationID string
}

// Bounds on an order.
const (
	MaxLines    = 50
	MaxQuantity = 100
)

// Errors of the orders domain.
var (
	ErrNotFound        = errors.New("order: not found")
	ErrProductNotFound = errors.New("order: no such product")
	ErrNotCancellable  = errors.New("order: not cancellable in its status")
	// ErrIllegalTransition refuses a staff transition the order's status
	// no longer (or not yet) allows.
	ErrIllegalTransition = errors.New("order: the transition is not allowed from the order's status")
	ErrIdempotencyBusy   = errors.New("order: a request with this idempotency key is in flight")
	ErrIdempotencyReuse  = errors.New("order: idempotency key reused with another request")
	ErrEmailUnverified   = errors.New("order: the customer's email is not verified")
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
// Its JSON is the API's view of whose an order is (staff's).
type Customer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
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
	// History is every status the order entered, oldest first (orders
	// placed before it existed start it at their next transition).
	History []Change
	// Shipment is set once the order ships.
	Shipment *Shipment
	// CancelledBy and Reason are set when the shop cancelled the order.
	CancelledBy, Reason string
}

// QueuePosition is where order o stands on staff's queue of its status:
// the time it entered the status (its last change's, or its creation for
// an order placed before the history was kept and not changed since),
// then its id. Positions sort as the queue does (the time is fixed width,
// UTC); a page of a queue starts after one.
func QueuePosition(o Order) string {
	if n := len(o.History); n > 0 {
		return QueuePositionAt(o.ID, o.History[n-1].At)
	}
	return QueuePositionAt(o.ID, o.CreatedAt)
}

// QueuePositionAt is the queue position of order id having entered its
// status at the time entered.
func QueuePositionAt(id string, entered time.Time) string {
	return entered.UTC().Format(queueTime) + "#" + id
}

// queueTime is the layout of the time of a queue position.
const queueTime = "2006-01-02T15:04:05.000Z"

// ValidQueuePosition reports whether pos has the shape of a queue
// position.
func ValidQueuePosition(pos string) bool {
	at, id, ok := strings.Cut(pos, "#")
	_, err := time.Parse(queueTime, at)
	return ok && err == nil && ValidID(id)
}

// AsPlaced is the order as it was when placed: placing fixes its customer,
// lines, total and creation time for good, and only its status (which
// starts Pending) changes afterwards. An idempotent replay answers this,
// so that it repeats the first response exactly.
func (o Order) AsPlaced() Order {
	o.Status = Pending
	o.UpdatedAt = o.CreatedAt
	if len(o.History) > 0 && o.History[0].Status == Pending {
		o.History = slices.Clone(o.History[:1])
	} else {
		o.History = nil // placed before the history was kept
	}
	o.Shipment, o.CancelledBy, o.Reason = nil, "", ""
	return o
}

// ItemRequest is one requested line: a product and a quantity. Its JSON
// is a line of the API's order request.
type ItemRequest struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Claim is a request's use of an Idempotency-Key: the key is written with
// the order it places, in the same transaction, so that it places one order
// at most. Keys are per customer; RequestHash identifies what the request
// asked for, so the key cannot be reused for another order.
type Claim struct {
	CustomerID  string
	Key         string
	RequestHash string
}

// ValidIdempotencyKey reports whether k can be an idempotency key: 1 to 255
// visible ASCII characters.
func ValidIdempotencyKey(k string) bool {
	return len(k) >= 1 && len(k) <= 255 && !strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e })
}

// ValidSKU reports whether s has the shape of a SKU: 1 to 32 characters of
// A-Z, 0-9 and '-', the first not '-'.
func ValidSKU(s string) bool {
	return len(s) <= 32 && text.Only(s, text.Upper+text.Digits+"-") && s[0] != '-'
}

// ValidID reports whether s has the shape of an order id: 26 characters of
// 0-9 and A-Z, as a ULID has.
func ValidID(s string) bool { return len(s) == 26 && text.Only(s, text.Upper+text.Digits) }

// fields collects the bad fields a validation finds.
type fields []problem.FieldError

// add names field bad, with the message format gives, when bad is true.
func (f *fields) add(bad bool, field, format string, args ...any) {
	if bad {
		*f = append(*f, problem.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// err is the validation *problem.Error naming the fields, nil without any.
func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return problem.Validation(f...)
}

// ValidateItems checks the shape of an order request: 1 to MaxLines lines,
// well-formed SKUs, quantities from 1 to MaxQuantity, no SKU twice.
func ValidateItems(items []ItemRequest) error {
	if len(items) == 0 || len(items) > MaxLines {
		return problem.Validation(problem.FieldError{Field: "items", Message: fmt.Sprintf("must have 1 to %d lines", MaxLines)})
	}
	var bad fields
	seen := make(map[string]int, len(items))
	for i, it := range items {
		prev, dup := seen[it.SKU]
		valid := ValidSKU(it.SKU)
		bad.add(!valid, fmt.Sprintf("items[%d].sku", i), "must be 1 to 32 characters of A-Z, 0-9 and -")
		bad.add(valid && dup, fmt.Sprintf("items[%d].sku", i), "repeats items[%d]; combine the quantities", prev)
		if valid && !dup {
			seen[it.SKU] = i
		}
		bad.add(it.Quantity < 1 || it.Quantity > MaxQuantity, fmt.Sprintf("items[%d].quantity", i), "must be 1 to %d", MaxQuantity)
	}
	return bad.err()
}

// Price prices validated items from the catalog: every unit price comes
// from the catalog, never from the client. Unknown or inactive products and
// a mix of currencies are an Unprocessable *problem.Error naming them.
func Price(items []ItemRequest, catalog map[string]Product) ([]Line, int64, string, error) {
	var bad fields
	lines := make([]Line, 0, len(items))
	var total int64
	currency := ""
	for i, it := range items {
		p, ok := catalog[it.SKU]
		switch sku := fmt.Sprintf("items[%d].sku", i); {
		case !ok || !p.Active:
			bad.add(true, sku, "is not a product of the catalog")
		case currency != "" && p.Currency != currency:
			bad.add(true, sku, "is priced in %s, other items in %s", p.Currency, currency)
		default:
			currency = p.Currency
			// Bounded: MaxLines * MaxQuantity * a catalog price fits easily in int64.
			lt := p.UnitPrice * int64(it.Quantity)
			total += lt
			lines = append(lines, Line{SKU: p.SKU, Name: p.Name, Quantity: it.Quantity, UnitPrice: p.UnitPrice, LineTotal: lt})
		}
	}
	if len(bad) > 0 {
		return nil, 0, "", &problem.Error{Kind: problem.Unprocessable, Slug: "unknown-product", Detail: "Some items cannot be ordered.", Fields: bad}
	}
	return lines, total, currency, nil
}

// Check validates what staff give a transition, Ship's shipment and
// StaffCancel's reason, against the bounds the event's consumers check
// (shared/events), so that no transition can turn its event into poison.
// Errors: a validation *problem.Error.
func (t Transition) Check() error {
	var bad fields
	if s := t.Shipment; s != nil {
		bad.add(!events.ValidCarrier(s.Carrier), "carrier", "must be 1 to %d characters of text, without surrounding spaces", events.MaxCarrier)
		bad.add(!events.ValidTrackingNumber(s.TrackingNumber), "trackingNumber", "must be 1 to %d letters, digits, spaces, '-', '.' or '/', without surrounding spaces", events.MaxTrackingNumber)
	}
	bad.add(t.CancelledBy != "" && !events.ValidReason(t.Reason), "reason", "must be 1 to %d characters of text on one line, not all spaces", events.MaxReason)
	return bad.err()
}
