package order_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/problem"
)

// fields returns the fields a validation or out-of-stock problem names, or
// nil for no error; it fails the test on an error of another kind.
func fields(t *testing.T, err error, k problem.Kind) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	p := problem.Of(err, k)
	if p == nil {
		t.Fatalf("error %v is not a %v problem", err, k)
	}
	var names []string
	for _, f := range p.Fields {
		if f.Message == "" {
			t.Errorf("field %s has no message", f.Field)
		}
		names = append(names, f.Field)
	}
	return names
}

func ptr[T any](v T) *T { return &v }

func TestNewProduct(t *testing.T) {
	good := order.Product{SKU: "MUG-1", Name: "  Mug ", Description: "Cafe\u0301 mug", UnitPrice: 1200, Currency: "EUR"}
	p, err := order.NewProduct(good)
	if err != nil || !p.Active || p.Name != "Mug" || p.Description != "Café mug" || p.SKU != "MUG-1" || p.UnitPrice != 1200 {
		t.Fatalf("NewProduct(%+v) = %+v, %v; want it active, name trimmed, description NFC", good, p, err)
	}
	for _, tt := range []struct {
		name   string
		change func(*order.Product)
		want   []string
	}{
		{"bad sku", func(p *order.Product) { p.SKU = "-mug" }, []string{"sku"}},
		{"lower-case currency", func(p *order.Product) { p.Currency = "eur" }, []string{"currency"}},
		{"empty name", func(p *order.Product) { p.Name = " " }, []string{"name"}},
		{"price 0", func(p *order.Product) { p.UnitPrice = 0 }, []string{"unitPrice"}},
		{"everything", func(p *order.Product) { *p = order.Product{Description: "\x00"} }, []string{"sku", "currency", "name", "description", "unitPrice"}},
	} {
		p := good
		tt.change(&p)
		got, err := order.NewProduct(p)
		if f := fields(t, err, problem.Invalid); !slices.Equal(f, tt.want) || got != (order.Product{}) {
			t.Errorf("%s: NewProduct = %+v, fields %v; want fields %v", tt.name, got, f, tt.want)
		}
	}
}

func TestProductChangeCheck(t *testing.T) {
	long := strings.Repeat("d", order.MaxDescriptionLength)
	for _, tt := range []struct {
		name string
		c    order.ProductChange
		want []string
	}{
		{"active alone", order.ProductChange{Active: ptr(false)}, nil},
		{"price 1", order.ProductChange{UnitPrice: ptr(int64(1))}, nil},
		{"longest description", order.ProductChange{Description: ptr(long)}, nil},
		{"nothing", order.ProductChange{}, []string{"(root)"}},
		{"description too long", order.ProductChange{Description: ptr(long + "d")}, []string{"description"}},
		{"control in description", order.ProductChange{Description: ptr("a\u0007b")}, []string{"description"}},
		{"negative price", order.ProductChange{UnitPrice: ptr(int64(-1))}, []string{"unitPrice"}},
		{"price beyond the events' bound", order.ProductChange{UnitPrice: ptr(int64(1_000_000_000_001))}, []string{"unitPrice"}},
		{"name and price", order.ProductChange{Name: ptr(strings.Repeat("n", 101)), UnitPrice: ptr(int64(0))}, []string{"name", "unitPrice"}},
	} {
		got, err := tt.c.Check()
		if f := fields(t, err, problem.Invalid); !slices.Equal(f, tt.want) {
			t.Errorf("%s: Check fields %v, want %v", tt.name, f, tt.want)
		}
		if err != nil && got != (order.ProductChange{}) {
			t.Errorf("%s: Check = %+v with an error, want the zero change", tt.name, got)
		}
	}
	got, err := order.ProductChange{Name: ptr(" Tea\u0301 "), Description: ptr("e\u0301")}.Check()
	if err != nil || *got.Name != "Teá" || *got.Description != "é" || got.UnitPrice != nil {
		t.Errorf("Check normalised to %q, %q, %v: %v", *got.Name, *got.Description, got.UnitPrice, err)
	}
}

