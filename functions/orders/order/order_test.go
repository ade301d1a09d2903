package order_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/problem"
)

func item(sku string, quantity int) order.ItemRequest {
	return order.ItemRequest{SKU: sku, Quantity: quantity}
}

func fe(field, message string) problem.FieldError {
	return problem.FieldError{Field: field, Message: message}
}

// items returns n valid, distinct item requests.
func items(n int) []order.ItemRequest {
	out := make([]order.ItemRequest, n)
	for i := range out {
		out[i] = order.ItemRequest{SKU: fmt.Sprintf("SKU-%03d", i), Quantity: 1}
	}
	return out
}

func TestValidateItems(t *testing.T) {
	const (
		skuMsg = "must be 1 to 32 characters of A-Z, 0-9 and -"
		qtyMsg = "must be 1 to 100"
	)
	linesErr := []problem.FieldError{{Field: "items", Message: "must have 1 to 50 lines"}}
	tests := []struct {
		name  string
		items []order.ItemRequest
		want  []problem.FieldError // nil: valid
	}{
		{name: "one line", items: items(1)},
		{name: "fifty lines", items: items(order.MaxLines)},
		{name: "quantity 1 and 100", items: []order.ItemRequest{item("A", 1), item("B", order.MaxQuantity)}},
		{name: "nil", items: nil, want: linesErr},
		{name: "zero lines", items: []order.ItemRequest{}, want: linesErr},
		{name: "fifty-one lines", items: items(order.MaxLines + 1), want: linesErr},
		{
			name:  "empty sku",
			items: []order.ItemRequest{item("", 1)},
			want:  []problem.FieldError{fe("items[0].sku", skuMsg)},
		},
		{
			name:  "quantity 0",
			items: []order.ItemRequest{item("A", 0)},
			want:  []problem.FieldError{fe("items[0].quantity", qtyMsg)},
		},
		{
			name:  "quantity 101",
			items: []order.ItemRequest{item("A", 1), item("B", 101)},
			want:  []problem.FieldError{fe("items[1].quantity", qtyMsg)},
		},
		{
			name:  "duplicate sku names the first occurrence",
			items: []order.ItemRequest{item("A", 1), item("B", 1), item("A", 2)},
			want:  []problem.FieldError{fe("items[2].sku", "repeats items[0]; combine the quantities")},
		},
		{
			name:  "third occurrence still names the first",
			items: []order.ItemRequest{item("B", 1), item("A", 1), item("A", 1), item("A", 1)},
			want: []problem.FieldError{
				fe("items[2].sku", "repeats items[1]; combine the quantities"),
				fe("items[3].sku", "repeats items[1]; combine the quantities"),
			},
		},
		{
			name:  "all errors collected in order",
			items: []order.ItemRequest{item("bad", 0), item("A", 1), item("A", 101), item("", -5)},
			want: []problem.FieldError{
				fe("items[0].sku", skuMsg),
				fe("items[0].quantity", qtyMsg),
				fe("items[2].sku", "repeats items[1]; combine the quantities"),
				fe("items[2].quantity", qtyMsg),
				fe("items[3].sku", skuMsg),
				fe("items[3].quantity", qtyMsg),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := order.ValidateItems(tt.items)
			var got []problem.FieldError
			if p := problem.Of(err, problem.Invalid); p != nil && p.Slug == "validation" {
				got = p.Fields
			}
			if (err == nil) != (tt.want == nil) || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ValidateItems() = %v, fields\n%v\nwant\n%v", err, got, tt.want)
			}
		})
	}
}

func catalog() map[string]order.Product {
	return map[string]order.Product{
		"COF-ESP-250": {SKU: "COF-ESP-250", Name: "Espresso", UnitPrice: 1290, Currency: "USD", Active: true},
		"TEA-EARL":    {SKU: "TEA-EARL", Name: "Earl Grey", UnitPrice: 850, Currency: "USD", Active: true},
		"MUG-1":       {SKU: "MUG-1", Name: "Mug", UnitPrice: 1, Currency: "USD", Active: true},
		"OLD-1":       {SKU: "OLD-1", Name: "Retired", UnitPrice: 500, Currency: "USD", Active: false},
		"EUR-1":       {SKU: "EUR-1", Name: "Euro thing", UnitPrice: 700, Currency: "EUR", Active: true},
	}
}

