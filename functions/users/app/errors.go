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
// problem (kind, slug, detail), how it is counted (its metric) and the
// warning it is logged under.
type limit struct {
	kind         problem.Kind
	slug, detail string
	count        func(*Service)
	log          string
}

// The limits whose reaching the use cases tell the client.
var (
	revocationsLimited = limit{problem.TooManyRequests, "", "Too many logouts and password changes for this account this hour. Try again after the time Retry-After gives.",
		func(s *Service) { s.Metrics.Add(MetricRevocationsLimited, 1) }, "revocations of the user limited"}
	linksLimited = limit{problem.TooManyRequests, "", "Too many emails of this kind were asked for this address. Try again later.",
		func(s *Service) { s.Metrics.Add(MetricLinksLimited, 1) }, "link request over the limit"}
	refreshesLimited = limit{problem.TooManyRequests, "", "This session was refreshed too often this hour. Try again after the time Retry-After gives.",
		func(s *Service) { s.Metrics.Add(MetricRefreshesLimited, 1) }, "refreshes of the session limited"}
	accountMailLimited = limit{problem.Unavailable, "account-mail-limit", "The shop has sent as many registration and verification emails this hour as it may. Try again after the time Retry-After gives.",
		func(s *Service) { s.Metrics.Add(MetricAccountMailLimited, 1) }, "registration and verification emails capped for the hour"}
	sourceLimited = limit{problem.TooManyRequests, "", "Too many requests from this address. Try again after the time Retry-After gives.",
		func(s *Service) { s.Metrics.Add(MetricRequestsLimited, 1) }, "requests from the address limited"}
)

// limited turns a reached limit in err (account.Limited) into l's problem
// with the limit's Retry-After, counted and logged with attrs; other
// errors pass.
func (s *Service) limited(ctx context.Context, l limit, err error, attrs ...any) error {
	reached := problem.Of(err, problem.TooManyRequests)
	if reached == nil {
		return err
	}
	l.count(s)
	s.Log.WarnContext(ctx, l.log, append(attrs, slog.Duration("retryAfter", reached.RetryAfter))...)
	return &problem.Error{Kind: l.kind, Slug: l.slug, Detail: l.detail, RetryAfter: reached.RetryAfter, Err: err}
}
