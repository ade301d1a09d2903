package events_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

const (
	orderFixture   = "testdata/order_created_v1.json"
	accountFixture = "testdata/account_verification_requested.json"
	shippedFixture = "testdata/order_shipped.json"
	shopFixture    = "testdata/order_cancelled_by_shop.json"
)

func fixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edited returns the fixture at path after edit has changed its generic
// JSON form.
func edited(t testing.TB, path string, edit func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(fixture(t, path), &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// member is the object ev[name]; item is line i of the order.
func member(ev map[string]any, name string) map[string]any { return ev[name].(map[string]any) }
func item(ev map[string]any, i int) map[string]any {
	return member(ev, "order")["items"].([]any)[i].(map[string]any)
}

// lines returns n consistent order lines and their total.
func lines(n int) ([]any, float64) {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"sku": "SKU", "name": "n", "quantity": 1, "unitPrice": 100, "lineTotal": 100}
	}
	return out, float64(100 * n)
}

// TestParseFixtures: every fixture in testdata (which other packages' tests
// read) parses; those below parse to the event given, and are the wire
// format exactly: marshalling the event gives the fixture back, and that
// parses to the same event.
func TestParseFixtures(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)
	verifyAt := time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)
	day := func(d, h, m int) time.Time { return time.Date(2025, time.March, d, h, m, 0, 0, time.UTC) }
	wants := map[string]events.Event{
		orderFixture: events.OrderEvent{
			Header: events.Header{Type: events.OrderCreated, Version: events.Version, ID: "01JPB3V8Q4EVT0000000000001",
				OccurredAt: at, CorrelationID: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"},
			Order: events.Order{ID: "01JPB3V8Q4ORD0000000000001", Status: "PENDING", Total: 4499, Currency: "EUR", CreatedAt: at, UpdatedAt: at,
				Items: []events.Line{
					{SKU: "MUG-001", Name: "Coffee mug", Quantity: 2, UnitPrice: 1250, LineTotal: 2500},
					{SKU: "TEE-042", Name: "T-shirt (large)", Quantity: 1, UnitPrice: 1999, LineTotal: 1999},
					{SKU: "GIFT-0", Name: "Gift wrap", Quantity: 1, UnitPrice: 0, LineTotal: 0},
				}},
			Customer: events.Customer{ID: "user-1", Email: "ada@example.com", Name: "Ada Lovelace"},
		},
		shippedFixture: events.OrderEvent{
			Header: events.Header{Type: events.OrderShipped, Version: events.Version, ID: "01JEVT0SHIPPED0000000000001",
				OccurredAt: day(17, 8, 0), CorrelationID: "corr-shipped-1"},
			Order: events.Order{ID: "01JORD0000000000000000003", Status: events.StatusShipped, Total: 4499, Currency: "USD",
				CreatedAt: day(16, 7, 0), UpdatedAt: day(17, 8, 0),
				Items: []events.Line{
					{SKU: "MUG-001", Name: "Coffee mug", Quantity: 2, UnitPrice: 1250, LineTotal: 2500},
					{SKU: "TEE-042", Name: "T-shirt (large)", Quantity: 1, UnitPrice: 1999, LineTotal: 1999},
				},
				Shipment: &events.Shipment{Carrier: "UPS", TrackingNumber: "1Z999AA10123456784"},
				History: []events.StatusChange{
					{Status: events.StatusPending, At: day(16, 7, 0)}, {Status: events.StatusConfirmed, At: day(16, 9, 30)},
					{Status: events.StatusShipped, At: day(17, 8, 0)},
				}},
			Customer: events.Customer{ID: "user-1", Email: "ada@example.com", Name: "Ada Lovelace"},
		},
		shopFixture: events.OrderEvent{
			Header: events.Header{Type: events.OrderCancelled, Version: events.Version, ID: "01JEVT0CANCELLEDSHOP0000001",
				OccurredAt: day(16, 10, 15), CorrelationID: "corr-cancelled-shop-1"},
			Order: events.Order{ID: "01JORD0000000000000000004", Status: events.StatusCancelled, Total: 8900, Currency: "EUR",
				CreatedAt: day(16, 7, 0), UpdatedAt: day(16, 10, 15),
				Items: []events.Line{{SKU: "PEN-1", Name: "Fountain pen", Quantity: 1, UnitPrice: 8900, LineTotal: 8900}},
				History: []events.StatusChange{
					{Status: events.StatusPending, At: day(16, 7, 0)}, {Status: events.StatusConfirmed, At: day(16, 9, 30)},
					{Status: events.StatusCancelled, At: day(16, 10, 15)},
				}},
			Customer:    events.Customer{ID: "user-2", Email: "grace@example.com", Name: "Grace Hopper"},
			CancelledBy: events.CancelledByStaff,
			Reason:      "The pen's nib arrived damaged from our supplier & we have no other in stock.",
		},
		accountFixture: events.AccountEvent{
			Header: events.Header{Type: events.AccountVerificationRequested, Version: events.Version, ID: "01JEVT0VERIFY0000000000001",
				OccurredAt: verifyAt, CorrelationID: "corr-verify-1"},
			Account: events.Account{ID: "01JUSR0000000000000000001", Email: "ada@example.com"},
			Link:    events.Link{SealedToken: []byte("sealed:verify-token"), ExpiresAt: verifyAt.Add(24 * time.Hour)},
		},
	}
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) < len(wants) {
		t.Fatalf("fixtures in testdata/: %v, %v", paths, err)
	}
	for _, path := range paths {
		b := fixture(t, path)
		got, err := events.Parse(b)
		if err != nil {
			t.Errorf("Parse(%s): %v", path, err)
			continue
		}
		want, ok := wants[path]
		if !ok {
			continue
		}
		out, _ := json.Marshal(got)
		again, err := events.Parse(out)
		var fromFile, fromGo any
		_ = json.Unmarshal(b, &fromFile)
		_ = json.Unmarshal(out, &fromGo)
		if !reflect.DeepEqual(got, want) || got.Head() != want.Head() || err != nil || !reflect.DeepEqual(again, want) || !reflect.DeepEqual(fromFile, fromGo) {
			t.Errorf("Parse(%s) =\n%+v\nwant\n%+v\nmarshalled (%v):\n%s", path, got, want, err, out)
		}
		if e, ok := got.(events.OrderEvent); ok && e.ByStaff() != (path == shopFixture) {
			t.Errorf("Parse(%s).ByStaff() = %v", path, e.ByStaff())
		}
	}
}

