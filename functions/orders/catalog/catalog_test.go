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

// TestCatalog: every field of the file reaches the products, in the
// file's order, updated at the seed's time in UTC; and the seed's own
// choices (Catalog refuses malformed or repeated SKUs, names and prices:
// TestCatalogRejectsBadEntries) hold.
func TestCatalog(t *testing.T) {
	var raw []map[string]any
	if err := json.Unmarshal(catalogJSON, &raw); err != nil {
		t.Fatal(err)
	}
	products, err := Catalog(seedTime)
	if err != nil || len(products) != len(raw) || len(products) < 24 {
		t.Fatalf("%d products from %d entries, %v; want dozens", len(products), len(raw), err)
	}
	active := 0
	for i, r := range raw {
		p := products[i]
		got := map[string]any{"sku": p.SKU, "name": p.Name, "description": p.Description,
			"unitPrice": float64(p.UnitPrice), "currency": p.Currency, "active": p.Active}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("product %d = %v, file has %v", i, got, r)
		}
		// An order of the maximum size must stay far from overflowing.
		if p.Description == "" || p.UnitPrice > 10_000_000 || p.Currency != "USD" {
			t.Errorf("product %s: no description, an implausible price or not in USD", p.SKU)
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

// TestHandler: create and update load the catalog, once, under a stable
// physical id (CloudFormation replaces a resource whose id changes) and
// log it; delete does nothing; a failure reaches CloudFormation.
func TestHandler(t *testing.T) {
	want, err := Catalog(seedTime)
	if err != nil {
		t.Fatal(err)
	}
	throttled := errors.New("dynamodb: throttled")
	tests := []struct {
		name        string
		requestType cfn.RequestType
		catalog     string // replaces the embedded catalog when set
		putErr      error
		wantPuts    int
		wantErr     bool
	}{
		{name: "create", requestType: cfn.RequestCreate, wantPuts: 1},
		{name: "update", requestType: cfn.RequestUpdate, wantPuts: 1},
		{name: "delete", requestType: cfn.RequestDelete},
		{name: "writer fails", requestType: cfn.RequestUpdate, putErr: throttled, wantPuts: 1, wantErr: true},
		{name: "catalog invalid", requestType: cfn.RequestUpdate, catalog: `[{"sku":"bad sku"}]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.catalog != "" {
				withCatalog(t, tt.catalog)
			}
			var puts [][]order.Product
			w := func(_ context.Context, p []order.Product, stock int64) error {
				if stock != SeedStock {
					return errors.New("seeded with another stock")
				}
				puts = append(puts, p)
				return tt.putErr
			}
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
			if physicalID != "catalog-seed" || len(puts) != tt.wantPuts {
				t.Errorf("physical id %q, %d PutProducts calls; want catalog-seed, %d", physicalID, len(puts), tt.wantPuts)
			}
			switch {
			case tt.wantErr:
				if err == nil || tt.putErr != nil && !errors.Is(err, tt.putErr) {
					t.Errorf("error = %v, want one CloudFormation sees (%v)", err, tt.putErr)
				}
			case err != nil:
				t.Fatalf("handler error = %v", err)
			case tt.wantPuts == 0:
				if data != nil || log.Len() != 0 {
					t.Errorf("delete returned %v, logged %q; want nothing", data, log.String())
				}
			case !reflect.DeepEqual(puts[0], want) || data["Products"] != len(want):
				t.Errorf("put %d products, data %v; want the %d of the catalog", len(puts[0]), data, len(want))
			case !regexp.MustCompile(`"msg":"catalog seeded".*"requestType":"` + string(tt.requestType) + `"`).Match(log.Bytes()):
				t.Errorf("log = %s, want a catalog seeded line", log.String())
			}
		})
	}
}
