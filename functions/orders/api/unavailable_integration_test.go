//go:build integration

package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// TestEveryRouteAnswers503WhenDynamoDBIsOut wires the orders API as the
// function does (the API retry policy, a real table in the local cloud),
// then makes every DynamoDB attempt fail with
// ProvisionedThroughputExceededException, injected by an SDK middleware
// inside the SDK's retry loop, so the real retryer retries and gives up.
// Every orders route answers 503 unavailable with Retry-After, never 500.
// The catalog routes may answer from a copy of the catalog instead; they
// never answer 500 either.
func TestEveryRouteAnswers503WhenDynamoDBIsOut(t *testing.T) {
	var out atomic.Bool
	var attempts atomic.Int64
	cfg := awsretry.API.Apply(testcloud.Config(t))
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("tableOut", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if out.Load() {
					attempts.Add(1)
					return middleware.FinalizeOutput{}, middleware.Metadata{}, &types.ProvisionedThroughputExceededException{Message: aws.String("injected: rate of requests exceeds the allowed throughput")}
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
		})
	})
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})
	t.Cleanup(func() { out.Store(false) }) // before the table's deletion, which runs later
	s := store.New(db, table)
	ctx := context.Background()
	if err := s.SeedProducts(ctx, []order.Product{{SKU: "COF-ESP-250", Name: "Espresso", UnitPrice: 1290, Currency: "USD", Active: true}}, 100); err != nil {
		t.Fatal(err)
	}
	auth := apitest.NewAuth(t)
	client := newOrdersAPI(t, db, table, auth, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	// A staff member, who may order too: every route, the staff's included.
	bearer := auth.Token(t, principal.Principal{UserID: "cust-out", Email: "out@example.com", Name: "Out", EmailVerified: true, Role: token.RoleStaff})
	do := func(route string, path map[string]string, body string) *apitest.Response {
		t.Helper()
		return send(t, client, bearer, route, path, body)
	}
	const body = `{"items":[{"sku":"COF-ESP-250","quantity":1}]}`
	created := do("POST /v1/orders", nil, body)
	if created.StatusCode != http.StatusCreated {
		t.Fatalf("create order before the outage: %d %s", created.StatusCode, created.Body)
	}
	id := map[string]string{"id": strings.TrimPrefix(created.Header.Get("Location"), "/v1/orders/")}

	out.Store(true)
	requests := map[string]struct {
		path    map[string]string
		query   string
		body    string
		catalog bool // may answer from a copy of the catalog
	}{
		"POST /v1/orders":                     {body: body},
		"GET /v1/orders":                      {},
		"GET /v1/orders/{id}":                 {path: id},
		"POST /v1/orders/{id}/cancel":         {path: id},
		"POST /v1/orders/{id}/reorder":        {path: id},
		"GET /v1/products":                    {catalog: true},
		"GET /v1/products/{sku}":              {path: map[string]string{"sku": "COF-ESP-250"}, catalog: true},
		"GET /v1/admin/products":              {},
		"POST /v1/admin/products":             {body: `{"sku":"NEW-1","name":"New","description":"","unitPrice":1,"currency":"USD"}`},
		"GET /v1/admin/products/{sku}":        {path: map[string]string{"sku": "COF-ESP-250"}},
		"PATCH /v1/admin/products/{sku}":      {path: map[string]string{"sku": "COF-ESP-250"}, body: `{"unitPrice":1}`},
		"POST /v1/admin/products/{sku}/stock": {path: map[string]string{"sku": "COF-ESP-250"}, body: `{"delta":1}`},
		"GET /v1/admin/orders":                {query: "?status=PENDING"},
		"GET /v1/admin/orders/{id}":           {path: id},
		"POST /v1/admin/orders/{id}/confirm":  {path: id},
		"POST /v1/admin/orders/{id}/ship":     {path: id, body: `{"carrier":"DHL","trackingNumber":"JD1"}`},
		"POST /v1/admin/orders/{id}/deliver":  {path: id},
		"POST /v1/admin/orders/{id}/cancel":   {path: id, body: `{"reason":"Out."}`},
	}
	var routes []string
	for _, r := range client.Handler.(*web.Server).Routes() {
		routes = append(routes, r.Pattern)
	}
	slices.Sort(routes)
	for _, route := range routes {
		req, ok := requests[route]
		if !ok {
			t.Errorf("route %s has no request in this test: add one", route)
			continue
		}
		before := attempts.Load()
		resp := do(route+req.query, req.path, req.body)
		t.Logf("%-30s %d after %d DynamoDB attempt(s)", route, resp.StatusCode, attempts.Load()-before)
		if req.catalog && resp.StatusCode == http.StatusOK {
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503; body %s", route, resp.StatusCode, resp.Body)
			continue
		}
		resp.Problem(t, http.StatusServiceUnavailable, "unavailable")
		if got := resp.Header.Get("Retry-After"); got != "5" {
			t.Errorf("%s: Retry-After %q, want 5", route, got)
		}
		if n := attempts.Load() - before; n < int64(awsretry.API.MaxAttempts) {
			t.Errorf("%s: %d DynamoDB attempts, want the SDK's %d at least (it retries before giving up)", route, n, awsretry.API.MaxAttempts)
		}
	}
	for route := range requests {
		if !slices.Contains(routes, route) {
			t.Errorf("the test names route %s, which the API does not have", route)
		}
	}
}
