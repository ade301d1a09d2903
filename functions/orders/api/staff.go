package api

import (
	"net/http"
	"slices"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/web"
)

// The staff's routes (/v1/admin/*): web.Server.Staff serves them to staff
// only and logs each action.

// createProduct takes the API's JSON of a product,
// {sku,name,description,unitPrice,currency}.
func (a *API) createProduct(w http.ResponseWriter, r *http.Request, in order.Product) error {
	p, err := a.orders.CreateProduct(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/admin/products/"+p.SKU)
	return web.JSON(w, http.StatusCreated, p)
}

func (a *API) updateProduct(w http.ResponseWriter, r *http.Request, in order.ProductChange) error {
	return reply(w, itself[order.StaffProduct])(a.orders.UpdateProduct(r.Context(), r.PathValue("sku"), in))
}

func (a *API) staffProduct(w http.ResponseWriter, r *http.Request) error {
	return reply(w, itself[order.StaffProduct])(a.orders.StaffProduct(r.Context(), r.PathValue("sku")))
}

func (a *API) staffProducts(w http.ResponseWriter, r *http.Request) error {
	return reply(w, func(products []order.StaffProduct) any { return map[string]any{"items": products} })(a.orders.Store.StaffProducts(r.Context()))
}

func (a *API) changeStock(w http.ResponseWriter, r *http.Request, in order.StockChange) error {
	sku := r.PathValue("sku")
	return reply(w, func(stock int64) any { return map[string]any{"sku": sku, "stock": stock} })(a.orders.ChangeStock(r.Context(), sku, in))
}

// staffOrderJSON is an order as staff see it: its detail and whose it is.
type staffOrderJSON struct {
	orderJSON
	Customer order.Customer `json:"customer"`
}

func staffOrderView(o order.Order) staffOrderJSON { return staffOrderJSON{orderDetail(o), o.Customer} }

// staffOrders is staff's queue of the orders in one status, oldest first
// by the time they entered it; its cursors are sealed for that status.
func (a *API) staffOrders(w http.ResponseWriter, r *http.Request) error {
	status := order.Status(r.URL.Query().Get("status"))
	if !slices.Contains(order.Statuses, status) {
		return problem.Validation(problem.FieldError{Field: "status", Message: "must be one of PENDING, CONFIRMED, SHIPPED, DELIVERED, CANCELLED"})
	}
	return list(a, w, r, status, "staff\x00"+string(status), order.ValidQueuePosition, staffOrderView, a.orders.Store.StaffOrders)
}

func (a *API) staffOrder(w http.ResponseWriter, r *http.Request) error {
	return reply(w, staffOrderView)(a.orders.StaffOrder(r.Context(), r.PathValue("id")))
}

// move answers the order the route's id names, moved along t.
func (a *API) move(w http.ResponseWriter, r *http.Request, t order.Transition) error {
	return reply(w, orderDetail)(a.orders.Transition(r.Context(), r.PathValue("id"), t, logging.CorrelationID(r.Context())))
}

// transition is the handler of t, a transition that takes no body.
func (a *API) transition(t order.Transition) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error { return a.move(w, r, t) }
}

// shipOrder takes a shipment's JSON, {carrier,trackingNumber}.
func (a *API) shipOrder(w http.ResponseWriter, r *http.Request, in order.Shipment) error {
	return a.move(w, r, order.Ship(in))
}

func (a *API) staffCancelOrder(w http.ResponseWriter, r *http.Request, in struct {
	Reason string `json:"reason"`
}) error {
	return a.move(w, r, order.StaffCancel(in.Reason))
}