func TestPrice(t *testing.T) {
	const unknown = "is not a product of the catalog"
	tests := []struct {
		name         string
		items        []order.ItemRequest
		wantLines    []order.Line
		wantTotal    int64
		wantCurrency string
		wantErr      []problem.FieldError
	}{
		{
			name:         "one line",
			items:        []order.ItemRequest{item("COF-ESP-250", 3)},
			wantLines:    []order.Line{{SKU: "COF-ESP-250", Name: "Espresso", Quantity: 3, UnitPrice: 1290, LineTotal: 3870}},
			wantTotal:    3870,
			wantCurrency: "USD",
		},
		{
			name:  "lines keep request order and sum in minor units",
			items: []order.ItemRequest{item("TEA-EARL", 2), item("MUG-1", 100), item("COF-ESP-250", 1)},
			wantLines: []order.Line{
				{SKU: "TEA-EARL", Name: "Earl Grey", Quantity: 2, UnitPrice: 850, LineTotal: 1700},
				{SKU: "MUG-1", Name: "Mug", Quantity: 100, UnitPrice: 1, LineTotal: 100},
				{SKU: "COF-ESP-250", Name: "Espresso", Quantity: 1, UnitPrice: 1290, LineTotal: 1290},
			},
			wantTotal:    3090,
			wantCurrency: "USD",
		},
		{
			name:    "unknown sku",
			items:   []order.ItemRequest{item("COF-ESP-250", 1), item("NOPE", 1)},
			wantErr: []problem.FieldError{fe("items[1].sku", unknown)},
		},
		{
			name:    "inactive product",
			items:   []order.ItemRequest{item("OLD-1", 1), item("TEA-EARL", 1)},
			wantErr: []problem.FieldError{fe("items[0].sku", unknown)},
		},
		{
			name:  "every bad item listed",
			items: []order.ItemRequest{item("NOPE", 1), item("TEA-EARL", 1), item("OLD-1", 1), item("ALSO-NOPE", 2)},
			wantErr: []problem.FieldError{
				fe("items[0].sku", unknown),
				fe("items[2].sku", unknown),
				fe("items[3].sku", unknown),
			},
		},
		{
			name:    "mixed currencies",
			items:   []order.ItemRequest{item("COF-ESP-250", 1), item("EUR-1", 1)},
			wantErr: []problem.FieldError{fe("items[1].sku", "is priced in EUR, other items in USD")},
		},
		{
			name:    "currency set by the first priced item",
			items:   []order.ItemRequest{item("NOPE", 1), item("EUR-1", 1), item("MUG-1", 1)},
			wantErr: []problem.FieldError{fe("items[0].sku", unknown), fe("items[2].sku", "is priced in USD, other items in EUR")},
		},
		{
			name:         "single foreign currency is fine",
			items:        []order.ItemRequest{item("EUR-1", 2)},
			wantLines:    []order.Line{{SKU: "EUR-1", Name: "Euro thing", Quantity: 2, UnitPrice: 700, LineTotal: 1400}},
			wantTotal:    1400,
			wantCurrency: "EUR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, total, currency, err := order.Price(tt.items, catalog())
			var fields []problem.FieldError
			if p := problem.Of(err, problem.Unprocessable); p != nil && p.Slug == "unknown-product" {
				fields = p.Fields
			}
			if (err == nil) != (tt.wantErr == nil) || !reflect.DeepEqual(fields, tt.wantErr) {
				t.Errorf("Price() = %v, fields\n%v\nwant an unknown-product problem of\n%v", err, fields, tt.wantErr)
			}
			// With an error, zero values.
			if !reflect.DeepEqual(lines, tt.wantLines) || total != tt.wantTotal || currency != tt.wantCurrency {
				t.Errorf("Price() = %+v, %d, %q\nwant %+v, %d, %q", lines, total, currency, tt.wantLines, tt.wantTotal, tt.wantCurrency)
			}
		})
	}
}

func BenchmarkPrice(b *testing.B) {
	reqs := make([]order.ItemRequest, order.MaxLines)
	cat := make(map[string]order.Product, order.MaxLines)
	for i := range reqs {
		sku := fmt.Sprintf("SKU-%03d", i)
		reqs[i] = order.ItemRequest{SKU: sku, Quantity: i%order.MaxQuantity + 1}
		cat[sku] = order.Product{SKU: sku, Name: "Product " + sku, UnitPrice: int64(100 + i), Currency: "USD", Active: true}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := order.Price(reqs, cat); err != nil {
			b.Fatal(err)
		}
	}
}

func sampleOrder(s order.Status) order.Order {
	created := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	return order.Order{
		ID:       "01JNQ6Z5V2G7W4X9K3M8P0R1ST",
		Customer: order.Customer{ID: "user-1", Email: "ada@example.com", Name: "Ada"},
		Status:   s,
		Lines: []order.Line{
			{SKU: "A", Name: "Alpha", Quantity: 2, UnitPrice: 500, LineTotal: 1000},
			{SKU: "B", Name: "Beta", Quantity: 1, UnitPrice: 250, LineTotal: 250},
		},
		Total:     1250,
		Currency:  "USD",
		CreatedAt: created,
		UpdatedAt: created.Add(time.Minute),
	}
}

