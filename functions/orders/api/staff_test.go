package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/internal/apitest"
)

// That a customer's token is refused on a staff route is web's
// (TestServerAnswers); e2e's TestCustomersAreRefusedTheStaffRoutes checks
// it on every staff operation of api/openapi.yaml.

// TestCatalogManagement: staff add, change, archive and read products.
// (When customers see a change is the catalog copy's: app's
// TestCatalogCache; that they do not see an archived product, app's
// TestProducts.)
func TestCatalogManagement(t *testing.T) {
	h := newHarness(t)
	created := h.send(t, &kim, "POST", "/v1/admin/products", productBody).Expect(t, http.StatusCreated)
	if p := decode[order.StaffProduct](t, created); p.SKU != "MUG-NEW-1" || !p.Active || p.Stock != 0 || created.Header.Get("Location") != "/v1/admin/products/MUG-NEW-1" {
		t.Errorf("created %+v, Location %q", p, created.Header.Get("Location"))
	}
	h.send(t, &kim, "POST", "/v1/admin/products", productBody).Problem(t, http.StatusConflict, "conflict")
	h.send(t, &kim, "POST", "/v1/admin/products", strings.Replace(productBody, "MUG-NEW-1", "MUG-OLD", 1)).Problem(t, http.StatusConflict, "conflict")

	changed := decode[order.StaffProduct](t, h.send(t, &kim, "PATCH", "/v1/admin/products/COF-ESP-250", `{"unitPrice":1390,"name":" Espresso "}`).Expect(t, http.StatusOK))
	if changed.UnitPrice != 1390 || changed.Name != "Espresso" || changed.Description != "Dark roast." || changed.Currency != "USD" || !changed.Active {
		t.Errorf("changed %+v", changed)
	}
	h.send(t, &kim, "PATCH", "/v1/admin/products/TEA-EARL-100", `{"active":false}`).Expect(t, http.StatusOK)
	list := decode[struct{ Items []order.StaffProduct }](t, h.send(t, &kim, "GET", "/v1/admin/products", "").Expect(t, 200))
	if len(list.Items) != len(apptest.Catalog())+1 || list.Items[len(list.Items)-1].SKU != "TEA-EARL-100" || list.Items[len(list.Items)-1].Active {
		t.Errorf("staff list %+v", list.Items)
	}
	if p := decode[order.StaffProduct](t, h.send(t, &kim, "GET", "/v1/admin/products/TEA-EARL-100", "").Expect(t, 200)); p.Active {
		t.Errorf("archived product %+v", p)
	}
}

// TestCatalogManagementRefuses: what staff may not send. (A product's
// field rules are order's TestNewProduct and TestProductChangeCheck; that
// a malformed SKU is not found, app's TestStaffProducts.)
func TestCatalogManagementRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, body string
		status                     int
		slug                       string
		fields                     []string
	}{
		{"price above the events' bound", "POST", "/v1/admin/products", strings.Replace(productBody, "1800", "1000000000001", 1), 400, "validation", []string{"unitPrice"}},
		{"active at creation", "POST", "/v1/admin/products", strings.Replace(productBody, "{", `{"active":false,`, 1), 400, "validation", []string{"active"}},
		{"currency change", "PATCH", "/v1/admin/products/COF-ESP-250", `{"currency":"EUR"}`, 400, "validation", []string{"currency"}},
		{"SKU change", "PATCH", "/v1/admin/products/COF-ESP-250", `{"sku":"NEW-2"}`, 400, "validation", []string{"sku"}},
		{"not a boolean", "PATCH", "/v1/admin/products/COF-ESP-250", `{"active":"false"}`, 400, "validation", []string{"active"}},
		{"unknown product", "PATCH", "/v1/admin/products/NOPE-1", `{"unitPrice":5}`, 404, "not-found", nil},
		{"unknown SKU", "GET", "/v1/admin/products/NOPE-1", "", 404, "not-found", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.send(t, &kim, tc.method, tc.target, tc.body).Problem(t, tc.status, tc.slug)
			for _, f := range tc.fields {
				if !strings.Contains(strings.Join(p.Fields(), " "), f) {
					t.Errorf("fields %v lack %s", p.Fields(), f)
				}
			}
		})
	}
}

