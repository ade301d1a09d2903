package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

const fixturePath = "testdata/order_created_v1.json"

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edited returns the fixture after edit has changed its generic JSON form.
func edited(t *testing.T, edit func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(fixture(t), &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func order(ev map[string]any) map[string]any    { return ev["order"].(map[string]any) }
func customer(ev map[string]any) map[string]any { return ev["customer"].(map[string]any) }
func item(ev map[string]any, i int) map[string]any {
	return order(ev)["items"].([]any)[i].(map[string]any)
}

// lines returns n consistent order lines and their total.
func lines(n int) ([]any, float64) {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"sku": "SKU", "name": "n", "quantity": 1, "unitPrice": 100, "lineTotal": 100}
	}
	return out, float64(100 * n)
}

func TestParseFixture(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)
	want := events.OrderEvent{
		Header: events.Header{
			Type:          events.OrderCreated,
			Version:       events.Version,
			ID:            "01JPB3V8Q4EVT0000000000001",
			OccurredAt:    at,
			CorrelationID: "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b",
		},
		Order: events.Order{
			ID:     "01JPB3V8Q4ORD0000000000001",
			Status: "PENDING",
			Items: []events.Line{
				{SKU: "MUG-001", Name: "Coffee mug", Quantity: 2, UnitPrice: 1250, LineTotal: 2500},
				{SKU: "TEE-042", Name: "T-shirt (large)", Quantity: 1, UnitPrice: 1999, LineTotal: 1999},
				{SKU: "GIFT-0", Name: "Gift wrap", Quantity: 1, UnitPrice: 0, LineTotal: 0},
			},
			Total:     4499,
			Currency:  "EUR",
			CreatedAt: at,
			UpdatedAt: at,
		},
		Customer: events.Customer{ID: "user-1", Email: "ada@example.com", Name: "Ada Lovelace"},
	}

	got, err := events.ParseOrder(fixture(t))
	if err != nil {
		t.Fatalf("Parse(%s): %v", fixturePath, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse(%s) =\n%+v\nwant\n%+v", fixturePath, got, want)
	}

	// Round trip: what a producer marshals, a consumer parses back unchanged.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	again, err := events.ParseOrder(b)
	if err != nil {
		t.Fatalf("Parse(Marshal(event)): %v", err)
	}
	if !reflect.DeepEqual(again, want) {
		t.Errorf("round trip =\n%+v\nwant\n%+v", again, want)
	}

	// The fixture and the marshalled event are the same JSON document, so
	// the fixture documents the wire format exactly.
	var fromFile, fromGo any
	if err := json.Unmarshal(fixture(t), &fromFile); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fromGo); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, fromGo) {
		t.Errorf("marshalled event differs from the fixture:\n%s", b)
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{name: "fixture", data: fixture},
		{name: "cancelled", data: func(t *testing.T) []byte {
			return edited(t, func(ev map[string]any) { ev["type"] = events.OrderCancelled; order(ev)["status"] = "CANCELLED" })
		}},
		{name: "unknown fields everywhere", data: func(t *testing.T) []byte {
			return edited(t, func(ev map[string]any) {
				ev["source"] = "orders"
				ev["traceparent"] = map[string]any{"id": "x"}
				order(ev)["discountCode"] = "SPRING"
				item(ev, 0)["colour"] = "blue"
				customer(ev)["locale"] = "de-DE"
			})
		}},
		{name: "no correlation id or names", data: func(t *testing.T) []byte {
			return edited(t, func(ev map[string]any) {
				delete(ev, "correlationId")
				delete(customer(ev), "name")
				delete(item(ev, 0), "name")
			})
		}},
		{name: "maximum number of lines", data: func(t *testing.T) []byte {
			return edited(t, func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = lines(100) })
		}},
		{name: "surrounding whitespace", data: func(t *testing.T) []byte {
			return append(append([]byte("\n  "), fixture(t)...), " \n\t"...)
		}},
		{name: "exactly MaxBytes", data: func(t *testing.T) []byte {
			b := fixture(t)
			return append(b, bytes.Repeat([]byte(" "), events.MaxBytes-len(b))...)
		}},
		{name: "id of 128 characters", data: func(t *testing.T) []byte {
			return edited(t, func(ev map[string]any) { ev["id"] = strings.Repeat("a", 128) })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := events.Parse(tc.data(t)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	edit := func(f func(ev map[string]any)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return edited(t, f) }
	}
	raw := func(s string) func(t *testing.T) []byte { return func(*testing.T) []byte { return []byte(s) } }
	withSuffix := func(s string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return append(fixture(t), s...) }
	}

	tests := []struct {
		name     string
		data     func(t *testing.T) []byte
		wantText string // part of the error message
	}{
		// Envelope.
		{name: "unknown type", data: edit(func(ev map[string]any) { ev["type"] = "order.shipped" }), wantText: `unknown type "order.shipped"`},
		{name: "type missing", data: edit(func(ev map[string]any) { delete(ev, "type") }), wantText: "unknown type"},
		{name: "type in other case", data: edit(func(ev map[string]any) { ev["type"] = "Order.Created" }), wantText: "unknown type"},
		{name: "version 2", data: edit(func(ev map[string]any) { ev["version"] = 2 }), wantText: "unsupported version 2"},
		{name: "version 0", data: edit(func(ev map[string]any) { ev["version"] = 0 }), wantText: "unsupported version 0"},
		{name: "version missing", data: edit(func(ev map[string]any) { delete(ev, "version") }), wantText: "unsupported version"},
		{name: "version a string", data: edit(func(ev map[string]any) { ev["version"] = "1" }), wantText: "version"},
		{name: "missing id", data: edit(func(ev map[string]any) { delete(ev, "id") }), wantText: "id is missing"},
		{name: "id with a space", data: edit(func(ev map[string]any) { ev["id"] = "ev 1" }), wantText: "id is missing or malformed"},
		{name: "id too long", data: edit(func(ev map[string]any) { ev["id"] = strings.Repeat("a", 129) }), wantText: "id is missing or malformed"},
		{name: "occurredAt missing", data: edit(func(ev map[string]any) { delete(ev, "occurredAt") }), wantText: "occurredAt is missing"},
		{name: "occurredAt not RFC 3339", data: edit(func(ev map[string]any) { ev["occurredAt"] = "14/03/2025" }), wantText: "parsing time"},

		// Order.
		{name: "order id missing", data: edit(func(ev map[string]any) { delete(order(ev), "id") }), wantText: "order.id"},
		{name: "order missing", data: edit(func(ev map[string]any) { delete(ev, "order") }), wantText: "order.id"},
		{name: "currency lower case", data: edit(func(ev map[string]any) { order(ev)["currency"] = "eur" }), wantText: "currency"},
		{name: "currency four letters", data: edit(func(ev map[string]any) { order(ev)["currency"] = "EURO" }), wantText: "currency"},
		{name: "currency symbol", data: edit(func(ev map[string]any) { order(ev)["currency"] = "€" }), wantText: "currency"},
		{name: "currency missing", data: edit(func(ev map[string]any) { delete(order(ev), "currency") }), wantText: "currency"},
		{name: "currency with a newline", data: edit(func(ev map[string]any) { order(ev)["currency"] = "EUR\n" }), wantText: "currency"},
		{name: "total not the sum", data: edit(func(ev map[string]any) { order(ev)["total"] = 4500 }), wantText: "order.total is not the sum"},
		{name: "lines adding up past int64, total wrapped around", data: raw(overflowingOrder), wantText: "order.items add up to more than a total can hold"},
		{name: "total missing", data: edit(func(ev map[string]any) { delete(order(ev), "total") }), wantText: "order.total"},
		{name: "line total inconsistent", data: edit(func(ev map[string]any) {
			item(ev, 0)["lineTotal"] = 2499
			order(ev)["total"] = 4498 // the sum stays right: only the line is wrong
		}), wantText: "order.items[0] is inconsistent"},
		{name: "quantity zero", data: edit(func(ev map[string]any) {
			item(ev, 1)["quantity"], item(ev, 1)["lineTotal"] = 0, 0
			order(ev)["total"] = 2500
		}), wantText: "order.items[1] is inconsistent"},
		{name: "quantity negative", data: edit(func(ev map[string]any) {
			item(ev, 1)["quantity"], item(ev, 1)["lineTotal"] = -1, -1999
			order(ev)["total"] = 501
		}), wantText: "order.items[1] is inconsistent"},
		{name: "unit price negative", data: edit(func(ev map[string]any) {
			item(ev, 1)["unitPrice"], item(ev, 1)["lineTotal"] = -1999, -1999
			order(ev)["total"] = 501
		}), wantText: "order.items[1] is inconsistent"},
		{name: "sku missing", data: edit(func(ev map[string]any) { delete(item(ev, 2), "sku") }), wantText: "order.items[2] is inconsistent"},
		{name: "zero items", data: edit(func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = []any{}, 0 }), wantText: "order.items must have 1 to 100 lines"},
		{name: "items null", data: edit(func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = nil, 0 }), wantText: "order.items"},
		{name: "too many items", data: edit(func(ev map[string]any) { order(ev)["items"], order(ev)["total"] = lines(101) }), wantText: "order.items must have 1 to 100 lines"},
		{name: "fractional quantity", data: edit(func(ev map[string]any) { item(ev, 0)["quantity"] = 1.5 }), wantText: "quantity"},

		// Customer.
		{name: "customer id missing", data: edit(func(ev map[string]any) { delete(customer(ev), "id") }), wantText: "customer.id"},
		{name: "email missing", data: edit(func(ev map[string]any) { delete(customer(ev), "email") }), wantText: "customer.email"},
		{name: "email without @", data: edit(func(ev map[string]any) { customer(ev)["email"] = "ada.example.com" }), wantText: "customer.email"},
		{name: "email with two @", data: edit(func(ev map[string]any) { customer(ev)["email"] = "a@b@example.com" }), wantText: "customer.email"},
		{name: "email too long", data: edit(func(ev map[string]any) { customer(ev)["email"] = strings.Repeat("a", 250) + "@x.io" }), wantText: "customer.email"},
		{name: "name with a noncharacter", data: edit(func(ev map[string]any) { customer(ev)["name"] = "Ada\uffff" }), wantText: "customer.name"},
		{name: "email with a control character", data: edit(func(ev map[string]any) { customer(ev)["email"] = "ada\u0000@example.com" }), wantText: "customer.email"},
		{name: "line name with a bidi override", data: edit(func(ev map[string]any) { item(ev, 0)["name"] = "Mug\u202e" }), wantText: "order.items[0]"},

		// Size and framing.
		{name: "too large", data: func(t *testing.T) []byte {
			b := fixture(t)
			return append(b, bytes.Repeat([]byte(" "), events.MaxBytes-len(b)+1)...)
		}, wantText: "exceeds"},
		{name: "trailing second event", data: func(t *testing.T) []byte { return append(fixture(t), fixture(t)...) }, wantText: "trailing data"},
		{name: "trailing object", data: withSuffix("{}"), wantText: "trailing data"},
		{name: "trailing garbage", data: withSuffix("garbage"), wantText: "trailing data"},
		{name: "trailing number", data: withSuffix(" 1"), wantText: "trailing data"},
		{name: "trailing brace", data: withSuffix("}"), wantText: "trailing data"},
		{name: "trailing bracket", data: withSuffix("]"), wantText: "trailing data"},
		{name: "trailing comma", data: withSuffix(","), wantText: "trailing data"},
		{name: "not JSON", data: raw("order created"), wantText: "invalid character"},
		{name: "empty", data: raw(""), wantText: "EOF"},
		{name: "only whitespace", data: raw("  \n"), wantText: "EOF"},
		{name: "JSON array", data: raw(`[{"type":"order.created"}]`), wantText: "cannot unmarshal"},
		{name: "JSON string", data: raw(`"order.created"`), wantText: "cannot unmarshal"},
		{name: "JSON null", data: raw(`null`), wantText: "unknown type"},
		{name: "empty object", data: raw(`{}`), wantText: "unknown type"},
		{name: "truncated", data: func(t *testing.T) []byte { b := fixture(t); return b[:len(b)/2] }, wantText: "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := events.Parse(tc.data(t))
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("Parse error = %v, want errors.Is ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Parse error = %q, want it to mention %q", err, tc.wantText)
			}
			if ev != nil {
				t.Errorf("Parse returned %+v with an error", ev)
			}
		})
	}
}

