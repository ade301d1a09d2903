package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

// RequestsLimitedError means the client's address sent more requests to
// the costly public routes this hour than SourceRequestsPerHour allows.
// RetryAfter says when the hour ends (at least a second).
type RequestsLimitedError struct {
	RetryAfter time.Duration
}

func (e RequestsLimitedError) Error() string {
	return fmt.Sprintf("app: too many requests from this address; retry after %s", e.RetryAfter)
}

// CountSourceRequest counts a request to a costly public route against
// the client's address (as API Gateway saw it; "" counts nothing). The
// gateway's throttle is shared by every client; this one is each
// address's own, so one script cannot use up a route for everybody.
func (s *Service) CountSourceRequest(ctx context.Context, source string) error {
	if source == "" {
		return nil
	}
	limit := account.Limit{Key: "source#" + source, Max: s.SourceRequestsPerHour, Window: time.Hour}
	err := s.Requests.CountRequest(ctx, limit, s.now())
	var limited account.LimitedError
	if errors.As(err, &limited) {
		s.Metrics.Add(MetricRequestsLimited, 1)
		s.Log.WarnContext(ctx, "requests from the address limited", slog.Duration("retryAfter", limited.RetryAfter))
		return RequestsLimitedError(limited)
	}
	return err
}
