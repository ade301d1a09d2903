package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/serverless-shop/backend/functions/orders/order"
)

var seedTime = time.Date(2025, 3, 2, 12, 0, 0, 0, time.FixedZone("CET", 3600))

func TestCatalog(t *testing.T) {
	products, err := Catalog(seedTime)
	if err != nil {
		t.Fatalf("Catalog() error = %v", err)
	}
	if len(products) < 24 {
		t.Errorf("catalog has %d products, want dozens", len(products))
	}
	// Catalog refuses malformed or repeated SKUs, names and prices
	// (TestCatalogRejectsBadEntries); these are the seed's own choices.
	active := 0
	for _, p := range products {
		if p.Description == "" {
			t.Errorf("product %s lacks a description", p.SKU)
		}
		// An order of the maximum size must stay far from overflowing.
		if p.UnitPrice > 10_000_000 {
			t.Errorf("product %s: price %d is implausible", p.SKU, p.UnitPrice)
		}
		if p.Currency != "USD" {
			t.Errorf("product %s: currency %q, want USD", p.SKU, p.Currency)
		}
		if !p.UpdatedAt.Equal(seedTime) || p.UpdatedAt.Location() != time.UTC {
			t.Errorf("product %s: UpdatedAt %v, want %v in UTC", p.SKU, p.UpdatedAt, seedTime.UTC())
		}
		if p.Active {
			active++
		}
	}
	if inactive := len(products) - active; inactive == 0 || active == 0 {
		t.Errorf("%d active, %d inactive; want some of each", active, inactive)
	}
}

// TestCatalogMatchesFile checks that every field of the file reaches the
// products, in the file's order.
func TestCatalogMatchesFile(t *testing.T) {
	var raw []map[string]any
	if err := json.Unmarshal(catalogJSON, &raw); err != nil {
		t.Fatal(err)
	}
	products, err := Catalog(seedTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != len(raw) {
		t.Fatalf("%d products from %d entries", len(products), len(raw))
	}
	for i, r := range raw {
		p := products[i]
		got := map[string]any{"sku": p.SKU, "name": p.Name, "description": p.Description,
			"unitPrice": float64(p.UnitPrice), "currency": p.Currency, "active": p.Active}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("product %d = %v, file has %v", i, got, r)
		}
	}
}

