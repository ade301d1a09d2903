package app

import (
	"context"
	"errors"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/problem"
)

// Registration and verification emails go to addresses nobody has proved
// yet: a script registering addresses that bounce spends the account's SES
// quota and its reputation, and once SES pauses the account no order is
// mailed either. Two switches bound them for everyone at once, beside the
// limits per address and per recipient.

// DefaultSesMax24HourSend is the account's SES quota of emails per 24
// hours the service assumes when it is not told (SesMax24HourSend in
// template.yaml): what SES grants an account it takes out of the sandbox.
const DefaultSesMax24HourSend = 50000

// AccountMailPerHour is the cap of registration and verification emails of
// all clients together in one clock hour, for an SES quota of
// max24HourSend emails per 24 hours: half of the quota spread over the 24
// hours (at least one), so that account mail sent at the cap all day long
// leaves the other half to order mail. Password reset emails go to
// registered accounts only and are not counted.
func AccountMailPerHour(max24HourSend int) int { return max(1, max24HourSend/48) }

// ErrAccountMailPaused means account mail is paused (Config.AccountMailPaused):
// registration, verification resends and password reset requests are
// refused before anything is written.
var ErrAccountMailPaused = errors.New("app: account mail is paused")

// MetricAccountMailLimited counts registrations and resends refused by
// the hourly cap of all clients.
const MetricAccountMailLimited = "AccountMailLimited"

// MetricAccountMailPaused counts requests refused while account mail is
// paused.
const MetricAccountMailPaused = "AccountMailPaused"

// CheckAccountMail returns a 503 problem wrapping ErrAccountMailPaused
// while account mail is paused, with a Retry-After of an hour: pauses last
// until an operator lifts them (docs/operations.md, Bounces and
// complaints). The API asks before it counts a request against its
// address, so that a paused route writes nothing at all; the use cases
// ask again.
func (s *Service) CheckAccountMail(ctx context.Context) error {
	if !s.AccountMailPaused {
		return nil
	}
	s.Metrics.Add(MetricAccountMailPaused, 1)
	s.Log.WarnContext(ctx, "account mail is paused; request refused")
	return &problem.Error{Kind: problem.Unavailable, Slug: "account-mail-paused", RetryAfter: time.Hour, Err: ErrAccountMailPaused,
		Detail: "Registration, verification and password reset emails are paused for now. Try again after the time Retry-After gives."}
}

// countAccountMail counts one registration or verification email against
// the hourly cap of all clients, with one conditional UpdateItem of its
// own: not in the registration's transaction, which many registrations at
// once would make conflict on the one item. Past the cap it returns
// the account-mail-limit problem, having written nothing. A request counted here
// that then fails (an email taken) is not given back: the cap errs on the
// side of fewer emails.
func (s *Service) countAccountMail(ctx context.Context) error {
	err := s.Store.CountRequest(ctx, account.Limit{Key: "account-mail", Max: s.AccountMailPerHour, Window: time.Hour}, s.now())
	return s.limited(ctx, accountMailLimited, err)
}