// parseCase is an input of Parse and part of its error ("": accepted).
type parseCase struct {
	name     string
	data     []byte
	wantText string
}

// parseCases are what TestParse checks Parse accepts, and what it rejects
// with which reason; they seed FuzzParse.
func parseCases(tb testing.TB) []parseCase {
	edit := func(f func(ev map[string]any)) []byte { return edited(tb, orderFixture, f) }
	account := func(f func(ev map[string]any)) []byte { return edited(tb, accountFixture, f) }
	raw := func(s string) []byte { return []byte(s) }
	withSuffix := func(s string) []byte { return append(fixture(tb, orderFixture), s...) } // a fresh copy each time
	size := len(fixture(tb, orderFixture))
	order := func(ev map[string]any) map[string]any { return member(ev, "order") }
	customer := func(ev map[string]any) map[string]any { return member(ev, "customer") }
	link := func(ev map[string]any) map[string]any { return member(ev, "link") }
	shipped := func(f func(ev map[string]any)) []byte { return edited(tb, shippedFixture, f) }
	shop := func(f func(ev map[string]any)) []byte { return edited(tb, shopFixture, f) }
	shipment := func(ev map[string]any) map[string]any { return member(member(ev, "order"), "shipment") }
	history := func(ev map[string]any) []any { return member(ev, "order")["history"].([]any) }
	entry := func(ev map[string]any, i int) map[string]any { return history(ev)[i].(map[string]any) }
	as := func(typ, status string) func(ev map[string]any) { // the shipped fixture as another type
		return func(ev map[string]any) {
			ev["type"], order(ev)["status"] = typ, status
			delete(order(ev), "shipment")
			delete(order(ev), "history")
		}
	}

	return []parseCase{
		{name: "cancelled", data: edit(func(ev map[string]any) { ev["type"] = events.OrderCancelled; order(ev)["status"] = "CANCELLED" })},
		{name: "unknown fields everywhere", data: edit(func(ev map[string]any) {
			ev["source"] = "orders"
			ev["traceparent"] = map[string]any{"id": "x"}
			order(ev)["discountCode"] = "SPRING"
			item(ev, 0)["colour"] = "blue"
			customer(ev)["locale"] = "de-DE"
		})},
		{name: "no correlation id or names", data: edit(func(ev map[string]any) {
			delete(ev, "correlationId")
			delete(customer(ev), "name")
			delete(item(ev, 0), "name")
		})},
		{name: "maximum number of lines", data: edit(func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = lines(100) })},
		{name: "id of 128 characters", data: edit(func(ev map[string]any) { ev["id"] = strings.Repeat("a", 128) })},
		{name: "surrounding whitespace", data: append([]byte("\n  "), withSuffix(" \n\t")...)},
		{name: "exactly MaxBytes", data: withSuffix(strings.Repeat(" ", events.MaxBytes-size))},
		// An event of a producer of before, with account.name: the field is
		// unknown now.
		{name: "account event with a name", data: account(func(ev map[string]any) { member(ev, "account")["name"] = "Ada" })},

		// The order's life cycle.
		{name: "confirmed", data: shipped(as(events.OrderConfirmed, "CONFIRMED"))},
		{name: "delivered without a shipment", data: shipped(as(events.OrderDelivered, "DELIVERED"))},
		{name: "delivered with its shipment", data: shipped(func(ev map[string]any) {
			ev["type"], order(ev)["status"] = events.OrderDelivered, "DELIVERED"
			history(ev)[2] = map[string]any{"status": "DELIVERED", "at": "2025-03-19T14:45:00Z"}
		})},
		{name: "shipped without a history", data: shipped(func(ev map[string]any) { delete(order(ev), "history") })},
		{name: "shipped with an empty history", data: shipped(func(ev map[string]any) { order(ev)["history"] = []any{} })},
		{name: "carrier and tracking number at their bounds", data: shipped(func(ev map[string]any) {
			shipment(ev)["carrier"] = strings.Repeat("ü", events.MaxCarrier)
			shipment(ev)["trackingNumber"] = strings.Repeat("A-1 ./", events.MaxTrackingNumber/6) + "9999"
		})},
		{name: "carrier of several words", data: shipped(func(ev map[string]any) { shipment(ev)["carrier"] = "Royal Mail (Tracked 48)" })},
		{name: "history entries at the same instant", data: shipped(func(ev map[string]any) { entry(ev, 1)["at"] = entry(ev, 0)["at"] })},
		{name: "cancelled by the customer", data: shop(func(ev map[string]any) { ev["cancelledBy"] = "customer"; delete(ev, "reason") })},
		{name: "cancelled by the customer with a reason", data: shop(func(ev map[string]any) { ev["cancelledBy"] = "customer" })},
		{name: "cancelled by no one said, with a reason", data: shop(func(ev map[string]any) { delete(ev, "cancelledBy") })},
		{name: "reason at its bound", data: shop(func(ev map[string]any) { ev["reason"] = strings.Repeat("é", events.MaxReason) })},
		{name: "reason with markup", data: shop(func(ev map[string]any) { ev["reason"] = `<script>alert("x")</script> & more` })},

		{name: "shipped without a shipment", data: shipped(func(ev map[string]any) { delete(order(ev), "shipment") }), wantText: "order.shipment is missing"},
		{name: "shipment empty", data: shipped(func(ev map[string]any) { order(ev)["shipment"] = map[string]any{} }), wantText: "order.shipment.carrier"},
		{name: "shipment not an object", data: shipped(func(ev map[string]any) { order(ev)["shipment"] = "UPS 1Z" }), wantText: "cannot unmarshal"},
		{name: "carrier too long", data: shipped(func(ev map[string]any) { shipment(ev)["carrier"] = strings.Repeat("ü", events.MaxCarrier+1) }), wantText: "order.shipment.carrier"},
		{name: "carrier with a line break", data: shipped(func(ev map[string]any) { shipment(ev)["carrier"] = "UPS\r\nBcc: x@y" }), wantText: "order.shipment.carrier"},
		{name: "carrier with surrounding space", data: shipped(func(ev map[string]any) { shipment(ev)["carrier"] = " UPS" }), wantText: "order.shipment.carrier"},
		{name: "carrier all spaces", data: shipped(func(ev map[string]any) { shipment(ev)["carrier"] = "   " }), wantText: "order.shipment.carrier"},
		{name: "tracking number missing", data: shipped(func(ev map[string]any) { delete(shipment(ev), "trackingNumber") }), wantText: "order.shipment.trackingNumber"},
		{name: "tracking number too long", data: shipped(func(ev map[string]any) {
			shipment(ev)["trackingNumber"] = strings.Repeat("1", events.MaxTrackingNumber+1)
		}), wantText: "order.shipment.trackingNumber"},
		{name: "tracking number with a URL's specials", data: shipped(func(ev map[string]any) { shipment(ev)["trackingNumber"] = "1Z?a=b&c#d" }), wantText: "order.shipment.trackingNumber"},
		{name: "shipment before it shipped", data: shipped(func(ev map[string]any) {
			ev["type"], order(ev)["status"] = events.OrderConfirmed, "CONFIRMED"
			delete(order(ev), "history")
		}), wantText: "order.shipment before the order shipped"},
		{name: "shipped of another status", data: shipped(func(ev map[string]any) { order(ev)["status"] = "DELIVERED" }), wantText: "order.status of order.shipped is not SHIPPED"},
		{name: "created of another status", data: edit(func(ev map[string]any) { order(ev)["status"] = "CONFIRMED" }), wantText: "order.status of order.created is not PENDING"},
		{name: "status in lower case", data: shipped(func(ev map[string]any) { order(ev)["status"] = "shipped" }), wantText: "order.status"},
		{name: "history of an unknown status", data: shipped(func(ev map[string]any) { entry(ev, 1)["status"] = "PACKED" }), wantText: "order.history[1]"},
		{name: "history entry without a time", data: shipped(func(ev map[string]any) { delete(entry(ev, 1), "at") }), wantText: "order.history[1]"},
		{name: "history newest first", data: shipped(func(ev map[string]any) { entry(ev, 0)["at"] = "2025-03-18T00:00:00Z" }), wantText: "order.history[1]"},
		{name: "history not ending with the status", data: shipped(func(ev map[string]any) {
			order(ev)["history"] = history(ev)[:2]
		}), wantText: "order.history does not end with order.status"},
		{name: "history too long", data: shipped(func(ev map[string]any) {
			order(ev)["history"] = slices.Repeat([]any{entry(ev, 2)}, 17)
		}), wantText: "order.history has more than 16 entries"},
		{name: "cancelled by staff without a reason", data: shop(func(ev map[string]any) { delete(ev, "reason") }), wantText: "reason is missing"},
		{name: "reason all spaces", data: shop(func(ev map[string]any) { ev["reason"] = "  " }), wantText: "reason is missing or malformed"},
		{name: "reason too long", data: shop(func(ev map[string]any) { ev["reason"] = strings.Repeat("é", events.MaxReason+1) }), wantText: "reason is missing or malformed"},
		{name: "reason over lines", data: shop(func(ev map[string]any) { ev["reason"] = "Damaged.\nBcc: x@y" }), wantText: "reason is missing or malformed"},
		{name: "cancelled by someone else", data: shop(func(ev map[string]any) { ev["cancelledBy"] = "Staff" }), wantText: `cancelledBy "Staff" is neither`},
		{name: "cancelledBy not a string", data: shop(func(ev map[string]any) { ev["cancelledBy"] = true }), wantText: "cannot unmarshal"},
		{name: "a reason to ship", data: shipped(func(ev map[string]any) { ev["reason"] = "because" }), wantText: "cancelledBy and reason belong to order.cancelled"},
		{name: "created by staff", data: edit(func(ev map[string]any) { ev["cancelledBy"] = "staff" }), wantText: "cancelledBy and reason belong to order.cancelled"},

		// Envelope.
		{name: "unknown type", data: edit(func(ev map[string]any) { ev["type"] = "order.refunded" }), wantText: `unknown type "order.refunded"`},
		{name: "version 2", data: edit(func(ev map[string]any) { ev["version"] = 2 }), wantText: "unsupported version 2"},
		{name: "missing id", data: edit(func(ev map[string]any) { delete(ev, "id") }), wantText: "id is missing"},
		{name: "id with a space", data: edit(func(ev map[string]any) { ev["id"] = "ev 1" }), wantText: "id is missing or malformed"},
		{name: "id too long", data: edit(func(ev map[string]any) { ev["id"] = strings.Repeat("a", 129) }), wantText: "id is missing or malformed"},
		{name: "occurredAt missing", data: edit(func(ev map[string]any) { delete(ev, "occurredAt") }), wantText: "occurredAt is missing"},
		{name: "occurredAt not RFC 3339", data: edit(func(ev map[string]any) { ev["occurredAt"] = "14/03/2025" }), wantText: "parsing time"},

		// Order.
		{name: "order missing", data: edit(func(ev map[string]any) { delete(ev, "order") }), wantText: "order.id"},
		{name: "currency lower case", data: edit(func(ev map[string]any) { order(ev)["currency"] = "eur" }), wantText: "currency"},
		{name: "total not the sum", data: edit(func(ev map[string]any) { order(ev)["total"] = 4500 }), wantText: "order.total is not the sum"},
		{name: "lines adding up past int64, total wrapped around", data: raw(overflowingOrder), wantText: "order.items add up to more than a total can hold"},
		{name: "line total inconsistent", data: edit(func(ev map[string]any) {
			item(ev, 0)["lineTotal"] = 2499
			order(ev)["total"] = 4498 // the sum stays right: only the line is wrong
		}), wantText: "order.items[0] is inconsistent"},
		{name: "quantity zero", data: edit(func(ev map[string]any) {
			item(ev, 1)["quantity"], item(ev, 1)["lineTotal"] = 0, 0
			order(ev)["total"] = 2500
		}), wantText: "order.items[1] is inconsistent"},
		{name: "unit price negative", data: edit(func(ev map[string]any) {
			item(ev, 1)["unitPrice"], item(ev, 1)["lineTotal"] = -1999, -1999
			order(ev)["total"] = 501
		}), wantText: "order.items[1] is inconsistent"},
		{name: "sku missing", data: edit(func(ev map[string]any) { delete(item(ev, 2), "sku") }), wantText: "order.items[2] is inconsistent"},
		{name: "zero items", data: edit(func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = []any{}, 0 }), wantText: "order.items must have 1 to 100 lines"},
		{name: "too many items", data: edit(func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = lines(101) }), wantText: "order.items must have 1 to 100 lines"},
		{name: "fractional quantity", data: edit(func(ev map[string]any) { item(ev, 0)["quantity"] = 1.5 }), wantText: "quantity"},

		// Customer.
		{name: "customer id missing", data: edit(func(ev map[string]any) { delete(customer(ev), "id") }), wantText: "customer.id"},
		{name: "email without @", data: edit(func(ev map[string]any) { customer(ev)["email"] = "ada.example.com" }), wantText: "customer.email"},
		{name: "email too long", data: edit(func(ev map[string]any) { customer(ev)["email"] = strings.Repeat("a", 250) + "@x.io" }), wantText: "customer.email"},
		{name: "name with a noncharacter", data: edit(func(ev map[string]any) { customer(ev)["name"] = "Ada\uffff" }), wantText: "customer.name"},
		{name: "email with a control character", data: edit(func(ev map[string]any) { customer(ev)["email"] = "ada\u0000@example.com" }), wantText: "customer.email"},
		{name: "line name with a bidi override", data: edit(func(ev map[string]any) { item(ev, 0)["name"] = "Mug\u202e" }), wantText: "order.items[0]"},

		// Account.
		{name: "account missing", data: account(func(ev map[string]any) { delete(ev, "account") }), wantText: "account.id"},
		{name: "account email without @", data: account(func(ev map[string]any) { member(ev, "account")["email"] = "ada.example.com" }), wantText: "account.email"},
		{name: "no sealed token", data: account(func(ev map[string]any) { delete(link(ev), "sealedToken") }), wantText: "link.sealedToken"},
		{name: "sealed token not base64", data: account(func(ev map[string]any) { link(ev)["sealedToken"] = "not base64!" }), wantText: "illegal base64"},
		{name: "sealed token too long", data: account(func(ev map[string]any) { link(ev)["sealedToken"] = strings.Repeat("QUFB", 1366) }), wantText: "link.sealedToken"},
		{name: "no expiry", data: account(func(ev map[string]any) { delete(link(ev), "expiresAt") }), wantText: "link.expiresAt"},
		{name: "expires before it occurred", data: account(func(ev map[string]any) { link(ev)["expiresAt"] = "2025-03-14T09:26:52Z" }), wantText: "link.expiresAt"},
		{name: "account event of an order type", data: account(func(ev map[string]any) { ev["type"] = events.OrderCreated }), wantText: "order.id"},

		// Size and framing.
		{name: "too large", data: withSuffix(strings.Repeat(" ", events.MaxBytes-size+1)), wantText: "exceeds"},
		{name: "trailing second event", data: withSuffix(string(fixture(tb, orderFixture))), wantText: "trailing data"},
		{name: "trailing garbage", data: withSuffix("garbage"), wantText: "trailing data"},
		{name: "not JSON", data: raw("order created"), wantText: "invalid character"},
		{name: "empty", data: raw(""), wantText: "EOF"},
		{name: "empty object", data: raw(`{}`), wantText: "unknown type"},
		{name: "truncated", data: fixture(tb, orderFixture)[:size/2], wantText: "unexpected EOF"},
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range parseCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := events.Parse(tc.data)
			if tc.wantText == "" {
				if err != nil {
					t.Errorf("Parse: %v", err)
				}
				return
			}
			if !errors.Is(err, events.ErrInvalid) || ev != nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Parse = %+v, %v; want ErrInvalid mentioning %q", ev, err, tc.wantText)
			}
		})
	}
}

