//go:build integration

package e2e

import (
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/testcloud"
)

type productDoc struct {
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	UnitPrice   int64  `json:"unitPrice"`
	Currency    string `json:"currency"`
}

func items(pairs ...any) map[string]any {
	var list []map[string]any
	for i := 0; i+1 < len(pairs); i += 2 {
		list = append(list, map[string]any{"sku": pairs[i], "quantity": pairs[i+1]})
	}
	return map[string]any{"items": list}
}

// TestProducts is not parallel: staff's tests change the catalog, which
// changes its ETag, and its 304 is for a catalog that did not change
// between two reads. It runs before the parallel tests resume, and before
// TestSchemathesis's staff run.
func TestProducts(t *testing.T) {
	r := call(t, "GET", "/v1/products", nil).Expect(t, 200)
	var list struct{ Items []productDoc }
	r.JSON(t, &list)
	if len(list.Items) < 30 {
		t.Fatalf("catalog has %d products, want dozens", len(list.Items))
	}
	for _, p := range list.Items {
		if p.UnitPrice <= 0 || p.Currency != "USD" || p.Name == "" || strings.HasPrefix(p.SKU, "LEGACY-") {
			t.Fatalf("listed product %+v", p)
		}
	}
	etag, cc := r.Header.Get("ETag"), r.Header.Get("Cache-Control")
	if etag == "" || !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age") {
		t.Fatalf("ETag %q, Cache-Control %q", etag, cc)
	}
	nm := call(t, "GET", "/v1/products", nil, "If-None-Match", etag)
	nm.Expect(t, 304)
	if len(nm.Body) != 0 {
		t.Fatalf("304 with a body: %s", nm.Body)
	}
	call(t, "GET", "/v1/products", nil, "If-None-Match", `"stale"`).Expect(t, 200)

	one := call(t, "GET", "/v1/products/COF-ESP-250", nil).Expect(t, 200)
	var p productDoc
	one.JSON(t, &p)
	if p.SKU != "COF-ESP-250" || p.UnitPrice != 1290 || one.Header.Get("ETag") == "" {
		t.Fatalf("product = %+v", p)
	}
	call(t, "GET", "/v1/products/COF-ESP-250", nil, "If-None-Match", one.Header.Get("ETag")).Expect(t, 304)
	for _, sku := range []string{"NO-SUCH-SKU", "LEGACY-GRD-OLD", "lower-case", strings.Repeat("A", 40)} {
		call(t, "GET", "/v1/products/"+sku, nil).Problem(t, 404, "")
	}
}

