package app

import (
	"context"
	"errors"
	"log/slog"

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

// limit is what reaching one of the service's limits means: the client's
// problem (kind, slug, detail), the metric that counts it and the warning
// it is logged under.
type limit struct {
	kind                      problem.Kind
	slug, detail, metric, log string
}

// The limits whose reaching the use cases tell the client.
var (
	revocationsLimited = limit{problem.TooManyRequests, "", "Too many logouts and password changes for this account this hour. Try again after the time Retry-After gives.",
		MetricRevocationsLimited, "revocations of the user limited"}
	linksLimited = limit{problem.TooManyRequests, "", "Too many emails of this kind were asked for this address. Try again later.",
		MetricLinksLimited, "link request over the limit"}
	refreshesLimited = limit{problem.TooManyRequests, "", "This session was refreshed too often this hour. Try again after the time Retry-After gives.",
		MetricRefreshesLimited, "refreshes of the session limited"}
	accountMailLimited = limit{problem.Unavailable, "account-mail-limit", "The shop has sent as many registration and verification emails this hour as it may. Try again after the time Retry-After gives.",
		MetricAccountMailLimited, "registration and verification emails capped for the hour"}
	sourceLimited = limit{problem.TooManyRequests, "", "Too many requests from this address. Try again after the time Retry-After gives.",
		MetricRequestsLimited, "requests from the address limited"}
)

// limited turns a reached limit in err (account.Limited) into l's problem
// with the limit's Retry-After, counted and logged with attrs; other
// errors pass.
func (s *Service) limited(ctx context.Context, l limit, err error, attrs ...any) error {
	reached := problem.Of(err, problem.TooManyRequests)
	if reached == nil {
		return err
	}
	s.Metrics.Add(l.metric, 1)
	s.Log.WarnContext(ctx, l.log, append(attrs, slog.Duration("retryAfter", reached.RetryAfter))...)
	return &problem.Error{Kind: l.kind, Slug: l.slug, Detail: l.detail, RetryAfter: reached.RetryAfter, Err: err}
}
