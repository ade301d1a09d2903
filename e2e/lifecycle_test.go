//go:build integration

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
)

// lifeOrderDoc is an order as the API shows it, with its life cycle.
type lifeOrderDoc struct {
	orderDoc
	History []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	} `json:"history"`
	Shipment *struct {
		Carrier        string `json:"carrier"`
		TrackingNumber string `json:"trackingNumber"`
	} `json:"shipment"`
}

// statuses are the statuses of the order's history, oldest first.
func (o lifeOrderDoc) statuses() string {
	s := make([]string, len(o.History))
	for i, h := range o.History {
		s[i] = h.Status
	}
	return strings.Join(s, ",")
}

// getOrder is the customer's view of their order.
func getOrder(t *testing.T, u user, id string) lifeOrderDoc {
	t.Helper()
	var o lifeOrderDoc
	call(t, "GET", "/v1/orders/"+id, nil, u.bearer()...).Expect(t, 200).JSON(t, &o)
	return o
}

// illegal checks that r is 409 illegal-transition and that the order is
// as it was.
func illegal(t *testing.T, r *apitest.Response, u user, before lifeOrderDoc) {
	t.Helper()
	r.Problem(t, 409, "illegal-transition")
	if after := getOrder(t, u, before.ID); after.Status != before.Status || !after.UpdatedAt.Equal(before.UpdatedAt) || after.statuses() != before.statuses() {
		t.Fatalf("%s %s: refused, yet the order changed: %+v, was %+v", r.Request.Method, r.Request.URL.Path, after, before)
	}
}