// TestStaffNullsWriteNothing: a null is no value the document admits,
// though encoding/json decodes it as a field not sent. Schemathesis found
// PATCH {"active": null, "unitPrice": 1390} answered 200, the price
// changed: a null beside a good field is 400 naming it, and nothing is
// written, on every staff body.
func TestStaffNullsWriteNothing(t *testing.T) {
	h := newHarness(t)
	before := decode[order.StaffProduct](t, h.send(t, &kim, "GET", "/v1/admin/products/COF-ESP-250", "").Expect(t, 200))
	for _, tc := range []struct{ method, target, body, field string }{
		{"PATCH", "/v1/admin/products/COF-ESP-250", `{"unitPrice":1390,"active":null}`, "active"},
		{"PATCH", "/v1/admin/products/COF-ESP-250", `{"name":null,"description":"New."}`, "name"},
		{"PATCH", "/v1/admin/products/COF-ESP-250", `{"unitPrice":null,"active":false}`, "unitPrice"},
		{"POST", "/v1/admin/products/COF-ESP-250/stock", `{"delta":5,"set":null}`, "set"},
		{"POST", "/v1/admin/products/COF-ESP-250/stock", `{"delta":null,"set":5,"expected":1000}`, "delta"},
		{"POST", "/v1/admin/products", strings.Replace(productBody, `"Stoneware, 300 ml."`, "null", 1), "description"},
	} {
		p := h.send(t, &kim, tc.method, tc.target, tc.body).Problem(t, http.StatusBadRequest, "validation")
		if f := p.Fields(); len(f) != 1 || f[0] != tc.field {
			t.Errorf("%s %s %s: fields %v, want [%s]", tc.method, tc.target, tc.body, f, tc.field)
		}
	}
	if after := decode[order.StaffProduct](t, h.send(t, &kim, "GET", "/v1/admin/products/COF-ESP-250", "").Expect(t, 200)); after != before {
		t.Errorf("after the refused requests the product is %+v, was %+v", after, before)
	}
	h.send(t, &kim, "GET", "/v1/admin/products/MUG-NEW-1", "").Problem(t, http.StatusNotFound, "not-found")
}

// TestStock: staff change the stock, and an order short of it is refused
// naming the short lines. (That an order takes the stock, all or nothing,
// and a cancel gives it back is the stores' conformance testOrderStock.)
func TestStock(t *testing.T) {
	h := newHarness(t)
	set := func(body string) *apitest.Response {
		return h.send(t, &kim, "POST", "/v1/admin/products/COF-ESP-250/stock", body)
	}
	if got := decode[struct {
		SKU   string
		Stock int64
	}](t, set(`{"set":2,"expected":1000}`).Expect(t, 200)); got.SKU != "COF-ESP-250" || got.Stock != 2 {
		t.Fatalf("set: %+v", got)
	}
	set(`{"set":5,"expected":1000}`).Problem(t, http.StatusConflict, "conflict")
	set(`{"delta":-3}`).Problem(t, http.StatusConflict, "conflict")
	short := h.send(t, &ada, "POST", "/v1/orders", `{"items":[{"sku":"TEA-EARL-100","quantity":1},{"sku":"COF-ESP-250","quantity":3}]}`).Problem(t, http.StatusConflict, "out-of-stock")
	if f := short.Fields(); len(f) != 1 || f[0] != "items[1].sku" {
		t.Fatalf("short lines %v", f)
	}
	for _, body := range []string{`{}`, `{"delta":1,"set":1,"expected":0}`, `{"set":1}`, `{"expected":1}`, `{"delta":1.5}`, `{"delta":"1"}`, `{"set":-1,"expected":0}`, `{"delta":1000000000001}`} {
		set(body).Problem(t, http.StatusBadRequest, "validation")
	}
	h.send(t, &kim, "POST", "/v1/admin/products/NOPE-1/stock", `{"delta":1}`).Problem(t, http.StatusNotFound, "not-found")
}