// TestCancel is the rule the stores compile into their conditions (their
// conformance tests check they agree with it): an order is cancelled
// until it ships, and a refused cancel changes nothing.
func TestCancel(t *testing.T) {
	now := time.Date(2025, 3, 2, 12, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		from    order.Status
		wantErr error
	}{
		{order.Pending, nil},
		{order.Confirmed, nil},
		{order.Shipped, order.ErrNotCancellable},
		{order.Cancelled, order.ErrNotCancellable},
		{order.Status(""), order.ErrNotCancellable},
		{order.Status("pending"), order.ErrNotCancellable},
	} {
		t.Run(string(tt.from), func(t *testing.T) {
			before := sampleOrder(tt.from)
			got, err := order.Cancel().Apply(before, now)
			want := before
			if tt.wantErr == nil {
				want.Status, want.UpdatedAt = order.Cancelled, now
				want.History = []order.Change{{Status: order.Cancelled, At: now}}
			}
			if !errors.Is(err, tt.wantErr) || !reflect.DeepEqual(got, want) {
				t.Errorf("Cancel().Apply() = %+v, %v\nwant %+v, %v", got, err, want, tt.wantErr)
			}
		})
	}
}

func TestOrderAsPlaced(t *testing.T) {
	placed := sampleOrder(order.Pending)
	placed.UpdatedAt = placed.CreatedAt
	cancelled, err := order.Cancel().Apply(placed, placed.CreatedAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got := cancelled.AsPlaced(); !reflect.DeepEqual(got, placed) {
		t.Errorf("AsPlaced() of the cancelled order =\n%+v\nwant the order as placed\n%+v", got, placed)
	}
	if got := placed.AsPlaced(); !reflect.DeepEqual(got, placed) {
		t.Errorf("AsPlaced() of a new order =\n%+v\nwant it unchanged", got)
	}
}

// TestQuotaRefused: a refusal says when the window ends, at least a second
// ahead.
func TestQuotaRefused(t *testing.T) {
	q := order.Quota{Max: 5, Window: time.Hour}
	for at, want := range map[time.Time]time.Duration{
		time.Date(2026, 3, 2, 12, 45, 0, 0, time.UTC):          15 * time.Minute,
		time.Date(2026, 3, 2, 12, 59, 59, 500e6, time.UTC):     time.Second,
		time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC).Add(-1e6): time.Second,
	} {
		if p := problem.Of(q.Refused(at), problem.TooManyRequests); p == nil || p.Slug != "order-quota" || p.RetryAfter != want {
			t.Errorf("Refused(%s) = %+v, want order-quota and %s", at, p, want)
		}
	}
}

// TestStaffTransitions: each staff transition moves an order from the
// statuses it starts from (appending to the history and setting what it
// sets), finds an order already where it leads done (unchanged, no error),
// and refuses every other status with ErrIllegalTransition.
func TestStaffTransitions(t *testing.T) {
	now := time.Date(2025, 3, 2, 12, 30, 0, 0, time.UTC)
	sh := order.Shipment{Carrier: "DHL", TrackingNumber: "JD1"}
	all := []order.Status{order.Pending, order.Confirmed, order.Shipped, order.Delivered, order.Cancelled}
	for _, tt := range []struct {
		name string
		t    order.Transition
		from []order.Status
	}{
		{"confirm", order.Confirm(), []order.Status{order.Pending}},
		{"ship", order.Ship(sh), []order.Status{order.Confirmed}},
		{"deliver", order.Deliver(), []order.Status{order.Shipped}},
		{"cancel", order.StaffCancel("Gone."), []order.Status{order.Pending, order.Confirmed}},
	} {
		for _, st := range all {
			before := sampleOrder(st)
			before.History = []order.Change{{Status: order.Pending, At: before.CreatedAt}}
			got, err := tt.t.Apply(before, now)
			switch {
			case slices.Contains(tt.from, st):
				if err != nil || got.Status != tt.t.To || !got.UpdatedAt.Equal(now) || len(got.History) != 2 || got.History[1] != (order.Change{Status: tt.t.To, At: now}) || len(before.History) != 1 {
					t.Errorf("%s from %s: %+v, %v", tt.name, st, got, err)
				}
				if (got.Shipment != nil) != (tt.name == "ship") || (got.Reason == "Gone." && got.CancelledBy == order.CancelledByStaff) != (tt.name == "cancel") {
					t.Errorf("%s from %s: shipment %+v, cancelled by %q for %q", tt.name, st, got.Shipment, got.CancelledBy, got.Reason)
				}
			case st == tt.t.To:
				if err != nil || !reflect.DeepEqual(got, before) {
					t.Errorf("%s repeated: %+v, %v; want the order unchanged", tt.name, got, err)
				}
			default:
				if !errors.Is(err, order.ErrIllegalTransition) || !reflect.DeepEqual(got, before) {
					t.Errorf("%s from %s: %+v, %v; want ErrIllegalTransition", tt.name, st, got, err)
				}
			}
		}
	}
	if err := order.Ship(order.Shipment{Carrier: "DHL", TrackingNumber: ""}).Check(); err == nil {
		t.Error("Check took a shipment with an empty tracking number")
	}
	if err := order.StaffCancel(strings.Repeat("x", 501)).Check(); err == nil {
		t.Error("Check took a reason of 501 characters")
	}
}
