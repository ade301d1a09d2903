//go:build integration

package api_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/orders/api"
	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/catalog"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/awscalls"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/principal"
)

// TestAWSCallsPerRequest measures what each orders route costs in AWS
// against the real table seeded with the real catalog: the calls, how many
// run one after another, and the read and write units by AWS's documented
// rules (the local cloud's own report is printed beside them). It fails
// when a route exceeds its budget; with BENCH_CALLS_OUT set it appends the
// table to that file (make bench puts it in bench/REPORT.md).
func TestAWSCallsPerRequest(t *testing.T) {
	cfg := testcloud.Config(t)
	shadow := dynamodb.NewFromConfig(cfg)
	rec := awscalls.New(shadow)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, rec.APIOption("dynamodb"))
	})
	table := testcloud.NewTable(t, shadow, testcloud.TableSpec{SortKey: true})
	s := store.New(db, table)
	ctx := context.Background()
	products, err := catalog.Catalog(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.New(shadow, table).PutProducts(ctx, products); err != nil {
		t.Fatal(err)
	}
	auth := apitest.NewAuth(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := api.NewHandler(log, api.Config{
		Service:  app.New(app.Config{Store: s, Log: log, NewID: func() string { return ulid.Make().String() }}),
		Verifier: auth.Verifier(), CursorKey: make([]byte, 32),
	})
	if err != nil {
		t.Fatal(err)
	}
	bearer := auth.Token(t, principal.Principal{UserID: "cust-calls", Email: "calls@example.com", Name: "Calls", EmailVerified: true})
	do := func(route string, path map[string]string, body string, headers map[string]string) events.APIGatewayProxyResponse {
		t.Helper()
		in := apitest.Request{Route: route, Path: path, Body: body, Headers: headers, Bearer: bearer}
		resp, err := h.Handle(ctx, in.Event())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	body := `{"items":[{"sku":"COF-ESP-250","quantity":2},{"sku":"BRW-V60-02","quantity":1}]}`
	rec.Take() // forget the seeding

	var rows []awscalls.Row
	measure := func(request string, status, wantStatus int, b awscalls.Budget) {
		t.Helper()
		if status != wantStatus {
			t.Errorf("%s: status %d, want %d", request, status, wantStatus)
		}
		rows = append(rows, awscalls.Row{Request: request, Calls: rec.Take(), Budget: b})
	}
	id := func(r events.APIGatewayProxyResponse) map[string]string {
		return map[string]string{"id": strings.TrimPrefix(r.Headers["Location"], "/v1/orders/")}
	}

	r := do("GET /v1/products", nil, "", nil)
	measure("GET /v1/products (cold)", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1, WCU: 0,
		Why: "one Query of the catalog partition (under 8 KB: 1 RCU eventually consistent) fills the function's catalog copy"})
	r = do("GET /v1/products", nil, "", nil)
	measure("GET /v1/products (warm)", r.StatusCode, 200, awscalls.Budget{Calls: 0, Rounds: 0, RCU: 0, WCU: 0,
		Why: "the function's copy is fresh for 5 minutes"})
	r = do("GET /v1/products/{sku}", map[string]string{"sku": "COF-ESP-250"}, "", nil)
	measure("GET /v1/products/{sku} (warm)", r.StatusCode, 200, awscalls.Budget{Calls: 0, Rounds: 0, RCU: 0, WCU: 0,
		Why: "from the function's catalog copy"})
	r = do("POST /v1/orders", nil, body, nil)
	measure("POST /v1/orders (warm catalog)", r.StatusCode, 201, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 0, WCU: 6,
		Why: "one transaction: order, outbox event, quota count (2 WCU each, all under 1 KB)"})
	placed := id(r)
	r = do("POST /v1/orders", nil, body, map[string]string{"Idempotency-Key": "k-1"})
	measure("POST /v1/orders with Idempotency-Key (warm)", r.StatusCode, 201, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 0, WCU: 8,
		Why: "the same transaction with the idempotency record (2 WCU): 6 for the order, 2 for the quota"})
	r = do("POST /v1/orders", nil, body, map[string]string{"Idempotency-Key": "k-1"})
	measure("replay of an Idempotency-Key", r.StatusCode, 201, awscalls.Budget{Calls: 2, Rounds: 2, RCU: 1, WCU: 8,
		Why: "the transaction fails on the record, which names the order; a consistent GetItem reads it"})
	r = do("GET /v1/orders/{id}", placed, "", nil)
	measure("GET /v1/orders/{id}", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1, WCU: 0,
		Why: "one consistent GetItem"})
	r = do("GET /v1/orders", nil, "", nil)
	measure("GET /v1/orders", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1, WCU: 0,
		Why: "one Query of the customer's orders (a page of 20 is under 8 KB here)"})
	r = do("POST /v1/orders/{id}/cancel", placed, "", nil)
	measure("POST /v1/orders/{id}/cancel", r.StatusCode, 200, awscalls.Budget{Calls: 2, Rounds: 2, RCU: 1, WCU: 4,
		Why: "read the order (its version), then one transaction: order and outbox event"})
	r = do("POST /v1/orders/{id}/reorder", placed, "", nil)
	measure("POST /v1/orders/{id}/reorder (warm)", r.StatusCode, 201, awscalls.Budget{Calls: 2, Rounds: 2, RCU: 1, WCU: 6,
		Why: "read the earlier order, then create order's transaction"})

	awscalls.Check(t, "orders", rows)
}
