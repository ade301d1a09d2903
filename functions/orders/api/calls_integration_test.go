//go:build integration

package api_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/orders/api"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
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
	h, err := api.NewHandler(slog.New(slog.NewTextHandler(io.Discard, nil)), api.Config{
		Store: s, CursorKey: make([]byte, 32), NewID: func() string { return ulid.Make().String() },
	})
	if err != nil {
		t.Fatal(err)
	}
	p := principal.Principal{UserID: "cust-calls", Email: "calls@example.com", Name: "Calls", ExpiresAt: time.Now().Add(time.Hour)}
	do := func(routeKey, path, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, Body: body, Headers: map[string]string{"content-type": "application/json"}}
		for k, v := range headers {
			ev.Headers[k] = v
		}
		if parts := strings.Split(path, "/"); len(parts) > 3 && strings.Contains(routeKey, "{id}") {
			ev.PathParameters = map[string]string{"id": parts[3]}
		}
		ev.RequestContext.RequestID = "req-calls"
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: p.Context()}
		resp, err := h.Handle(ctx, ev)
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

	r := do("POST /v1/orders", "/v1/orders", body, nil)
	check("create order", r.StatusCode, 201, "BatchGetItem TransactWriteItems")
	id := r.Headers["Location"][len("/v1/orders/"):]
	r = do("POST /v1/orders", "/v1/orders", body, map[string]string{"idempotency-key": "k-1"})
	check("create order with Idempotency-Key", r.StatusCode, 201, "PutItem BatchGetItem TransactWriteItems")
	r = do("POST /v1/orders", "/v1/orders", body, map[string]string{"idempotency-key": "k-1"})
	check("replay of an Idempotency-Key", r.StatusCode, 201, "PutItem")
	r = do("GET /v1/orders/{id}", "/v1/orders/"+id, "", nil)
	check("get order", r.StatusCode, 200, "GetItem")
	r = do("GET /v1/orders", "/v1/orders", "", nil)
	check("list orders", r.StatusCode, 200, "Query")
	r = do("POST /v1/orders/{id}/cancel", "/v1/orders/"+id+"/cancel", "", nil)
	check("cancel order", r.StatusCode, 200, "GetItem TransactWriteItems")

	for _, r := range rows {
		t.Logf("%-36s %d call(s): %s", r.request, len(strings.Fields(r.calls)), r.calls)
	}
}