func TestCreateOrderValidation(t *testing.T) {
	t.Parallel()
	u := signUp(t, "orderval")
	for _, tc := range []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"no items", map[string]any{"items": []any{}}, 400, "items"},
		{"zero quantity", items("COF-ESP-250", 0), 400, "items[0].quantity"},
		{"quantity over 100", items("COF-ESP-250", 101), 400, "items[0].quantity"},
		{"fractional quantity", items("COF-ESP-250", 1.5), 400, "items.quantity"},
		{"duplicate sku", items("COF-ESP-250", 1, "BRW-V60-02", 1, "COF-ESP-250", 2), 400, "items[2].sku"},
		{"malformed sku", items("bad sku!", 1), 400, "items[0].sku"},
		{"client price", map[string]any{"items": []map[string]any{{"sku": "COF-ESP-250", "quantity": 1, "unitPrice": 1}}}, 400, "unitPrice"},
		{"client total", map[string]any{"items": []map[string]any{{"sku": "COF-ESP-250", "quantity": 1}}, "total": 1}, 400, "total"},
		{"unknown sku", items("COF-ESP-250", 1, "NO-SUCH-THING", 1), 422, "items[1].sku"},
		{"inactive product", items("LEGACY-MUG-2019", 1), 422, "items[0].sku"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := call(t, "POST", "/v1/orders", tc.body, u.bearer()...).Problem(t, tc.status, "")
			if !slices.Contains(p.Fields(), tc.field) {
				t.Fatalf("problem does not name %q: %+v", tc.field, p.Errors)
			}
		})
	}
	// None of the refused requests stored an order.
	var list struct{ Items []orderDoc }
	call(t, "GET", "/v1/orders", nil, u.bearer()...).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused requests left %d orders", len(list.Items))
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	u := signUp(t, "idem")
	body := items("TEA-SENCHA-100", 3)
	first := call(t, "POST", "/v1/orders", body, append(u.bearer(), "Idempotency-Key", "order-1")...).Expect(t, 201)
	var o orderDoc
	first.JSON(t, &o)
	if first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatal("first response marked as replayed")
	}
	again := call(t, "POST", "/v1/orders", `{ "items" : [ {"quantity":3, "sku":"TEA-SENCHA-100"} ] }`, append(u.bearer(), "Idempotency-Key", "order-1")...).Expect(t, 201)
	if again.Header.Get("Idempotent-Replayed") != "true" || again.Body != first.Body || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay differs: %s %s", again.Header, again.Body)
	}
	call(t, "POST", "/v1/orders", items("TEA-SENCHA-100", 4), append(u.bearer(), "Idempotency-Key", "order-1")...).Problem(t, 422, "idempotency-key-reused")
	call(t, "POST", "/v1/orders", body, append(u.bearer(), "Idempotency-Key", strings.Repeat("k", 256))...).Problem(t, 400, "")

	// Keys are per user: another user's identical key is a new order.
	other := signUp(t, "idem-other")
	var o2 orderDoc
	call(t, "POST", "/v1/orders", body, append(other.bearer(), "Idempotency-Key", "order-1")...).Expect(t, 201).JSON(t, &o2)
	if o2.ID == o.ID {
		t.Fatal("another user's request replayed this user's order")
	}

	// A validation failure does not burn the key.
	call(t, "POST", "/v1/orders", items("NO-SUCH-THING", 1), append(u.bearer(), "Idempotency-Key", "order-2")...).Problem(t, 422, "")
	call(t, "POST", "/v1/orders", items("NO-SUCH-THING", 1), append(u.bearer(), "Idempotency-Key", "order-2")...).Problem(t, 422, "")

	var list struct{ Items []orderDoc }
	call(t, "GET", "/v1/orders", nil, u.bearer()...).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != o.ID {
		t.Fatalf("user has %d orders, want exactly the first", len(list.Items))
	}
}

func TestConcurrentIdenticalRequestsCreateOneOrder(t *testing.T) {
	t.Parallel()
	u := signUp(t, "idemrace")
	const n = 8
	answers := race(n, func() *apitest.Response {
		return call(t, "POST", "/v1/orders", items("COF-ETH-250", 1), append(u.bearer(), "Idempotency-Key", "same-key")...)
	})
	winners(t, answers, 201, 409) // a 409 is a problem document: Client.Do checks
	ids := map[string]bool{}
	for _, r := range answers {
		if r.StatusCode == 201 {
			var o orderDoc
			r.JSON(t, &o)
			ids[o.ID] = true
		}
	}
	var list struct{ Items []orderDoc }
	call(t, "GET", "/v1/orders", nil, u.bearer()...).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 1 || len(ids) != 1 || !ids[list.Items[0].ID] {
		t.Fatalf("%d orders stored, %d distinct ids answered; want one", len(list.Items), len(ids))
	}
}