// TestValidateListsEveryProblem checks that one error names all that is
// wrong, so one poison message explains itself in one log line.
func TestValidateListsEveryProblem(t *testing.T) {
	t.Parallel()
	ev := events.OrderEvent{Header: events.Header{Type: "x", Version: 2}}
	err := ev.Validate()
	if !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("Validate = %v, want ErrInvalid", err)
	}
	for _, want := range []string{"unknown type", "unsupported version 2", "id is missing", "occurredAt is missing", "order.id", "order.currency", "order.items", "customer.id", "customer.email"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not mention %q", err, want)
		}
	}
}

// TestParseEveryFixture covers the fixtures other packages' tests read from
// testdata/, so a schema change that breaks one fails here, next to the
// schema, rather than in a consumer.
func TestParseEveryFixture(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := events.Parse(b); err != nil {
				t.Errorf("Parse(%s): %v", path, err)
			}
		})
	}
}

func TestValidateParsedFixture(t *testing.T) {
	t.Parallel()
	ev, err := events.ParseOrder(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.Validate(); err != nil {
		t.Errorf("Validate of a parsed event: %v", err)
	}
	ev.Order.Items = append(ev.Order.Items, events.Line{SKU: "X", Quantity: 1, UnitPrice: 1, LineTotal: 1})
	if err := ev.Validate(); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("Validate after adding a line without the total = %v, want ErrInvalid", err)
	}
}
