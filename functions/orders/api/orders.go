package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/web"
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
)

// orderJSON is an order as the API shows it.
type orderJSON struct {
	ID        string       `json:"id"`
	Status    order.Status `json:"status"`
	Items     []order.Line `json:"items"`
	Total     int64        `json:"total"`
	Currency  string       `json:"currency"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
	// History is every status the order entered, oldest first (none on
	// orders placed before it was kept); Shipment is set once it shipped.
	// Both in the view of one order (orderDetail), not in a placed order's
	// answer or the list.
	History  []order.Change  `json:"history,omitempty"`
	Shipment *order.Shipment `json:"shipment,omitempty"`
}

func orderView(o order.Order) orderJSON {
	return orderJSON{ID: o.ID, Status: o.Status, Items: o.Lines, Total: o.Total, Currency: o.Currency,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

// orderDetail is one order as GET /v1/orders/{id}, its cancel and the
// staff's transitions show it: with its history and shipment.
func orderDetail(o order.Order) orderJSON {
	v := orderView(o)
	v.History, v.Shipment = o.History, o.Shipment
	return v
}

func caller(r *http.Request) order.Customer {
	p := web.Caller(r)
	return order.Customer{ID: p.UserID, Email: p.Email, Name: p.Name}
}

func (a *API) createOrder(w http.ResponseWriter, r *http.Request, in struct {
	Items []order.ItemRequest `json:"items"`
}) error {
	return created(w)(a.orders.PlaceOrder(r.Context(), placing(r, in.Items)))
}

func (a *API) reorder(w http.ResponseWriter, r *http.Request) error {
	return created(w)(a.orders.Reorder(r.Context(), r.PathValue("id"), placing(r, nil)))
}

// placing is the caller's request to place an order of items.
func placing(r *http.Request, items []order.ItemRequest) app.PlaceOrder {
	return app.PlaceOrder{Customer: caller(r), EmailVerified: web.Caller(r).EmailVerified, Items: items,
		IdempotencyKey: idempotencyKey(r), CorrelationID: logging.CorrelationID(r.Context())}
}

// idempotencyKey is the request's Idempotency-Key, nil without one.
func idempotencyKey(r *http.Request) *string {
	if keys, present := r.Header[HeaderIdempotencyKey]; present {
		return &keys[len(keys)-1]
	}
	return nil
}

// created answers a placed order: 201 with its location, marked when it
// replays what an earlier request with the same key placed.
func created(w http.ResponseWriter) func(app.Placed, error) error {
	return func(placed app.Placed, err error) error {
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/v1/orders/"+placed.Order.ID)
		if placed.Replayed {
			w.Header().Set(HeaderReplayed, "true")
		}
		return web.JSON(w, http.StatusCreated, orderView(placed.Order))
	}
}

func (a *API) listOrders(w http.ResponseWriter, r *http.Request) error {
	customerID := caller(r).ID
	return list(a, w, r, customerID, customerID, order.ValidID, orderView, a.orders.Store.Orders)
}

// list answers the page of a list that read returns for key: up to the
// query's limit (1 to MaxPageSize, DefaultPageSize if absent) orders
// after its cursor, which must be one this API sealed for scope, holding
// a position valid accepts; each order as view shows it, and the cursor
// of the next page (null after the last).
func list[K ~string, V any](a *API, w http.ResponseWriter, r *http.Request, key K, scope string, valid func(string) bool,
	view func(order.Order) V, read func(context.Context, K, int, string) ([]order.Order, string, error)) error {
	query := r.URL.Query()
	limit := DefaultPageSize
	if query.Has("limit") {
		n, err := strconv.Atoi(query.Get("limit"))
		if err != nil || n < 1 || n > MaxPageSize {
			return problem.Validation(problem.FieldError{Field: "limit", Message: "must be an integer from 1 to 100"})
		}
		limit = n
	}
	cursors, err := a.cursors.get(r.Context())
	if err != nil {
		return err
	}
	var after string
	if query.Has("cursor") {
		if after, err = cursors.decode(scope, query.Get("cursor"), valid); err != nil {
			return problem.Validation(problem.FieldError{Field: "cursor", Message: "is not a cursor this API issued to you"})
		}
	}
	orders, position, err := read(r.Context(), key, limit, after)
	if err != nil {
		return err
	}
	items := make([]V, len(orders))
	for i, o := range orders {
		items[i] = view(o)
	}
	var next *string
	if c := cursors.encode(scope, position); c != "" {
		next = &c
	}
	return web.JSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
}

// reply answers 200 with view of what a use case returned, or its error.
func reply[T, V any](w http.ResponseWriter, view func(T) V) func(T, error) error {
	return func(v T, err error) error {
		if err != nil {
			return err
		}
		return web.JSON(w, http.StatusOK, view(v))
	}
}

// itself is the view of a value the API shows as it is.
func itself[T any](v T) T { return v }

func (a *API) getOrder(w http.ResponseWriter, r *http.Request) error {
	return reply(w, orderDetail)(a.orders.Order(r.Context(), caller(r).ID, r.PathValue("id")))
}

func (a *API) cancelOrder(w http.ResponseWriter, r *http.Request) error {
	return reply(w, orderDetail)(a.orders.CancelOrder(r.Context(), caller(r).ID, r.PathValue("id"), logging.CorrelationID(r.Context())))
}
