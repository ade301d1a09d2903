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
	"github.com/serverless-shop/backend/shared/httpapi"
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
	// newFunction is a cold start of the function: a new service, with no
	// copy of the catalog yet.
	newFunction := func() *httpapi.Router {
		h, err := api.NewHandler(log, api.Config{
			Service:  app.New(app.Config{Store: s, Log: log, NewID: func() string { return ulid.Make().String() }}),
			Verifier: auth.Verifier(), CursorKey: make([]byte, 32),
		})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	h := newFunction()
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

	// Every order here has two lines, and every item written is under 1 KB:
	// a transactional write of one costs 2 WCU, a plain one 1 WCU. The
	// order item carries its event (shared/orderitem): there is no outbox
	// item to write. The quota's counter is counted apart (QUOTA#): it is
	// what the per-customer quota costs.
	const quota = "QUOTA#"
	r := do("POST /v1/orders", nil, body, map[string]string{"Idempotency-Key": "k-cold"})
	measure("POST /v1/orders with Idempotency-Key (cold catalog)", r.StatusCode, 201, awscalls.Budget{Calls: 2, Rounds: 2, RCU: 1, WCU: 4, Apart: quota, ApartWCU: 2,
		Why: "a cold function reads the catalog (one Query, 1 RCU), then one transaction: order with its event, key record (2 WCU each), quota count (2 WCU)"})
	h = newFunction()
	r = do("GET /v1/products", nil, "", nil)
	measure("GET /v1/products (cold)", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1,
		Why: "one Query of the catalog partition (38 products, 4 to 8 KB: 1 RCU eventually consistent) fills the function's copy"})
	r = do("GET /v1/products", nil, "", nil)
	measure("GET /v1/products (warm)", r.StatusCode, 200, awscalls.Budget{
		Why: "the function's copy is fresh for 5 minutes"})
	r = do("GET /v1/products/{sku}", map[string]string{"sku": "COF-ESP-250"}, "", nil)
	measure("GET /v1/products/{sku} (warm)", r.StatusCode, 200, awscalls.Budget{
		Why: "from the function's copy"})
	r = do("POST /v1/orders", nil, body, nil)
	measure("POST /v1/orders (warm catalog)", r.StatusCode, 201, awscalls.Budget{Calls: 1, Rounds: 1, WCU: 2, Apart: quota, ApartWCU: 2,
		Why: "one transaction: order with its event (2 WCU), quota count (2 WCU)"})
	placed := id(r)
	r = do("POST /v1/orders", nil, body, map[string]string{"Idempotency-Key": "k-1"})
	measure("POST /v1/orders with Idempotency-Key (warm)", r.StatusCode, 201, awscalls.Budget{Calls: 1, Rounds: 1, WCU: 4, Apart: quota, ApartWCU: 2,
		Why: "the same transaction with the key's record (2 WCU); the record names the order, it does not copy it"})
	r = do("POST /v1/orders", nil, body, map[string]string{"Idempotency-Key": "k-1"})
	measure("replay of an Idempotency-Key", r.StatusCode, 201, awscalls.Budget{Calls: 2, Rounds: 2, RCU: 1, WCU: 4, Apart: quota, ApartWCU: 2,
		Why: "the transaction fails on the key's record, which comes back with the failure and names the order; one consistent GetItem reads it (a cancelled transaction priced as the writes it tried: an upper bound)"})
	r = do("GET /v1/orders/{id}", placed, "", nil)
	measure("GET /v1/orders/{id}", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1,
		Why: "one consistent GetItem"})
	r = do("GET /v1/orders", nil, "", nil)
	measure("GET /v1/orders", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, RCU: 1,
		Why: "one Query (here 4 orders; a full page of 20 reads 21 items, about 2 RCU)"})
	r = do("POST /v1/orders/{id}/cancel", placed, "", nil)
	measure("POST /v1/orders/{id}/cancel", r.StatusCode, 200, awscalls.Budget{Calls: 1, Rounds: 1, WCU: 1,
		Why: "one conditional UpdateItem (status still cancellable) sets the status and the event and returns the order (no read units); not a transaction: 1 WCU"})
	r = do("POST /v1/orders/{id}/reorder", placed, "", nil)
	measure("POST /v1/orders/{id}/reorder (warm)", r.StatusCode, 201, awscalls.Budget{Calls: 2, Rounds: 2, RCU: 1, WCU: 2, Apart: quota, ApartWCU: 2,
		Why: "it places an order from another one's items: they are read first (GetItem; no DynamoDB call reads one item and writes another), then create order's transaction"})

	awscalls.Check(t, "orders", rows)
}
