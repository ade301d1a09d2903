package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
)

// Page size bounds of GET /v1/orders.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Headers of the idempotency protocol.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderReplayed       = "Idempotent-Replayed"
	maxIdempotencyKeyLen = 255
)

type orderJSON struct {
	ID        string       `json:"id"`
	Status    order.Status `json:"status"`
	Items     []order.Line `json:"items"`
	Total     int64        `json:"total"`
	Currency  string       `json:"currency"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
}

func orderView(o order.Order) orderJSON {
	return orderJSON{ID: o.ID, Status: o.Status, Items: o.Lines, Total: o.Total, Currency: o.Currency,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

func location(id string) string { return "/v1/orders/" + id }

func (a *API) createOrder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Items []order.ItemRequest `json:"items"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := order.ValidateItems(in.Items); err != nil {
		return nil, problemFor(err)
	}
	caller := r.Caller()
	now := a.Now().UTC().Truncate(time.Millisecond)

	var claim *store.Claim
	if key, present := r.LookupHeader(HeaderIdempotencyKey); present {
		if !validIdempotencyKey(key) {
			return nil, problem.Validation(problem.FieldError{Field: HeaderIdempotencyKey, Message: "must be 1 to 255 visible ASCII characters"})
		}
		claim = &store.Claim{CustomerID: caller.UserID, Key: key, RequestHash: requestHash(in.Items), Owner: a.NewID()}
		replay, err := a.Store.ClaimKey(ctx, *claim, now)
		if err != nil {
			return nil, problemFor(err)
		}
		if replay != nil {
			a.Metrics.Add(MetricReplayed, 1)
			r.Log.InfoContext(ctx, "idempotent replay", slog.String("orderId", replay.OrderID))
			resp := &httpapi.Response{Status: replay.Status, Body: replay.Body}
			return resp.Set("Content-Type", "application/json").Set("Location", location(replay.OrderID)).Set(HeaderReplayed, "true"), nil
		}
	}

	resp, err := a.placeOrder(ctx, r, in.Items, claim, now)
	if err != nil && claim != nil && !errors.Is(err, order.ErrIdempotencyBusy) {
		// Nothing was stored: free the key so a corrected retry can use it.
		if rerr := a.Store.ReleaseKey(context.WithoutCancel(ctx), *claim); rerr != nil {
			r.Log.WarnContext(ctx, "release idempotency key failed", slog.String(logging.KeyError, rerr.Error()))
		}
	}
	return resp, err
}

// placeOrder prices the items from the catalog and stores the order, its
// event and (with a claim) the idempotent response in one transaction.
func (a *API) placeOrder(ctx context.Context, r *httpapi.Request, items []order.ItemRequest, claim *store.Claim, now time.Time) (*httpapi.Response, error) {
	skus := make([]string, len(items))
	for i, it := range items {
		skus[i] = it.SKU
	}
	catalog, err := a.Store.ProductsBySKU(ctx, skus)
	if err != nil {
		return nil, err
	}
	lines, total, currency, err := order.Price(items, catalog)
	if err != nil {
		return nil, problemFor(err)
	}
	caller := r.Caller()
	o := order.Order{
		ID: a.NewID(), Customer: order.Customer{ID: caller.UserID, Email: caller.Email, Name: caller.Name},
		Status: order.Pending, Lines: lines, Total: total, Currency: currency,
		CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	resp, err := httpapi.JSON(http.StatusCreated, orderView(o))
	if err != nil {
		return nil, err
	}
	resp.Set("Location", location(o.ID))
	var completion *store.Completion
	if claim != nil {
		completion = &store.Completion{Claim: *claim, Status: resp.Status, Body: resp.Body, OrderID: o.ID}
	}
	ev := o.Event(events.OrderCreated, a.NewID(), r.CorrelationID, now)
	if err := a.Store.CreateOrder(ctx, o, ev, completion); err != nil {
		return nil, problemFor(err)
	}
	a.Metrics.Add(MetricPlaced, 1)
	r.Log.InfoContext(ctx, "order created", slog.String("orderId", o.ID), slog.String("eventId", ev.ID),
		slog.Int64("total", o.Total), slog.String("currency", o.Currency))
	return resp, nil
}

func validIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestHash identifies the semantic content of an order request, so that
// a replay with different whitespace or key order is still "the same body".
func requestHash(items []order.ItemRequest) string {
	b, _ := json.Marshal(items) // a slice of plain structs always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (a *API) listOrders(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	caller := r.Caller()
	limit := DefaultPageSize
	if v, ok := r.Query("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return nil, problem.Validation(problem.FieldError{Field: "limit", Message: "must be an integer from 1 to 100"})
		}
		limit = n
	}
	after := ""
	if c, ok := r.Query("cursor"); ok {
		var err error
		if after, err = a.cursors.decode(caller.UserID, c); err != nil {
			return nil, problem.Validation(problem.FieldError{Field: "cursor", Message: "is not a cursor this API issued to you"})
		}
	}
	list, next, err := a.Store.Orders(ctx, caller.UserID, limit, after)
	if err != nil {
		return nil, err
	}
	items := make([]orderJSON, len(list))
	for i, o := range list {
		items[i] = orderView(o)
	}
	var nextCursor *string
	if next != "" {
		c := a.cursors.encode(caller.UserID, next)
		nextCursor = &c
	}
	return httpapi.JSON(http.StatusOK, struct {
		Items      []orderJSON `json:"items"`
		NextCursor *string     `json:"nextCursor"`
	}{items, nextCursor})
}

func (a *API) getOrder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id := r.PathParam("id")
	if !validOrderID(id) {
		return nil, problemFor(order.ErrNotFound)
	}
	o, err := a.Store.Order(ctx, r.Caller().UserID, id)
	if err != nil {
		return nil, problemFor(err)
	}
	return httpapi.JSON(http.StatusOK, orderView(o))
}

func (a *API) cancelOrder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	id := r.PathParam("id")
	if !validOrderID(id) {
		return nil, problemFor(order.ErrNotFound)
	}
	// Optimistic concurrency: read, decide, write on condition that the
	// version is unchanged. When another write got in between, decide again
	// on the fresh order: a concurrent cancel makes this one a 409, any other
	// change (say, a confirmation) leaves the order cancellable.
	for attempt := 1; ; attempt++ {
		prev, err := a.Store.Order(ctx, r.Caller().UserID, id)
		if err != nil {
			return nil, problemFor(err)
		}
		now := a.Now().UTC().Truncate(time.Millisecond)
		next, err := prev.Cancel(now)
		if err != nil {
			return nil, problemFor(err)
		}
		ev := next.Event(events.OrderCancelled, a.NewID(), r.CorrelationID, now)
		err = a.Store.UpdateOrder(ctx, prev, next, ev)
		if errors.Is(err, order.ErrConcurrentWrite) && attempt < maxWriteAttempts {
			continue
		}
		if err != nil {
			return nil, problemFor(err)
		}
		a.Metrics.Add(MetricCancelled, 1)
		r.Log.InfoContext(ctx, "order cancelled", slog.String("orderId", next.ID), slog.String("eventId", ev.ID))
		return httpapi.JSON(http.StatusOK, orderView(next))
	}
}

// maxWriteAttempts bounds the read-decide-write rounds of a conditional
// update that keeps losing to concurrent writers.
const maxWriteAttempts = 3