// TestValidateListsEveryProblem checks that one error names all that is
// wrong, so one poison message explains itself in one log line.
func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	err := events.OrderEvent{Header: events.Header{Type: "x", Version: 2}}.Validate()
	for _, want := range []string{"unknown type", "unsupported version 2", "id is missing", "occurredAt is missing", "order.id", "order.currency", "order.items", "customer.id", "customer.email"} {
		if !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not mention %q", err, want)
		}
	}
}

// TestAccountEventCarriesNoName: no account event written today carries a
// name: an account email may go to an address nobody has proved, and shows
// no text the registrant chose.
func TestAccountEventCarriesNoName(t *testing.T) {
	t.Parallel()
	e, err := events.Parse(edited(t, accountFixture, func(ev map[string]any) { member(ev, "account")["name"] = "Pay at https://evil.example" }))
	if out, _ := json.Marshal(e); err != nil || strings.Contains(string(out), "evil") || strings.Contains(string(out), `"name"`) {
		t.Errorf("the account event carries a name (%v): %s", err, out)
	}
}

// resetEvent is a valid password reset event.
func resetEvent() events.AccountEvent {
	return events.AccountEvent{
		Header:  events.Header{Type: events.AccountPasswordResetRequested, Version: events.Version, ID: "ev-1", OccurredAt: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)},
		Account: events.Account{ID: "u-1", Email: "ada@example.com"},
		Link:    events.Link{SealedToken: []byte("sealed"), ExpiresAt: time.Date(2025, 3, 14, 9, 56, 53, 500, time.UTC)},
	}
}

