package events_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/events"
)

// FuzzParse feeds Parse arbitrary bytes, starting from every event in
// testdata, TestParse's cases and more edge cases. It may not panic; every
// error wraps ErrInvalid and comes with no event. Whatever Parse accepts is
// a valid event whose order arithmetic is exact (no int64 wrap-around), and
// survives a round trip: marshalled as a producer would and parsed again,
// it is the same event.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed events in testdata (%v)", err)
	}
	for _, name := range files {
		f.Add(fixture(f, name))
	}
	for _, c := range parseCases(f) {
		f.Add(c.data)
	}
	for _, s := range []string{
		`{"type":"account.verification_requested","version":1} []`,
		`{"type":"order.created","type":"account.verification_requested","version":1}`,
		`{"TYPE":"order.cancelled","Version":1,"id":"e1","occurredAt":"2025-03-14T14:56:53+05:30","order":{"id":"o1","status":"CANCELLED",` +
			`"items":[{"sku":"S","name":"n","quantity":1000000,"unitPrice":1000000000000,"lineTotal":1000000000000000000}],` +
			`"total":1000000000000000000,"currency":"EUR","createdAt":"2025-03-14T09:26:53.123456789Z","updatedAt":"2025-03-14T09:26:53Z"},` +
			`"customer":{"id":"u","email":"a@b","name":"\u00c5da"},"extra":[1,2,3]}`,
		`{"type":"order.created","version":1,"id":"e1","occurredAt":"2025-03-14T09:26:53Z","order":{"id":"o1","status":"PENDING",` +
			`"items":[{"sku":"S","name":"n","quantity":2,"unitPrice":4611686018427387904,"lineTotal":-9223372036854775808}],` +
			`"total":-9223372036854775808,"currency":"USD","createdAt":"2025-03-14T09:26:53Z","updatedAt":"2025-03-14T09:26:53Z"},` +
			`"customer":{"id":"u","email":"a@b","name":"A"}}`,
		`{"type":"account.password_reset_requested","version":1,"id":"e2","occurredAt":"2025-03-14T09:26:53Z",` +
			`"account":{"id":"a1","email":"a@b","name":""},"link":{"sealedToken":"AA==","expiresAt":"2025-03-14T09:26:53.000000001Z"}}`,
		`{"type":"account.verification_requested","version":1,"id":"e3","occurredAt":"0001-01-01T00:00:00Z",` +
			`"account":{"id":"a1","email":"a@b"},"link":{"sealedToken":"not base64","expiresAt":"9999-12-31T23:59:59Z"}}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := events.Parse(data)
		if err != nil {
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("Parse error %v does not wrap ErrInvalid", err)
			}
			if e != nil {
				t.Errorf("Parse returned %#v with the error %v", e, err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Parse accepted an event that does not validate: %v", err)
		}
		if o, ok := e.(events.OrderEvent); ok {
			checkTotals(t, o)
		}

		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("marshal the accepted event %#v: %v", e, err)
		}
		again, err := events.Parse(b)
		if len(b) > events.MaxBytes {
			// Escaping can make the JSON of an accepted event longer than
			// the input was: then it is refused for its size only.
			if err == nil {
				t.Errorf("Parse accepted %d bytes, over MaxBytes", len(b))
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(Marshal(event)) = %v\nevent: %s", err, b)
		}
		// The same type and the same JSON: every field is in the JSON, and
		// times with their offsets.
		if b2, err := json.Marshal(again); reflect.TypeOf(again) != reflect.TypeOf(e) || err != nil || string(b2) != string(b) {
			t.Fatalf("round trip changed the event (%v):\n got %#v\n%s\nwant %#v\n%s", err, again, b2, e, b)
		}
	})
}

// overflowingOrder is an order event whose ten lines, each within the
// bounds, add up to 10^19, past the largest int64: its total is the sum
// wrapped around.
var overflowingOrder = `{"type":"order.created","version":1,"id":"e1","occurredAt":"2025-03-14T09:26:53Z","order":{"id":"o1","status":"PENDING","items":[` +
	strings.Repeat(`{"sku":"S","name":"n","quantity":1000000,"unitPrice":1000000000000,"lineTotal":1000000000000000000},`, 9) +
	`{"sku":"S","name":"n","quantity":1000000,"unitPrice":1000000000000,"lineTotal":1000000000000000000}],` +
	`"total":-8446744073709551616,"currency":"USD","createdAt":"2025-03-14T09:26:53Z","updatedAt":"2025-03-14T09:26:53Z"},` +
	`"customer":{"id":"u","email":"a@b","name":"A"}}`

// checkTotals checks an accepted order event's arithmetic exactly, without
// int64 arithmetic: each line total is its price times its quantity, and
// the order total the sum of the lines.
func checkTotals(t *testing.T, o events.OrderEvent) {
	t.Helper()
	sum := new(big.Int)
	for i, l := range o.Order.Items {
		want := new(big.Int).Mul(big.NewInt(l.UnitPrice), big.NewInt(int64(l.Quantity)))
		if want.Cmp(big.NewInt(l.LineTotal)) != 0 {
			t.Errorf("accepted items[%d]: %d × %d is %v, not %d", i, l.UnitPrice, l.Quantity, want, l.LineTotal)
		}
		sum.Add(sum, big.NewInt(l.LineTotal))
	}
	if sum.Cmp(big.NewInt(o.Order.Total)) != 0 {
		t.Errorf("accepted total %d; its lines add up to %v", o.Order.Total, sum)
	}
}