func TestStockChangeCheck(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    order.StockChange
		want []string
	}{
		{"delta", order.StockChange{Delta: ptr[int64](-5)}, nil},
		{"largest delta", order.StockChange{Delta: ptr[int64](order.MaxStock)}, nil},
		{"set from expected", order.StockChange{Set: ptr[int64](0), Expected: ptr[int64](order.MaxStock)}, nil},
		{"neither", order.StockChange{}, []string{"(root)"}},
		{"both", order.StockChange{Delta: ptr[int64](1), Set: ptr[int64](2), Expected: ptr[int64](3)}, []string{"(root)"}},
		{"delta and expected", order.StockChange{Delta: ptr[int64](1), Expected: ptr[int64](3)}, []string{"(root)"}},
		{"set alone", order.StockChange{Set: ptr[int64](2)}, []string{"expected"}},
		{"expected alone", order.StockChange{Expected: ptr[int64](2)}, []string{"set"}},
		{"delta beyond", order.StockChange{Delta: ptr[int64](-order.MaxStock - 1)}, []string{"delta"}},
		{"set below 0", order.StockChange{Set: ptr[int64](-1), Expected: ptr[int64](order.MaxStock + 1)}, []string{"set", "expected"}},
	} {
		if f := fields(t, tt.c.Check(), problem.Invalid); !slices.Equal(f, tt.want) {
			t.Errorf("%s: Check fields %v, want %v", tt.name, f, tt.want)
		}
	}
}

func TestOutOfStock(t *testing.T) {
	err := order.OutOfStock([]order.Short{{Line: 0, Left: 0}, {Line: 3, Left: 2}})
	p := problem.Of(err, problem.Conflict)
	want := []problem.FieldError{fe("items[0].sku", "is out of stock: 0 left"), fe("items[3].sku", "is out of stock: 2 left")}
	if p == nil || p.Slug != "out-of-stock" || !slices.Equal(p.Fields, want) {
		t.Errorf("OutOfStock = %#v, want out-of-stock naming %v", err, want)
	}
}

func TestQueuePosition(t *testing.T) {
	placed := time.Date(2025, 3, 2, 12, 30, 0, 0, time.UTC)
	o := order.Order{ID: "01HZY3V5Q8T7M2K9R4W6X1B0CD", CreatedAt: placed}
	if got, want := order.QueuePosition(o), "2025-03-02T12:30:00.000Z#"+o.ID; got != want {
		t.Errorf("QueuePosition of an order without history = %q, want %q (its creation)", got, want)
	}
	confirmed := placed.Add(1500 * time.Millisecond).In(time.FixedZone("CET", 3600))
	o.History = []order.Change{{Status: order.Pending, At: placed}, {Status: order.Confirmed, At: confirmed}}
	pos := order.QueuePosition(o)
	if want := "2025-03-02T12:30:01.500Z#" + o.ID; pos != want {
		t.Errorf("QueuePosition = %q, want %q, the last change in UTC", pos, want)
	}
	if pos <= order.QueuePositionAt(o.ID, placed) || pos >= order.QueuePositionAt("", confirmed.Add(time.Millisecond)) {
		t.Errorf("positions do not sort by time: %q", pos)
	}
	if !order.ValidQueuePosition(pos) {
		t.Errorf("ValidQueuePosition(%q) = false", pos)
	}
	for _, bad := range []string{"", o.ID, "2025-03-02T12:30:01.500Z", "2025-03-02T12:30:01.500Z#", "2025-03-02T12:30:01Z#" + o.ID, "2025-03-02 12:30:01.500Z#" + o.ID, "2025-03-02T12:30:01.500Z#" + o.ID + "#x"} {
		if order.ValidQueuePosition(bad) {
			t.Errorf("ValidQueuePosition(%q) = true", bad)
		}
	}
}
