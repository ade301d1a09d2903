package web

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/shared/ddb"
)

// unavailableCodes are the error codes of AWS services that mean "not now"
// beyond the SDK's own lists of throttling and timeout codes
// (retry.DefaultThrottleErrorCodes, retry.DefaultRetryableErrorCodes),
// which unavailable consults too: failures on the service's side. The SDK
// retries most of them; they reach this package when the retries ran out
// or the client makes none.
var unavailableCodes = map[string]bool{
	"InternalServerError": true, "InternalServerException": true, "InternalFailure": true,
	"InternalError": true, "InternalServiceError": true, "InternalServiceErrorException": true,
	"ServiceUnavailable": true, "ServiceUnavailableException": true,
	// KMS: its own names for the same
	"KMSInternalException": true, "KeyUnavailableException": true, "DependencyTimeoutException": true,
}

// unavailable tells a dependency that is out for now (throttled, failing on
// its side, unreachable, too slow) from every other failure of an AWS call:
// Server.fail answers the first kind with a 503 problem and Retry-After
// instead of a 500, since the request was fine and the client may send it
// again. It reports whether err means that a dependency is unavailable
// for now: an AWS error whose code says throttled or failing on the
// service's side (or any 5xx); a DynamoDB transaction cancelled only for
// throttling or a conflicting transaction; the SDK's retries or its retry
// quota exhausted; a connection that failed or timed out; or the request's
// deadline passing. A refused request (validation, a failed condition,
// access denied, a missing resource) is not: retrying cannot help.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var attempts *retry.MaxAttemptsError
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &attempts) || errors.As(err, &quota) {
		return true
	}
	if reasons, ok := ddb.CancellationReasons(err); ok {
		// Transient when every item that failed failed for a reason
		// retrying later can cure.
		transient := false
		for _, r := range reasons {
			switch aws.ToString(r.Code) {
			case "", "None":
			case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "TransactionConflict":
				transient = true
			default:
				return false // a condition or validation failure: the domain's answer
			}
		}
		return transient
	}
	var api smithy.APIError
	if errors.As(err, &api) && (unavailableCodes[api.ErrorCode()] || api.ErrorFault() == smithy.FaultServer) {
		return true
	}
	// What the SDK itself would retry: connection errors, 5xx statuses,
	// its own list of throttling and transient codes.
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
