package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
)

var errDomainConflict = errors.New("domain: stale write")

// TestDependencyUnavailableIs503 checks that a handler failing because
// DynamoDB or KMS is out answers a 503 problem with Retry-After, not a 500,
// and that everything else keeps its answer.
func TestDependencyUnavailableIs503(t *testing.T) {
	t.Parallel()
	throttled := &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "PutItem",
		Err: &retry.MaxAttemptsError{Attempt: 3, Err: &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}}}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantSlug   string
	}{
		{name: "DynamoDB throttled after retries", err: fmt.Errorf("save order: %w", throttled), wantStatus: 503, wantSlug: "unavailable"},
		{name: "DynamoDB internal error", err: &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &types.InternalServerError{}}, wantStatus: 503, wantSlug: "unavailable"},
		{name: "KMS throttled", err: fmt.Errorf("sign token: %w", &smithy.OperationError{ServiceID: "KMS", OperationName: "Sign", Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}), wantStatus: 503, wantSlug: "unavailable"},
		{name: "KMS unavailable", err: &smithy.OperationError{ServiceID: "KMS", OperationName: "Encrypt", Err: &kmstypes.KMSInternalException{}}, wantStatus: 503, wantSlug: "unavailable"},
		{name: "transaction throttled", err: &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("ThrottlingError")}}}, wantStatus: 503, wantSlug: "unavailable"},
		{name: "deadline", err: fmt.Errorf("query orders: %w", context.DeadlineExceeded), wantStatus: 503, wantSlug: "unavailable"},
		{name: "mapped domain error wins", err: fmt.Errorf("%w: %w", errDomainConflict, throttled), wantStatus: 409, wantSlug: "conflict"},
		{name: "access denied is a bug", err: &smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}, wantStatus: 500, wantSlug: "internal"},
		{name: "plain error", err: errors.New("boom"), wantStatus: 500, wantSlug: "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rt := httpapi.NewRouter(logging.New(&logs, "test"), nil).
				WithErrors(problem.Table{{Is: errDomainConflict, Kind: problem.Conflict, Detail: "Stale."}})
			rt.Public("GET /v1/things", func(context.Context, *httpapi.Request) (*httpapi.Response, error) { return nil, tc.err })
			resp, err := rt.Handle(context.Background(), event("GET /v1/things"))
			if err != nil {
				t.Fatal(err)
			}
			d := decodeProblem(t, resp, tc.wantStatus)
			if want := problem.TypeBase + tc.wantSlug; d.Type != want {
				t.Errorf("type = %q, want %q", d.Type, want)
			}
			retryAfter, has := resp.Headers["Retry-After"]
			if tc.wantStatus == http.StatusServiceUnavailable {
				if want := fmt.Sprint(int(httpapi.UnavailableRetryAfter.Seconds())); retryAfter != want {
					t.Errorf("Retry-After = %q, want %q", retryAfter, want)
				}
				if strings.Contains(resp.Body, "Throughput") || strings.Contains(resp.Body, "Throttling") {
					t.Errorf("503 body shows the cause: %s", resp.Body)
				}
				if !strings.Contains(logs.String(), "dependency unavailable") {
					t.Errorf("no log line for the 503:\n%s", logs.String())
				}
			} else if has {
				t.Errorf("Retry-After = %q on a %d", retryAfter, tc.wantStatus)
			}
		})
	}
}

// TestHandlersAnswerBeforeTheFunctionTimesOut checks that a handler runs
// under a deadline before Lambda's, so that a dependency that hangs ends in
// a 503 the router can still send.
func TestHandlersAnswerBeforeTheFunctionTimesOut(t *testing.T) {
	t.Parallel()
	lambdaDeadline := time.Now().Add(time.Hour)
	var handlerDeadline time.Time
	rt := httpapi.NewRouter(discardLogger(), nil)
	rt.Public("GET /v1/things", func(ctx context.Context, _ *httpapi.Request) (*httpapi.Response, error) {
		handlerDeadline, _ = ctx.Deadline()
		return nil, fmt.Errorf("query: %w", context.DeadlineExceeded)
	})
	ctx, cancel := context.WithDeadline(context.Background(), lambdaDeadline)
	defer cancel()
	resp, err := rt.Handle(ctx, event("GET /v1/things"))
	if err != nil {
		t.Fatal(err)
	}
	decodeProblem(t, resp, http.StatusServiceUnavailable)
	if handlerDeadline.IsZero() || !handlerDeadline.Before(lambdaDeadline) {
		t.Fatalf("handler deadline %v, want before the function's %v", handlerDeadline, lambdaDeadline)
	}
	if margin := lambdaDeadline.Sub(handlerDeadline); margin < 500*time.Millisecond || margin > 5*time.Second {
		t.Errorf("margin before the function's deadline = %v, want between 0.5 s and 5 s", margin)
	}
}
