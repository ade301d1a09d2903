package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// responseError is an error as the SDK returns it from an operation: the
// operation error around the HTTP response error around the API error.
func responseError(status int, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     "req-1",
	}}
}

func cancelled(codes ...string) error {
	var reasons []types.CancellationReason
	for _, c := range codes {
		reasons = append(reasons, types.CancellationReason{Code: aws.String(c)})
	}
	return responseError(400, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons})
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},

		// Throttling, as each service words it.
		{name: "DynamoDB throughput exceeded", err: responseError(400, &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}), want: true},
		{name: "DynamoDB request limit", err: responseError(400, &types.RequestLimitExceeded{Message: aws.String("account limit")}), want: true},
		{name: "DynamoDB throttling (generic)", err: responseError(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}), want: true},
		{name: "KMS request quota", err: responseError(400, &kmstypes.LimitExceededException{Message: aws.String("quota")}), want: true},
		{name: "SES v2 throttling", err: responseError(429, &smithy.GenericAPIError{Code: "TooManyRequestsException"}), want: true},

		// The service failing on its side.
		{name: "DynamoDB internal server error", err: responseError(500, &types.InternalServerError{Message: aws.String("oops")}), want: true},
		{name: "service unavailable", err: responseError(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"}), want: true},
		{name: "KMS internal", err: responseError(500, &kmstypes.KMSInternalException{}), want: true},
		{name: "KMS key unavailable", err: responseError(500, &kmstypes.KeyUnavailableException{}), want: true},
		{name: "KMS dependency timeout", err: responseError(503, &kmstypes.DependencyTimeoutException{}), want: true},
		{name: "Secrets Manager internal", err: responseError(500, &smtypes.InternalServiceError{}), want: true},
		{name: "unknown code with server fault", err: &smithy.GenericAPIError{Code: "Mystery", Fault: smithy.FaultServer}, want: true},
		{name: "bare 502 status", err: responseError(502, errors.New("bad gateway")), want: true},

		// The SDK gave up.
		{name: "retries exhausted", err: &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "PutItem",
			Err: &retry.MaxAttemptsError{Attempt: 3, Err: responseError(400, &types.ProvisionedThroughputExceededException{})}}, want: true},
		{name: "retry quota exhausted", err: &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "Query",
			Err: fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5})}, want: true},

		// The network and the clock.
		{name: "connection refused", err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://dynamodb", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}}, want: true},
		{name: "connection reset", err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://dynamodb", Err: errors.New("read tcp: connection reset by peer")}}, want: true},
		{name: "i/o timeout", err: &url.Error{Op: "Post", URL: "https://kms", Err: &net.OpError{Op: "read", Err: timeoutErr{}}}, want: true},
		{name: "deadline passed", err: &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "GetItem", Err: &smithy.CanceledError{Err: context.DeadlineExceeded}}, want: true},
		{name: "wrapped deadline", err: fmt.Errorf("get user: %w", context.DeadlineExceeded), want: true},

		// Transactions.
		{name: "transaction throttled", err: cancelled("None", "ThrottlingError"), want: true},
		{name: "transaction conflict", err: cancelled("TransactionConflict", "None"), want: true},
		{name: "transaction condition failed", err: cancelled("ConditionalCheckFailed", "None"), want: false},
		{name: "transaction condition failed and throttled", err: cancelled("ConditionalCheckFailed", "ThrottlingError"), want: false},
		{name: "transaction without reasons", err: cancelled(), want: false},

		// Refusals: retrying cannot help.
		{name: "condition failed", err: responseError(400, &types.ConditionalCheckFailedException{}), want: false},
		{name: "validation", err: responseError(400, &smithy.GenericAPIError{Code: "ValidationException", Fault: smithy.FaultClient}), want: false},
		{name: "access denied", err: responseError(400, &smithy.GenericAPIError{Code: "AccessDeniedException", Fault: smithy.FaultClient}), want: false},
		{name: "table missing", err: responseError(400, &types.ResourceNotFoundException{}), want: false},
		{name: "KMS invalid ciphertext", err: responseError(400, &kmstypes.InvalidCiphertextException{}), want: false},
		{name: "request cancelled by caller", err: &smithy.CanceledError{Err: context.Canceled}, want: false},
		{name: "plain error", err: errors.New("decode user: unexpected end of JSON input"), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := unavailable(tc.err); got != tc.want {
				t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
			if tc.err != nil {
				if got := unavailable(fmt.Errorf("store: %w", tc.err)); got != tc.want {
					t.Errorf("Unavailable(wrapped %v) = %v, want %v", tc.err, got, tc.want)
				}
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