func TestCatalogRejectsBadEntries(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"malformed SKU", `[{"sku":"bad sku","name":"n","unitPrice":1,"currency":"USD","active":true}]`},
		{"repeated SKU", `[{"sku":"A","name":"n","unitPrice":1,"currency":"USD"},{"sku":"A","name":"m","unitPrice":2,"currency":"USD"}]`},
		{"no name", `[{"sku":"A","unitPrice":1,"currency":"USD"}]`},
		{"zero price", `[{"sku":"A","name":"n","unitPrice":0,"currency":"USD"}]`},
		{"negative price", `[{"sku":"A","name":"n","unitPrice":-5,"currency":"USD"}]`},
		{"bad currency", `[{"sku":"A","name":"n","unitPrice":1,"currency":"US"}]`},
		{"unknown field", `[{"sku":"A","name":"n","unitPrice":1,"currency":"USD","stock":3}]`},
		{"fractional price", `[{"sku":"A","name":"n","unitPrice":1.5,"currency":"USD"}]`},
		{"price above the event schema's bound", `[{"sku":"A","name":"n","unitPrice":1000000000001,"currency":"USD"}]`},
		{"noncharacter in the name", `[{"sku":"A","name":"n\uffff","unitPrice":1,"currency":"USD"}]`},
		{"control character in the description", `[{"sku":"A","name":"n","description":"a\u0007b","unitPrice":1,"currency":"USD"}]`},
		{"not a list", `{"sku":"A"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withCatalog(t, tt.json)
			if p, err := Catalog(seedTime); err == nil {
				t.Errorf("Catalog() = %d products, want an error", len(p))
			}
		})
	}
}

// withCatalog replaces the embedded catalog for the duration of the test.
func withCatalog(t *testing.T, s string) {
	t.Helper()
	prev := catalogJSON
	catalogJSON = []byte(s)
	t.Cleanup(func() { catalogJSON = prev })
}

// writerFunc is a Writer that is a function.
type writerFunc func(ctx context.Context, products []order.Product) error

func (f writerFunc) PutProducts(ctx context.Context, products []order.Product) error {
	return f(ctx, products)
}

func TestHandler(t *testing.T) {
	want, err := Catalog(seedTime)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		requestType cfn.RequestType
		wantPut     bool
	}{
		{cfn.RequestCreate, true},
		{cfn.RequestUpdate, true},
		{cfn.RequestDelete, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.requestType), func(t *testing.T) {
			var puts [][]order.Product
			w := writerFunc(func(_ context.Context, p []order.Product) error {
				puts = append(puts, p)
				return nil
			})
			var log bytes.Buffer
			h := Handler(w, slog.New(slog.NewJSONHandler(&log, nil)), func() time.Time { return seedTime })
			ev := cfn.Event{
				RequestType:        tt.requestType,
				RequestID:          "req-1",
				ResourceType:       "Custom::CatalogSeed",
				LogicalResourceID:  "CatalogSeed",
				StackID:            "arn:aws:cloudformation:us-east-1:123456789012:stack/shop/1",
				ResourceProperties: map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:seed"},
			}
			if tt.requestType != cfn.RequestCreate {
				ev.PhysicalResourceID = "catalog-seed"
			}

			physicalID, data, err := h(context.Background(), ev)
			if err != nil {
				t.Fatalf("handler error = %v", err)
			}
			// A stable physical id: CloudFormation replaces a resource whose id changes.
			if physicalID != "catalog-seed" {
				t.Errorf("physical id = %q, want catalog-seed", physicalID)
			}
			if !tt.wantPut {
				if len(puts) != 0 || data != nil || log.Len() != 0 {
					t.Errorf("delete wrote %d batches, returned %v, logged %q; want nothing", len(puts), data, log.String())
				}
				return
			}
			if len(puts) != 1 {
				t.Fatalf("PutProducts calls = %d, want 1", len(puts))
			}
			if !reflect.DeepEqual(puts[0], want) {
				t.Errorf("put %d products, want the %d of the catalog", len(puts[0]), len(want))
			}
			if got := data["Products"]; got != len(want) {
				t.Errorf("data Products = %v, want %d", got, len(want))
			}
			if !regexp.MustCompile(`"msg":"catalog seeded".*"requestType":"` + string(tt.requestType) + `"`).Match(log.Bytes()) {
				t.Errorf("log = %s, want a catalog seeded line", log.String())
			}
		})
	}
}

func TestHandlerErrors(t *testing.T) {
	tests := []struct {
		name    string
		catalog string // replaces the embedded catalog when set
		putErr  error
		wantPut bool
	}{
		{name: "writer fails", putErr: errors.New("dynamodb: throttled"), wantPut: true},
		{name: "catalog invalid", catalog: `[{"sku":"bad sku"}]`, wantPut: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.catalog != "" {
				withCatalog(t, tt.catalog)
			}
			put := false
			w := writerFunc(func(context.Context, []order.Product) error {
				put = true
				return tt.putErr
			})
			h := Handler(w, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)), func() time.Time { return seedTime })
			physicalID, _, err := h(context.Background(), cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: "catalog-seed"})
			if err == nil {
				t.Fatal("handler error = nil; CloudFormation must see the failure")
			}
			if tt.putErr != nil && !errors.Is(err, tt.putErr) {
				t.Errorf("error = %v, want %v", err, tt.putErr)
			}
			if physicalID != "catalog-seed" {
				t.Errorf("physical id = %q on failure, want catalog-seed", physicalID)
			}
			if put != tt.wantPut {
				t.Errorf("PutProducts called = %v, want %v", put, tt.wantPut)
			}
		})
	}
}
