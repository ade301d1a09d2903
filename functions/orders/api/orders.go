package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/httpapi"
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
)

// orderJSON is an order as the API shows it.
type orderJSON struct {
	ID        string       `json:"id"`
	Status    order.Status `json:"status"`
	Items     []lineJSON   `json:"items"`
	Total     int64        `json:"total"`
	Currency  string       `json:"currency"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
}

// lineJSON is an order line as the API shows it.
type lineJSON struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
	LineTotal int64  `json:"lineTotal"`
}

func orderView(o order.Order) orderJSON {
	items := make([]lineJSON, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = lineJSON{SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal}
	}
	return orderJSON{ID: o.ID, Status: o.Status, Items: items, Total: o.Total, Currency: o.Currency,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
}

func location(id string) string { return "/v1/orders/" + id }

func caller(r *httpapi.Request) order.Customer {
	p := r.Caller()
	return order.Customer{ID: p.UserID, Email: p.Email, Name: p.Name}
}

func (a *API) createOrder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Items []struct {
			SKU      string `json:"sku"`
			Quantity int    `json:"quantity"`
		} `json:"items"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	cmd := app.PlaceOrder{Customer: caller(r), EmailVerified: r.Caller().EmailVerified, IdempotencyKey: idempotencyKey(r), CorrelationID: r.CorrelationID}
	for _, it := range in.Items {
		cmd.Items = append(cmd.Items, order.ItemRequest{SKU: it.SKU, Quantity: it.Quantity})
	}
	return created(a.orders.PlaceOrder(ctx, cmd))
}

func (a *API) reorder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return created(a.orders.Reorder(ctx, app.Reorder{
		Customer: caller(r), EmailVerified: r.Caller().EmailVerified, OrderID: r.PathParam("id"),
		IdempotencyKey: idempotencyKey(r), CorrelationID: r.CorrelationID,
	}))
}

// idempotencyKey is the request's Idempotency-Key, nil without one.
func idempotencyKey(r *httpapi.Request) *string {
	if key, present := r.LookupHeader(HeaderIdempotencyKey); present {
		return &key
	}
	return nil
}

// created answers a placed order: 201 with its location, marked when it
// replays what an earlier request with the same key placed.
func created(placed app.Placed, err error) (*httpapi.Response, error) {
	if err != nil {
		return nil, err
	}
	resp, err := httpapi.JSON(http.StatusCreated, orderView(placed.Order))
	if err != nil {
		return nil, err
	}
	resp.Set("Location", location(placed.Order.ID))
	if placed.Replayed {
		resp.Set(HeaderReplayed, "true")
	}
	return resp, nil
}

func (a *API) listOrders(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	customer := caller(r)
	limit := DefaultPageSize
	if v, ok := r.Query("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return nil, problem.Validation(problem.FieldError{Field: "limit", Message: "must be an integer from 1 to 100"})
		}
		limit = n
	}
	cursors, err := a.cursors.get(ctx)
	if err != nil {
		return nil, err
	}
	after := ""
	if c, ok := r.Query("cursor"); ok {
		if after, err = cursors.decode(customer.ID, c); err != nil {
			return nil, problem.Validation(problem.FieldError{Field: "cursor", Message: "is not a cursor this API issued to you"})
		}
	}
	page, err := a.orders.Orders(ctx, customer.ID, limit, after)
	if err != nil {
		return nil, err
	}
	items := make([]orderJSON, len(page.Orders))
	for i, o := range page.Orders {
		items[i] = orderView(o)
	}
	var next *string
	if page.Next != "" {
		c := cursors.encode(customer.ID, page.Next)
		next = &c
	}
	return httpapi.JSON(http.StatusOK, struct {
		Items      []orderJSON `json:"items"`
		NextCursor *string     `json:"nextCursor"`
	}{items, next})
}

func (a *API) getOrder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	o, err := a.orders.Order(ctx, caller(r).ID, r.PathParam("id"))
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, orderView(o))
}

func (a *API) cancelOrder(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	o, err := a.orders.CancelOrder(ctx, caller(r).ID, r.PathParam("id"), r.CorrelationID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, orderView(o))
}