// TestOrderLifeCycle: staff move an order placed → confirmed → shipped →
// delivered; the customer receives exactly one email per transition (the
// shipped one with the tracking number) and sees four history entries and
// the shipment. Illegal transitions (ship a pending order, cancel a shipped
// one, deliver a cancelled one) are 409 illegal-transition and write
// nothing; a repeat of a transition is 200 with the order unchanged; eight
// ships at once make one transition and one email; a customer's token is
// refused every staff transition; a staff cancel gives the stock back once
// and mails the reason.
func TestOrderLifeCycle(t *testing.T) {
	t.Parallel()
	staff := staffUser(t)
	u := signUp(t, "life")
	admin := func(id, step string) string { return "/v1/admin/orders/" + id + "/" + step }
	ship := map[string]string{"carrier": "DHL", "trackingNumber": "JD014600003828"}

	var placed orderDoc
	call(t, "POST", "/v1/orders", items("ACC-CANISTER", 1), u.bearer()...).Expect(t, 201).JSON(t, &placed)
	o := getOrder(t, u, placed.ID)
	if o.statuses() != "PENDING" || o.Shipment != nil {
		t.Fatalf("a new order: %+v", o)
	}

	for _, step := range []string{"confirm", "ship", "deliver", "cancel"} {
		call(t, "POST", admin(o.ID, step), nil, u.bearer()...).Problem(t, 403, "forbidden")
	}
	call(t, "POST", admin("01ZZZZZZZZZZZZZZZZZZZZZZZZ", "confirm"), nil, staff.bearer()...).Problem(t, 404, "")
	call(t, "POST", admin(o.ID, "ship"), map[string]string{"carrier": " ", "trackingNumber": "no\nbreaks"}, staff.bearer()...).Problem(t, 400, "validation")
	illegal(t, call(t, "POST", admin(o.ID, "ship"), ship, staff.bearer()...), u, o)

	var confirmed lifeOrderDoc
	call(t, "POST", admin(o.ID, "confirm"), nil, staff.bearer()...).Expect(t, 200).JSON(t, &confirmed)
	if confirmed.Status != "CONFIRMED" || confirmed.statuses() != "PENDING,CONFIRMED" {
		t.Fatalf("confirmed: %+v", confirmed)
	}
	var again lifeOrderDoc
	call(t, "POST", admin(o.ID, "confirm"), nil, staff.bearer()...).Expect(t, 200).JSON(t, &again)
	if !again.UpdatedAt.Equal(confirmed.UpdatedAt) || again.statuses() != confirmed.statuses() {
		t.Fatalf("a repeated confirm changed the order: %+v, was %+v", again, confirmed)
	}

	// Eight ships at once with the same body: one transition; the others
	// find it done (200, unchanged) or, mid-way, refused (409).
	const n = 8
	answers := race(n, func() *apitest.Response {
		return call(t, "POST", admin(o.ID, "ship"), ship, staff.bearer()...)
	})
	if won := winners(t, answers, 200, 409); won < 1 {
		t.Fatalf("none of %d concurrent ships succeeded", n)
	}
	shipped := getOrder(t, u, o.ID)
	if shipped.Status != "SHIPPED" || shipped.statuses() != "PENDING,CONFIRMED,SHIPPED" || shipped.Shipment == nil ||
		shipped.Shipment.Carrier != "DHL" || shipped.Shipment.TrackingNumber != "JD014600003828" {
		t.Fatalf("shipped: %+v", shipped)
	}
	illegal(t, call(t, "POST", admin(o.ID, "cancel"), map[string]string{"reason": "Too late."}, staff.bearer()...), u, shipped)
	call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...).Problem(t, 409, "order-not-cancellable")

	call(t, "POST", admin(o.ID, "deliver"), nil, staff.bearer()...).Expect(t, 200)
	delivered := getOrder(t, u, o.ID)
	if delivered.Status != "DELIVERED" || delivered.statuses() != "PENDING,CONFIRMED,SHIPPED,DELIVERED" || delivered.Shipment == nil {
		t.Fatalf("delivered: %+v", delivered)
	}
	for i := 1; i < len(delivered.History); i++ {
		if delivered.History[i].At.Before(delivered.History[i-1].At) {
			t.Fatalf("history out of order: %+v", delivered.History)
		}
	}

	// A staff cancel gives the stock back once; a cancelled order is not
	// delivered.
	var second orderDoc
	before := stock(t, staff, "ACC-CANISTER")
	call(t, "POST", "/v1/orders", items("ACC-CANISTER", 2), u.bearer()...).Expect(t, 201).JSON(t, &second)
	call(t, "POST", admin(second.ID, "cancel"), map[string]string{"reason": ""}, staff.bearer()...).Problem(t, 400, "validation")
	reason := map[string]string{"reason": "The grinder's batch failed our checks."}
	call(t, "POST", admin(second.ID, "cancel"), reason, staff.bearer()...).Expect(t, 200)
	call(t, "POST", admin(second.ID, "cancel"), reason, staff.bearer()...).Expect(t, 200)
	cancelled := getOrder(t, u, second.ID)
	if cancelled.Status != "CANCELLED" || cancelled.statuses() != "PENDING,CANCELLED" {
		t.Fatalf("cancelled by staff: %+v", cancelled)
	}
	if after := stock(t, staff, "ACC-CANISTER"); after != before {
		t.Errorf("stock %d after the order and its cancel (twice), want %d as before", after, before)
	}
	illegal(t, call(t, "POST", admin(second.ID, "deliver"), nil, staff.bearer()...), u, cancelled)

	// One email per transition.
	shippedMail := awaitMail(t, u.Email, o.ID+" shipped")
	if !strings.Contains(shippedMail.Text, "JD014600003828") {
		t.Errorf("the shipped email lacks the tracking number:\n%s", shippedMail.Text)
	}
	shopMail := awaitMail(t, u.Email, second.ID+" cancelled by the shop")
	if !strings.Contains(shopMail.Text, "batch failed our checks") {
		t.Errorf("the shop's cancellation lacks the reason:\n%s", shopMail.Text)
	}
	awaitMail(t, u.Email, o.ID+" is being prepared")
	awaitMail(t, u.Email, o.ID+" delivered")
	for _, subject := range []string{o.ID + " confirmed", o.ID + " is being prepared", o.ID + " shipped", o.ID + " delivered", second.ID + " cancelled by the shop"} {
		if got := len(mailsTo(t, u.Email, subject)); got != 1 {
			t.Errorf("%d emails about %q, want 1", got, subject)
		}
	}
	if got := len(mailsTo(t, u.Email, o.ID+" cancelled")); got != 0 {
		t.Errorf("%d cancellation emails for the delivered order, want 0", got)
	}
}
