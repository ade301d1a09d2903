package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/problem"
)

// Errors of the use cases, besides the domain's own.
var (
	// ErrBadCredentials means a login named an unknown email or a wrong
	// password; which of the two is deliberately not said.
	ErrBadCredentials = errors.New("app: email or password incorrect")
	// ErrWrongPassword means the current password given to change it is wrong.
	ErrWrongPassword = errors.New("app: current password incorrect")
)

// limited is what a reached limit in err (account.Limited) means to the
// client: a problem of kind and slug saying detail, with the limit's
// Retry-After. It is nil when err reached no limit.
func limited(err error, kind problem.Kind, slug, detail string) *problem.Error {
	l := problem.Of(err, problem.TooManyRequests)
	if l == nil {
		return nil
	}
	return &problem.Error{Kind: kind, Slug: slug, Detail: detail, RetryAfter: l.RetryAfter, Err: err}
}

// revocationBudget is the limit of the revocations userID may cause.
func (s *Service) revocationBudget(userID string) account.Limit {
	return account.Limit{Key: "revocations#" + userID, Max: s.RevocationsPerHour, Window: time.Hour}
}

// limitedRevocation turns a spent revocation budget into the client's
// problem, counted and logged; other errors pass.
func (s *Service) limitedRevocation(ctx context.Context, err error) error {
	p := limited(err, problem.TooManyRequests, "", "Too many logouts and password changes for this account this hour. Try again after the time Retry-After gives.")
	if p == nil {
		return err
	}
	s.Metrics.Add(MetricRevocationsLimited, 1)
	s.Log.WarnContext(ctx, "revocations of the user limited", slog.Duration("retryAfter", p.RetryAfter))
	return p
}
