//go:build integration

package api_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/orders/api"
	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/catalog"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/awscalls"
	"github.com/serverless-shop/backend/internal/budgets"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// TestAWSCallsPerRequest measures what each orders route costs in AWS
// against the real table seeded with the real catalog: the calls, how many
// run one after another, and the read and write units by AWS's documented
// rules (the local cloud's own report is printed beside them). It fails
// when a route exceeds its budget (internal/budgets) or a budget is not
// measured; with BENCH_CALLS_OUT set it appends the table to that file
// (make bench puts it in bench/REPORT.md).
func TestAWSCallsPerRequest(t *testing.T) {
	rig := newCallsRig(t)
	rows := rig.journey(t, principal.Principal{UserID: "cust-calls", Email: "calls@example.com", Name: "Calls", EmailVerified: true}, false)
	awscalls.Check(t, "orders", rows)
}

// callsRig is the orders service on a table of its own in the local
// cloud, seeded with the real catalog, with a recorder on its DynamoDB
// client.
type callsRig struct {
	ctx         context.Context
	rec         *awscalls.Recorder
	db          *dynamodb.Client // recorded
	background  *dynamodb.Client // recorded as background calls
	table       string
	revocations string
	auth        *apitest.Auth
	log         *slog.Logger
}

func newCallsRig(t *testing.T) *callsRig {
	t.Helper()
	cfg := testcloud.Config(t)
	shadow := dynamodb.NewFromConfig(cfg)
	r := &callsRig{ctx: context.Background(), rec: awscalls.New(shadow), auth: apitest.NewAuth(t),
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r.db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, r.rec.APIOption("dynamodb")) })
	r.background = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, r.rec.BackgroundOption("dynamodb"))
	})
	r.table = testcloud.NewTable(t, shadow, testcloud.TableSpec{SortKey: true, Indexes: store.Indexes()})
	r.revocations = testcloud.NewTable(t, shadow, testcloud.TableSpec{SortKey: true})
	r.rec.NameTable(r.table, "OrdersTable")
	r.rec.NameTable(r.revocations, "RevocationsTable")
	products, err := catalog.Catalog(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.New(shadow, r.table).SeedProducts(r.ctx, products, catalog.SeedStock); err != nil {
		t.Fatal(err)
	}
	return r
}

// newFunction is a cold start of the function: a new service, with no
// copy of the catalog yet. With revocations it checks tokens against the
// revocation list, as deployed, through the background client.
func (r *callsRig) newFunction(t *testing.T, revocations bool) *apitest.Client {
	t.Helper()
	var checker web.Revocations
	if revocations {
		checker = revocation.Config{Table: r.revocations}.Checker(r.background, r.log)
	}
	return newOrdersAPI(t, r.db, r.table, r.auth, r.log, checker)
}

// newOrdersAPI is the orders API on the table as the function wires it,
// checking tokens against revocations when not nil.
func newOrdersAPI(t *testing.T, db store.Client, table string, auth *apitest.Auth, log *slog.Logger, revocations web.Revocations) *apitest.Client {
	t.Helper()
	return &apitest.Client{Handler: api.NewHandler(log, api.Config{
		Service:  app.New(app.Config{Store: store.New(db, table), Log: log, NewID: func() string { return ulid.Make().String() }}),
		Verifier: auth.Verifier(), Revocations: revocations,
		LoadCursorKey: func(context.Context) ([]byte, error) { return make([]byte, 32), nil },
	})}
}

// send sends route, its path parameters filled in, with body ("": none)
// and headers (name, value pairs), as the bearer of the token.
func send(t *testing.T, c *apitest.Client, bearer, route string, path map[string]string, body string, headers ...string) *apitest.Response {
	t.Helper()
	method, target, _ := strings.Cut(route, " ")
	for k, v := range path {
		target = strings.ReplaceAll(target, "{"+k+"}", v)
	}
	var b any
	if body != "" {
		b = body
	}
	return c.Do(t, apitest.NewRequest(method, target, b, append(headers, "Authorization", "Bearer "+bearer)...))
}