func TestListOrdersPaginationAndIsolation(t *testing.T) {
	t.Parallel()
	u := signUp(t, "list")
	other := signUp(t, "list-other")
	call(t, "POST", "/v1/orders", items("MERCH-TOTE", 1), other.bearer()...).Expect(t, 201)
	var created []string
	for i := range 7 {
		var o orderDoc
		call(t, "POST", "/v1/orders", items("CUP-ESP-2", i+1), u.bearer()...).Expect(t, 201).JSON(t, &o)
		created = append(created, o.ID)
	}
	var seen []string
	cursor := ""
	var firstCursor string
	for page := 0; ; page++ {
		path := "/v1/orders?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var list struct {
			Items      []orderDoc
			NextCursor *string
		}
		call(t, "GET", path, nil, u.bearer()...).Expect(t, 200).JSON(t, &list)
		for _, o := range list.Items {
			seen = append(seen, o.ID)
		}
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
		if firstCursor == "" {
			firstCursor = cursor
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != len(created) {
		t.Fatalf("listed %d orders, created %d", len(seen), len(created))
	}
	for i := range seen {
		if seen[i] != created[len(created)-1-i] {
			t.Fatalf("listing is not newest first: %v vs created %v", seen, created)
		}
	}
	tampered := []byte(firstCursor)
	tampered[len(tampered)-2] ^= 1
	for name, path := range map[string]string{
		"tampered cursor":       "/v1/orders?cursor=" + url.QueryEscape(string(tampered)),
		"another user's cursor": "/v1/orders?cursor=" + url.QueryEscape(firstCursor),
		"garbage cursor":        "/v1/orders?cursor=abc",
		"limit zero":            "/v1/orders?limit=0",
		"limit too large":       "/v1/orders?limit=101",
		"limit not a number":    "/v1/orders?limit=ten",
	} {
		t.Run(name, func(t *testing.T) {
			caller := u
			if name == "another user's cursor" {
				caller = other
			}
			call(t, "GET", path, nil, caller.bearer()...).Problem(t, 400, "")
		})
	}
}

func TestGetAndCancelOrder(t *testing.T) {
	t.Parallel()
	u := signUp(t, "cancel")
	other := signUp(t, "cancel-other")
	var o orderDoc
	call(t, "POST", "/v1/orders", items("GRD-HAND-C40", 1, "BRW-FILT-100", 2), u.bearer()...).Expect(t, 201).JSON(t, &o)

	call(t, "GET", "/v1/orders/"+o.ID, nil, other.bearer()...).Problem(t, 404, "")
	call(t, "GET", "/v1/orders/01ZZZZZZZZZZZZZZZZZZZZZZZZ", nil, u.bearer()...).Problem(t, 404, "")
	call(t, "GET", "/v1/orders/not-an-id", nil, u.bearer()...).Problem(t, 404, "")
	call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, other.bearer()...).Problem(t, 404, "")

	// Concurrent cancels: one wins, the rest are told it is no longer cancellable.
	const n = 5
	answers := race(n, func() *apitest.Response {
		return call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...)
	})
	if won := winners(t, answers, 200, 409); won != 1 {
		t.Fatalf("%d of %d concurrent cancels succeeded, want 1", won, n)
	}
	var got orderDoc
	call(t, "GET", "/v1/orders/"+o.ID, nil, u.bearer()...).Expect(t, 200).JSON(t, &got)
	if got.Status != "CANCELLED" || !got.UpdatedAt.After(got.CreatedAt) {
		t.Fatalf("after cancel: %+v", got)
	}
	call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...).Problem(t, 409, "order-not-cancellable")

	// Exactly one confirmation and one cancellation email, with the order's content.
	confirmation := awaitMail(t, u.Email, o.ID+" confirmed")
	cancellation := awaitMail(t, u.Email, o.ID+" cancelled")
	for _, want := range []string{"Hand Grinder", "Paper Filters, 100 pack", "$262.00"} {
		if !strings.Contains(cancellation.Text, want) || !strings.Contains(cancellation.HTML, want) {
			t.Errorf("cancellation email lacks %q:\n%s", want, cancellation.Text)
		}
		if !strings.Contains(confirmation.Text, want) {
			t.Errorf("confirmation email lacks %q", want)
		}
	}
	if c, x := len(mailsTo(t, u.Email, o.ID+" confirmed")), len(testcloud.MailTo(t, u.Email, o.ID+" cancelled")); c != 1 || x != 1 {
		t.Fatalf("%d confirmations and %d cancellations, want one each", c, x)
	}
}