func TestSealContextNamesTheEvent(t *testing.T) {
	t.Parallel()
	e := resetEvent()
	e.Link.ExpiresAt = time.Date(2025, time.March, 14, 9, 56, 53, 123456789, time.FixedZone("CET", 3600))
	want := map[string]string{
		"eventType": events.AccountPasswordResetRequested, "eventId": "ev-1", "accountId": "u-1",
		// sha256("ada@example.com")
		"recipientSha256": "b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72",
		"purpose":         "reset-password",
		"expiresAt":       "2025-03-14T08:56:53.123456789Z",
	}
	if got := e.SealContext(); !reflect.DeepEqual(got, want) {
		t.Fatalf("SealContext = %v, want %v", got, want)
	}
	for typ, want := range map[string]string{events.AccountVerificationRequested: "verify-email", events.OrderCreated: "", "": ""} {
		if got := events.LinkPurpose(typ); got != want {
			t.Errorf("LinkPurpose(%q) = %q, want %q", typ, got, want)
		}
	}
}

// TestSealContextBindsWhatTheEmailDependsOn: every change that would send
// the link elsewhere, for longer or for another purpose changes the
// context (so KMS refuses to open the token), and a JSON round trip of the
// event, as through the outbox and the queue, does not.
func TestSealContextBindsWhatTheEmailDependsOn(t *testing.T) {
	t.Parallel()
	sealedTo := resetEvent().SealContext()
	tests := []struct {
		name string
		edit func(e *events.AccountEvent)
		same bool
	}{
		{"re-addressed", func(e *events.AccountEvent) { e.Account.Email = "mallory@example.com" }, false},
		{"re-addressed in another case", func(e *events.AccountEvent) { e.Account.Email = "Ada@example.com" }, false},
		{"re-addressed with a trailing dot", func(e *events.AccountEvent) { e.Account.Email = "ada@example.com." }, false},
		{"another account", func(e *events.AccountEvent) { e.Account.ID = "u-2" }, false},
		{"another event", func(e *events.AccountEvent) { e.ID = "ev-2" }, false},
		{"another purpose", func(e *events.AccountEvent) { e.Type = events.AccountVerificationRequested }, false},
		{"a later expiry", func(e *events.AccountEvent) { e.Link.ExpiresAt = e.Link.ExpiresAt.Add(24 * time.Hour) }, false},
		{"a nanosecond later", func(e *events.AccountEvent) { e.Link.ExpiresAt = e.Link.ExpiresAt.Add(time.Nanosecond) }, false},
		{"the same instant in another zone", func(e *events.AccountEvent) {
			e.Link.ExpiresAt = e.Link.ExpiresAt.In(time.FixedZone("UTC-5", -5*3600))
		}, true},
		{"a JSON round trip", func(e *events.AccountEvent) {
			b, _ := json.Marshal(e)
			ev, err := events.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			*e = ev.(events.AccountEvent)
		}, true},
	}
	for _, tc := range tests {
		e := resetEvent()
		tc.edit(&e)
		if got := e.SealContext(); reflect.DeepEqual(got, sealedTo) != tc.same {
			t.Errorf("%s: SealContext = %v, sealed to %v: same = %v, want %v", tc.name, got, sealedTo, !tc.same, tc.same)
		}
	}
}