// journey makes every measured request once, as who, on new execution
// environments (cold, then a second one for the catalog), and returns the
// rows with their budgets (internal/budgets).
func (r *callsRig) journey(t *testing.T, who principal.Principal, revocations bool) []awscalls.Row {
	t.Helper()
	h := r.newFunction(t, revocations)
	bearer := r.auth.Token(t, who)
	do := func(route string, path map[string]string, body string, headers ...string) *apitest.Response {
		t.Helper()
		return send(t, h, bearer, route, path, body, headers...)
	}
	body := `{"items":[{"sku":"COF-ESP-250","quantity":2},{"sku":"BRW-V60-02","quantity":1}]}`
	r.rec.Take() // forget the set-up

	var rows []awscalls.Row
	// measure records the calls of request, answered resp, and returns resp.
	measure := func(request string, resp *apitest.Response, wantStatus int) *apitest.Response {
		t.Helper()
		if resp.StatusCode != wantStatus {
			t.Errorf("%s as %s: status %d, want %d", request, who.UserID, resp.StatusCode, wantStatus)
		}
		b, err := budgets.For(request)
		if err != nil {
			t.Error(err)
		}
		rows = append(rows, awscalls.Row{Request: request, Calls: r.rec.Take(), Budget: b})
		return resp
	}
	id := func(resp *apitest.Response) map[string]string {
		return map[string]string{"id": strings.TrimPrefix(resp.Header.Get("Location"), "/v1/orders/")}
	}

	measure("POST /v1/orders with Idempotency-Key (cold catalog)", do("POST /v1/orders", nil, body, "Idempotency-Key", "k-cold"), 201)
	h = r.newFunction(t, revocations)
	measure("GET /v1/products (cold)", do("GET /v1/products", nil, ""), 200)
	measure("GET /v1/products (warm)", do("GET /v1/products", nil, ""), 200)
	measure("GET /v1/products/{sku} (warm)", do("GET /v1/products/{sku}", map[string]string{"sku": "COF-ESP-250"}, ""), 200)
	placed := id(measure("POST /v1/orders (warm catalog)", do("POST /v1/orders", nil, body), 201))
	keyed := id(measure("POST /v1/orders with Idempotency-Key (warm)", do("POST /v1/orders", nil, body, "Idempotency-Key", "k-1"), 201))
	measure("replay of an Idempotency-Key", do("POST /v1/orders", nil, body, "Idempotency-Key", "k-1"), 201)
	measure("GET /v1/orders/{id}", do("GET /v1/orders/{id}", placed, ""), 200)
	measure("GET /v1/orders", do("GET /v1/orders", nil, ""), 200)
	measure("POST /v1/orders/{id}/cancel", do("POST /v1/orders/{id}/cancel", placed, ""), 200)
	reordered := id(measure("POST /v1/orders/{id}/reorder (warm)", do("POST /v1/orders/{id}/reorder", placed, ""), 201))

	staff := r.auth.Token(t, principal.Principal{UserID: who.UserID + "-staff", Email: "staff-" + who.Email, Name: "Staff", EmailVerified: true, Role: token.RoleStaff})
	sku := map[string]string{"sku": "CALLS-" + strings.ToUpper(strings.ReplaceAll(who.UserID, "_", "-"))}
	product := `{"sku":"` + sku["sku"] + `","name":"Calls","description":"Measured.","unitPrice":100,"currency":"USD"}`
	measure("POST /v1/admin/products", send(t, h, staff, "POST /v1/admin/products", nil, product), 201)
	measure("PATCH /v1/admin/products/{sku}", send(t, h, staff, "PATCH /v1/admin/products/{sku}", sku, `{"unitPrice":120}`), 200)
	measure("GET /v1/admin/products/{sku}", send(t, h, staff, "GET /v1/admin/products/{sku}", sku, ""), 200)
	measure("GET /v1/admin/products", send(t, h, staff, "GET /v1/admin/products", nil, ""), 200)
	measure("POST /v1/admin/products/{sku}/stock", send(t, h, staff, "POST /v1/admin/products/{sku}/stock", sku, `{"delta":5}`), 200)
	measure("POST /v1/admin/orders/{id}/confirm", send(t, h, staff, "POST /v1/admin/orders/{id}/confirm", reordered, ""), 200)
	measure("GET /v1/admin/orders", send(t, h, staff, "GET /v1/admin/orders?status=CONFIRMED", nil, ""), 200)
	measure("GET /v1/admin/orders/{id}", send(t, h, staff, "GET /v1/admin/orders/{id}", reordered, ""), 200)
	measure("POST /v1/admin/orders/{id}/ship", send(t, h, staff, "POST /v1/admin/orders/{id}/ship", reordered, `{"carrier":"DHL","trackingNumber":"JD014600003828"}`), 200)
	measure("POST /v1/admin/orders/{id}/deliver", send(t, h, staff, "POST /v1/admin/orders/{id}/deliver", reordered, ""), 200)
	measure("POST /v1/admin/orders/{id}/cancel", send(t, h, staff, "POST /v1/admin/orders/{id}/cancel", keyed, `{"reason":"Out of paper."}`), 200)
	return rows
}