// TestReorder places a cancelled order again through the gateway: a new
// order with the same items, its own confirmation email, and a replay for a
// retry with the same Idempotency-Key.
func TestReorder(t *testing.T) {
	t.Parallel()
	u := signUp(t, "reorder")
	other := signUp(t, "reorder-other")
	var o orderDoc
	call(t, "POST", "/v1/orders", items("TEA-SENCHA-100", 2, "BRW-FILT-100", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
	call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...).Expect(t, 200)

	path := "/v1/orders/" + o.ID + "/reorder"
	call(t, "POST", path, nil).Problem(t, 401, "")
	call(t, "POST", path, nil, other.bearer()...).Problem(t, 404, "")
	first := call(t, "POST", path, nil, append(u.bearer(), "Idempotency-Key", "reorder-1")...).Expect(t, 201)
	again := call(t, "POST", path, nil, append(u.bearer(), "Idempotency-Key", "reorder-1")...).Expect(t, 201)
	var n orderDoc
	first.JSON(t, &n)
	if n.ID == o.ID || n.Status != "PENDING" || !reflect.DeepEqual(n.Items, o.Items) || n.Total != o.Total {
		t.Fatalf("reorder of %+v placed %+v", o, n)
	}
	if first.Header.Get("Location") != "/v1/orders/"+n.ID || again.Header.Get("Idempotent-Replayed") != "true" || again.Body != first.Body {
		t.Fatalf("retry: replayed %q, body %s; want the first answer %s replayed", again.Header.Get("Idempotent-Replayed"), again.Body, first.Body)
	}
	awaitMail(t, u.Email, n.ID+" confirmed")
	if c := len(mailsTo(t, u.Email, n.ID+" confirmed")); c != 1 {
		t.Fatalf("%d confirmations of the new order, want 1", c)
	}
}

func TestOrderEmailEscapesCustomerInput(t *testing.T) {
	t.Parallel()
	u := user{Email: uniqueEmail(t, "xss"), Name: `<script>alert("x")</script> & Co`, Password: "correct horse battery staple"}
	call(t, "POST", "/v1/auth/register", map[string]string{"email": u.Email, "password": u.Password, "name": u.Name}).Expect(t, 201)
	// The verification email goes to an address nobody has proved yet: it
	// shows no name at all.
	verification := awaitMail(t, u.Email, verificationSubject)
	if strings.Contains(verification.HTML, "script") || strings.Contains(verification.Text, "script") {
		t.Fatalf("the verification email shows the name the registrant chose:\n%s", verification.HTML)
	}
	verifyEmailAt(t, u.Email)
	u.login(t)
	var o orderDoc
	call(t, "POST", "/v1/orders", items("MERCH-APRON", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
	m := awaitMail(t, u.Email, o.ID)
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Fatalf("customer name not escaped in HTML part:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, u.Name) {
		t.Fatalf("text part lacks the name as typed:\n%s", m.Text)
	}
}

// TestOrderQuotaLimitsOrdersNotTheirEmails: a customer places their hour's
// quota of orders; the next is refused with 429 and Retry-After, and every
// order that was acknowledged is mailed. (The local deploy lowers the
// quota, a template parameter, so that a test can reach it.)
func TestOrderQuotaLimitsOrdersNotTheirEmails(t *testing.T) {
	t.Parallel()
	quota, err := strconv.Atoi(output(t, "OrdersPerHour"))
	if err != nil || quota > 50 {
		t.Fatalf("OrdersPerHour output %q: deploy with a quota of at most 50 (localstack/deploy.sh does)", output(t, "OrdersPerHour"))
	}
	u := signUp(t, "quota")
	// The quota's windows are the clock's hours: start well inside one.
	wellInsideTheHour(2 * time.Minute)
	ids := make([]string, quota)
	for i := range quota {
		var o orderDoc
		call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
		ids[i] = o.ID
	}
	r := call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), u.bearer()...)
	r.Problem(t, 429, "order-quota")
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 3600 {
		t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
	// Another customer is not affected.
	other := signUp(t, "quota-other")
	call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), other.bearer()...).Expect(t, 201)
	// Every acknowledged order gets its email.
	awaitEventsSettled(t)
	for _, id := range ids {
		testcloud.Eventually(t, time.Minute, "the confirmation of order "+id, func() bool {
			return len(testcloud.MailTo(t, u.Email, id+" confirmed")) == 1
		})
	}
}