// TestOrderTransitionRoutes: staff confirm, ship, deliver and cancel any
// customer's order by its id, each answering the order (200, a repeat
// too); what the status does not allow is 409 illegal-transition, a
// malformed body or field 400 validation, an unknown order 404. The
// customer's view shows the history and, once shipped, the shipment.
// (Which transitions each status allows, and that a repeat changes
// nothing, is order's TestStaffTransitions; that a malformed id is not
// found, app's TestStaffOrders.)
func TestOrderTransitionRoutes(t *testing.T) {
	h := newHarness(t)
	ids := seedOrders(h, ada, 2, order.Pending)
	path := func(id, step string) string { return "/v1/admin/orders/" + id + "/" + step }
	const ship = `{"carrier":"UPS","trackingNumber":"1Z999AA10123456784"}`

	h.send(t, &kim, "POST", path(ids[0], "ship"), ship).Problem(t, http.StatusConflict, "illegal-transition")
	h.send(t, &kim, "POST", path(fuzzID(99), "confirm"), "").Problem(t, http.StatusNotFound, "not-found")
	confirmed := decode[orderJSON](t, h.send(t, &kim, "POST", path(ids[0], "confirm"), "").Expect(t, http.StatusOK))
	if confirmed.Status != order.Confirmed || len(confirmed.History) != 1 || confirmed.History[0].Status != order.Confirmed {
		t.Errorf("confirmed: %+v", confirmed) // seeded without a history: it starts at the transition
	}
	for _, body := range []string{`{"carrier":"","trackingNumber":"1Z"}`, `{"carrier":"UPS","trackingNumber":" 1Z"}`, `{"carrier":"UPS"}`, `{"carrier":"UPS","trackingNumber":"1Z\u00e9"}`} {
		h.send(t, &kim, "POST", path(ids[0], "ship"), body).Problem(t, http.StatusBadRequest, "validation")
	}
	shipped := decode[orderJSON](t, h.send(t, &kim, "POST", path(ids[0], "ship"), ship).Expect(t, http.StatusOK))
	if shipped.Status != order.Shipped || shipped.Shipment == nil || shipped.Shipment.TrackingNumber != "1Z999AA10123456784" {
		t.Errorf("shipped: %+v", shipped)
	}
	h.send(t, &kim, "POST", path(ids[0], "deliver"), "").Expect(t, http.StatusOK)
	mine := decode[orderJSON](t, h.send(t, &ada, "GET", "/v1/orders/"+ids[0], "").Expect(t, http.StatusOK))
	if mine.Status != order.Delivered || len(mine.History) != 3 || mine.Shipment == nil || mine.Shipment.Carrier != "UPS" {
		t.Errorf("the customer's view: %+v", mine)
	}

	for _, body := range []string{`{"reason":""}`, `{"reason":"   "}`, `{"reason":"two\nlines"}`, `{}`} {
		h.send(t, &kim, "POST", path(ids[1], "cancel"), body).Problem(t, http.StatusBadRequest, "validation")
	}
	if c := decode[orderJSON](t, h.send(t, &kim, "POST", path(ids[1], "cancel"), `{"reason":"Out of stock."}`).Expect(t, http.StatusOK)); c.Status != order.Cancelled {
		t.Errorf("cancelled: %+v", c)
	}
	h.send(t, &kim, "POST", path(ids[1], "cancel"), `{"reason":"Out of stock."}`).Expect(t, http.StatusOK)
	if ev := h.store.Events(); len(ev) != 4 || ev[3].Reason != "Out of stock." || ev[3].CancelledBy != "staff" || ev[1].Order.Shipment == nil {
		t.Errorf("events: %+v", ev)
	}
}

// TestStaffOrderQueue: staff page through the orders of one status with
// cursors sealed for that status, and read any customer's order by id,
// with whose it is. (That a queue lists the orders oldest first by the
// time they entered it is the stores' conformance testStaffQueues.)
func TestStaffOrderQueue(t *testing.T) {
	h := newHarness(t)
	pending := append(seedOrders(h, ada, 3, order.Pending), seedOrders(h, grace, 2, order.Pending)...)
	seedOrders(h, ada, 1, order.Confirmed)

	type page struct {
		Items      []staffOrderJSON `json:"items"`
		NextCursor *string          `json:"nextCursor"`
	}
	var got []string
	target := "/v1/admin/orders?status=PENDING&limit=3"
	for {
		p := decode[page](t, h.send(t, &kim, "GET", target, "").Expect(t, http.StatusOK))
		for _, o := range p.Items {
			got = append(got, o.ID)
			if o.Status != order.Pending || o.Customer.ID == "" || o.Customer.Email == "" {
				t.Errorf("listed %+v", o)
			}
		}
		if p.NextCursor == nil {
			break
		}
		target = "/v1/admin/orders?status=PENDING&limit=3&cursor=" + *p.NextCursor
		// A cursor of one queue is refused on another.
		h.send(t, &kim, "GET", "/v1/admin/orders?status=CONFIRMED&cursor="+*p.NextCursor, "").Problem(t, http.StatusBadRequest, "validation")
	}
	if !slices.Equal(got, pending) {
		t.Errorf("the pending queue listed %v, want %v", got, pending)
	}
	for _, query := range []string{"", "status=", "status=pending", "status=LOST", "status=PENDING&limit=0", "status=PENDING&limit=101", "status=PENDING&cursor=" + cursorPos} {
		h.send(t, &kim, "GET", "/v1/admin/orders?"+query, "").Problem(t, http.StatusBadRequest, "validation")
	}

	one := decode[staffOrderJSON](t, h.send(t, &kim, "GET", "/v1/admin/orders/"+pending[3], "").Expect(t, http.StatusOK))
	if one.ID != pending[3] || one.Customer != (order.Customer{ID: grace.UserID, Email: grace.Email, Name: grace.Name}) {
		t.Errorf("GET an order of Grace's: %+v", one)
	}
	h.send(t, &kim, "GET", "/v1/admin/orders/"+fuzzID(99), "").Problem(t, http.StatusNotFound, "not-found")
}
