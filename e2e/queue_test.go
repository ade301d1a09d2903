//go:build integration

package e2e

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// staffOrderDoc is an order as staff's queue shows it.
type staffOrderDoc struct {
	lifeOrderDoc
	Customer struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"customer"`
}

// entered is when the order entered its status: its last history entry.
func (o staffOrderDoc) entered() time.Time { return o.History[len(o.History)-1].At }

// TestStaffQueuePagesWhileOrdersArrive: staff page through the queue of
// CONFIRMED orders, 250 of this test's among the other tests', oldest
// first by the time each was confirmed, while more orders are confirmed
// and some shipped between the pages: every order confirmed before the
// first page and still confirmed after the last is listed exactly once,
// in the order they were confirmed; none is listed twice; a customer's
// token is refused the queue. make test runs it after the launch-day
// checks, on their local cloud: its 500 emails would hold up the other
// tests' mail.
func TestStaffQueuePagesWhileOrdersArrive(t *testing.T) {
	t.Parallel()
	const total, perBuyer, pageSize = 250, 20, 25 // perBuyer: the local cloud's OrdersPerHour
	staff := staffUser(t)
	buyers := make([]user, (total+perBuyer-1)/perBuyer+1) // the last one places the orders that arrive
	t.Run("sign up", func(t *testing.T) {
		for i := range buyers {
			t.Run(fmt.Sprint(i), func(t *testing.T) { t.Parallel(); buyers[i] = signUp(t, "queue") })
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	place := func(t *testing.T, u user) string {
		t.Helper()
		var o orderDoc
		call(t, "POST", "/v1/orders", items("COF-ETH-250", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
		call(t, "POST", "/v1/admin/orders/"+o.ID+"/confirm", nil, staff.bearer()...).Expect(t, 200)
		return o.ID
	}
	ids := make([][]string, len(buyers)-1)
	t.Run("place and confirm", func(t *testing.T) {
		for i := range ids {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				for range min(perBuyer, total-i*perBuyer) {
					ids[i] = append(ids[i], place(t, buyers[i]))
				}
			})
		}
	})
	if t.Failed() {
		t.FailNow()
	}
	mine := map[string]bool{} // confirmed before the first page
	for _, list := range ids {
		for _, id := range list {
			mine[id] = true
		}
	}
	call(t, "GET", "/v1/admin/orders?status=CONFIRMED", nil, buyers[0].bearer()...).Problem(t, 403, "forbidden")

	seen, shipped := map[string]int{}, map[string]bool{}
	var listed []staffOrderDoc
	target := "/v1/admin/orders?status=CONFIRMED&limit=" + fmt.Sprint(pageSize)
	for pages := 0; ; pages++ {
		var page struct {
			Items      []staffOrderDoc `json:"items"`
			NextCursor *string         `json:"nextCursor"`
		}
		call(t, "GET", target, nil, staff.bearer()...).Expect(t, 200).JSON(t, &page)
		for _, o := range page.Items {
			seen[o.ID]++
			listed = append(listed, o)
			if o.Status != "CONFIRMED" || o.Customer.ID == "" {
				t.Errorf("page %d lists %s %s of %q", pages, o.ID, o.Status, o.Customer.ID)
			}
		}
		if page.NextCursor == nil {
			break
		}
		if pages > 10*total/pageSize {
			t.Fatal("the pages do not end")
		}
		// Between two pages an order arrives, and one of this test's
		// leaves the queue.
		if pages < perBuyer {
			place(t, buyers[len(buyers)-1])
		}
		if leaving := ids[pages%len(ids)][pages/len(ids)]; !shipped[leaving] {
			call(t, "POST", "/v1/admin/orders/"+leaving+"/ship", map[string]string{"carrier": "UPS", "trackingNumber": "1Z999AA1012345678" + fmt.Sprint(pages%10)}, staff.bearer()...).Expect(t, 200)
			shipped[leaving] = true
		}
		target = "/v1/admin/orders?status=CONFIRMED&limit=" + fmt.Sprint(pageSize) + "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s listed %d times", id, n)
		}
	}
	stayed := 0
	for id := range mine {
		if !shipped[id] {
			stayed++
			if seen[id] != 1 {
				t.Errorf("%s, confirmed before the first page and still confirmed, listed %d times", id, seen[id])
			}
		}
	}
	for i := 1; i < len(listed); i++ {
		if listed[i].entered().Before(listed[i-1].entered()) {
			t.Errorf("%s (confirmed %s) listed after %s (confirmed %s): not oldest first", listed[i].ID, listed[i].entered(), listed[i-1].ID, listed[i-1].entered())
		}
	}
	t.Logf("%d orders listed in the queue, %d of them this test's that stayed confirmed (%d shipped while paging)", len(listed), stayed, len(shipped))
}
