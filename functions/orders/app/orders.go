package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/problem"
)

// PlaceOrder asks to place an order.
type PlaceOrder struct {
	Customer order.Customer
	// EmailVerified says the customer proved they own Customer.Email
	// (from their access token). Orders are mailed there, so only then.
	EmailVerified bool
	Items         []order.ItemRequest
	// IdempotencyKey makes the request safe to retry: the same key with
	// the same items places one order. nil for none.
	IdempotencyKey *string
	CorrelationID  string // travels with the order's event
}

// Placed is the outcome of PlaceOrder.
type Placed struct {
	Order order.Order
	// Replayed is true when an earlier request with the same key placed
	// the order; this one placed nothing.
	Replayed bool
}

// PlaceOrder validates and prices the items from the catalog and stores the
// order with its order.created event (and, with a key, the key's record)
// in one transaction. Prices come from the catalog, never from the client:
// from the function's copy when it is fresh (see CatalogFresh), else from a
// read of the table; never from an older copy.
//
// Errors: order.ErrEmailUnverified before anything else when the
// customer's email is not verified, a validation *problem.Error for
// malformed items or key, an Unprocessable one for unknown products or
// mixed currencies, order.ErrIdempotencyReuse when
// the key placed another order, order.ErrIdempotencyBusy while a request
// with the key is in flight, order.Quota.Refused's error when the customer placed
// OrdersPerHour orders this hour (an idempotent replay counts nothing).
func (s *Service) PlaceOrder(ctx context.Context, in PlaceOrder) (Placed, error) {
	if !in.EmailVerified {
		return Placed{}, order.ErrEmailUnverified
	}
	if err := order.ValidateItems(in.Items); err != nil {
		return Placed{}, err
	}
	var key *order.Claim
	if in.IdempotencyKey != nil {
		if !order.ValidIdempotencyKey(*in.IdempotencyKey) {
			return Placed{}, problem.Validation(problem.FieldError{Field: "Idempotency-Key", Message: "must be 1 to 255 visible ASCII characters"})
		}
		key = &order.Claim{CustomerID: in.Customer.ID, Key: *in.IdempotencyKey, RequestHash: RequestHash(in.Items)}
	}
	placed, err := s.place(ctx, in, key)
	if key != nil && problem.Of(err, problem.Unprocessable) != nil {
		// The key may have placed this very request before a product of it
		// was retired: its retry must replay that order, not fail.
		earlier, kerr := s.Store.KeyedOrder(ctx, *key, s.now())
		if kerr != nil {
			return Placed{}, kerr
		}
		if earlier != nil {
			placed, err = Placed{Order: *earlier, Replayed: true}, nil
		}
	}
	if placed.Replayed { // never with an error: place answers Placed{} with one
		s.Metrics.Add(MetricReplayed, 1)
		s.Log.InfoContext(ctx, "idempotent replay", slog.String("orderId", placed.Order.ID))
	}
	return placed, err
}

// place prices and stores the order. With a key that already placed the
// same request, it stores nothing and answers that order, replayed.
func (s *Service) place(ctx context.Context, in PlaceOrder, key *order.Claim) (Placed, error) {
	catalog, err := s.catalogCopy(ctx)
	if err != nil {
		return Placed{}, err
	}
	lines, total, currency, err := order.Price(in.Items, catalog.bySKU)
	if err != nil {
		return Placed{}, err
	}
	now := s.now()
	o := order.Order{
		ID: s.NewID(), Customer: in.Customer, Status: order.Pending,
		Lines: lines, Total: total, Currency: currency, CreatedAt: now, UpdatedAt: now,
		History: []order.Change{{Status: order.Pending, At: now}},
	}
	ev := order.EventRef{ID: s.NewID(), CorrelationID: in.CorrelationID}
	quota := order.Quota{Max: s.OrdersPerHour, Window: time.Hour}
	earlier, err := s.Store.CreateOrder(ctx, o, ev, key, quota, now)
	if err != nil {
		if over := problem.Of(err, problem.TooManyRequests); over != nil {
			s.Metrics.Add(MetricQuota, 1)
			s.Log.WarnContext(ctx, "order quota reached", slog.Int("ordersPerHour", quota.Max), slog.Duration("retryAfter", over.RetryAfter))
		}
		return Placed{}, fmt.Errorf("place order: %w", err)
	}
	if earlier != nil {
		return Placed{Order: *earlier, Replayed: true}, nil
	}
	s.Metrics.Add(MetricPlaced, 1)
	s.Log.InfoContext(ctx, "order created", slog.String("orderId", o.ID), slog.String("eventId", ev.ID),
		slog.Int64("total", o.Total), slog.String("currency", o.Currency))
	return Placed{Order: o}, nil
}

// Reorder places a new order with the SKUs and quantities of the
// customer's earlier order orderID, in any status, at today's catalog
// prices: it is PlaceOrder with in's items read from that order (in.Items
// is not read). Errors are PlaceOrder's, and order.ErrNotFound when the
// caller has no such order; a product since retired makes the new order
// unprocessable, as it would be in a new request.
func (s *Service) Reorder(ctx context.Context, orderID string, in PlaceOrder) (Placed, error) {
	if !in.EmailVerified {
		return Placed{}, order.ErrEmailUnverified
	}
	earlier, err := s.Order(ctx, in.Customer.ID, orderID)
	if err != nil {
		return Placed{}, err
	}
	in.Items = make([]order.ItemRequest, len(earlier.Lines))
	for i, l := range earlier.Lines {
		in.Items[i] = order.ItemRequest{SKU: l.SKU, Quantity: l.Quantity}
	}
	return s.PlaceOrder(ctx, in)
}

// Order returns the customer's order, or order.ErrNotFound, also for a
// malformed id and for another customer's order.
func (s *Service) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	if !order.ValidID(id) {
		return order.Order{}, order.ErrNotFound
	}
	return s.Store.Order(ctx, customerID, id)
}

// CancelOrder cancels the customer's order, announcing its order.cancelled
// event, or answers order.ErrNotFound or order.ErrNotCancellable (also
// when a concurrent cancel won).
func (s *Service) CancelOrder(ctx context.Context, customerID, id, correlationID string) (order.Order, error) {
	if !order.ValidID(id) {
		return order.Order{}, order.ErrNotFound
	}
	ev := order.EventRef{ID: s.NewID(), CorrelationID: correlationID}
	cancelled, err := s.Store.CancelOrder(ctx, customerID, id, s.now(), ev)
	if err != nil {
		return order.Order{}, err
	}
	s.Metrics.Add(MetricCancelled, 1)
	s.Log.InfoContext(ctx, "order cancelled", slog.String("orderId", cancelled.ID), slog.String("eventId", ev.ID))
	return cancelled, nil
}

// RequestHash identifies what an order request asks for, so that a retry
// with other whitespace or key order is still "the same request". Its
// input is the canonical JSON of the items (order.ItemRequest's), the form
// stored key records hold the hashes of (TestRequestHash pins it).
func RequestHash(items []order.ItemRequest) string {
	b, _ := json.Marshal(items) // a slice of plain structs always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
