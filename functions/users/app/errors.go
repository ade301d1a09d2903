package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

// Errors of the use cases, besides the domain's own.
var (
	// ErrBadCredentials means a login named an unknown email or a wrong
	// password; which of the two is deliberately not said.
	ErrBadCredentials = errors.New("app: email or password incorrect")
	// ErrWrongPassword means the current password given to change it is wrong.
	ErrWrongPassword = errors.New("app: current password incorrect")
)

// TooManyAttemptsError means a password check has to wait: the account's,
// the device's or the source address's attempts went past their free ones
// (account.Throttle). RetryAfter says how long (at least a second).
type TooManyAttemptsError struct {
	RetryAfter time.Duration
}

func (e TooManyAttemptsError) Error() string {
	return fmt.Sprintf("app: too many failed attempts; retry after %s", e.RetryAfter)
}

// SessionChangesLimitedError means the user caused as many revocations of
// access tokens this hour (logouts, password changes) as
// RevocationsPerHour allows; RetryAfter says when the hour ends.
type SessionChangesLimitedError struct {
	RetryAfter time.Duration
}

func (e SessionChangesLimitedError) Error() string {
	return fmt.Sprintf("app: too many logouts and password changes; retry after %s", e.RetryAfter)
}

// RefreshesLimitedError means the session was refreshed as often this
// clock hour as RefreshesPerHour allows; RetryAfter says when the hour ends.
type RefreshesLimitedError struct {
	RetryAfter time.Duration
}

func (e RefreshesLimitedError) Error() string {
	return fmt.Sprintf("app: too many refreshes of the session; retry after %s", e.RetryAfter)
}

// revocationBudget is the limit of the revocations userID may cause.
func (s *Service) revocationBudget(userID string) account.Limit {
	return account.Limit{Key: "revocations#" + userID, Max: s.RevocationsPerHour, Window: time.Hour}
}

// limitedRevocation turns a spent revocation budget into
// SessionChangesLimitedError, counted and logged; other errors pass.
func (s *Service) limitedRevocation(ctx context.Context, err error) error {
	var limited account.LimitedError
	if !errors.As(err, &limited) {
		return err
	}
	s.Metrics.Add(MetricRevocationsLimited, 1)
	s.Log.WarnContext(ctx, "revocations of the user limited", slog.Duration("retryAfter", limited.RetryAfter))
	return SessionChangesLimitedError(limited)
}
