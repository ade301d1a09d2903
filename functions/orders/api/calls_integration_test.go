//go:build integration

package api_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/orders/api"
	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/principal"
)

// callLog records the DynamoDB operations the service makes, as an SDK
// middleware sees them leave.
type callLog struct {
	mu  sync.Mutex
	ops []string
}

func (c *callLog) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = nil
	return strings.Join(ops, " ")
}

// TestAWSCallsPerRequest counts the AWS calls each orders route makes
// against the real table. The counts are the minimum the design allows:
// every write that must be atomic is one transaction, and reads are batched.
func TestAWSCallsPerRequest(t *testing.T) {
	calls := &callLog{}
	db := dynamodb.NewFromConfig(testcloud.Config(t), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				calls.mu.Lock()
				calls.ops = append(calls.ops, middleware.GetOperationName(ctx))
				calls.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	})
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})
	s := store.New(db, table)
	ctx := context.Background()
	if err := s.PutProducts(ctx, []order.Product{
		{SKU: "COF-ESP-250", Name: "Espresso", UnitPrice: 1290, Currency: "USD", Active: true},
		{SKU: "BRW-V60-02", Name: "Dripper", UnitPrice: 2400, Currency: "USD", Active: true},
	}); err != nil {
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
	do := func(route, id, body string, headers map[string]string) events.APIGatewayProxyResponse {
		t.Helper()
		in := apitest.Request{Route: route, Body: body, Headers: headers, Bearer: bearer}
		if id != "" {
			in.Path = map[string]string{"id": id}
		}
		resp, err := h.Handle(ctx, in.Event())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	body := `{"items":[{"sku":"COF-ESP-250","quantity":2},{"sku":"BRW-V60-02","quantity":1}]}`
	calls.take() // forget the seeding

	type row struct{ request, calls string }
	var rows []row
	check := func(request string, status, wantStatus int, want string) {
		t.Helper()
		got := calls.take()
		rows = append(rows, row{request, got})
		if status != wantStatus || got != want {
			t.Errorf("%s: status %d, calls %q; want %d, %q", request, status, got, wantStatus, want)
		}
	}

	r := do("POST /v1/orders", "", body, nil)
	check("create order", r.StatusCode, 201, "BatchGetItem TransactWriteItems")
	id := strings.TrimPrefix(r.Headers["Location"], "/v1/orders/")
	r = do("POST /v1/orders", "", body, map[string]string{"Idempotency-Key": "k-1"})
	check("create order with Idempotency-Key", r.StatusCode, 201, "PutItem BatchGetItem TransactWriteItems")
	r = do("POST /v1/orders", "", body, map[string]string{"Idempotency-Key": "k-1"})
	check("replay of an Idempotency-Key", r.StatusCode, 201, "PutItem")
	r = do("GET /v1/orders/{id}", id, "", nil)
	check("get order", r.StatusCode, 200, "GetItem")
	r = do("GET /v1/orders", "", "", nil)
	check("list orders", r.StatusCode, 200, "Query")
	r = do("POST /v1/orders/{id}/cancel", id, "", nil)
	check("cancel order", r.StatusCode, 200, "GetItem TransactWriteItems")
	r = do("POST /v1/orders/{id}/reorder", id, "", nil)
	check("reorder", r.StatusCode, 201, "GetItem BatchGetItem TransactWriteItems")

	for _, r := range rows {
		t.Logf("%-36s %d call(s): %s", r.request, len(strings.Fields(r.calls)), r.calls)
	}
}
