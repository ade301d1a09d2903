package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/revocation"
)

// newLink makes a link of purpose p for u and the event that mails it,
// with the request's correlation id (ctx's). The event carries the token
// sealed for the notification service alone; the returned pending link
// keeps only its hash.
func (s *Service) newLink(ctx context.Context, p account.Purpose, u account.User, now time.Time) (account.PendingLink, events.AccountEvent, error) {
	tok := account.NewLinkToken(p, u.ID)
	link := account.Pending(tok, now)
	ev := events.AccountEvent{
		Header: events.Header{
			Type: p.Event, Version: events.Version, ID: s.NewID(), OccurredAt: now, CorrelationID: logging.CorrelationID(ctx),
		},
		Account: events.Account{ID: u.ID, Email: u.Email},
		Link:    events.Link{ExpiresAt: link.ExpiresAt},
	}
	var err error
	if ev.Link.SealedToken, err = s.Sealer.Seal(ctx, []byte(tok.Raw), ev.SealContext()); err != nil {
		return account.PendingLink{}, events.AccountEvent{}, fmt.Errorf("seal %s link: %w", p, err)
	}
	return link, ev, nil
}

// issue stores a new link of purpose p for u and queues its email, within
// the per-recipient limit. A decoy does the same work without a link: it
// seals a throwaway token and counts the request against the same limit.
func (s *Service) issue(ctx context.Context, p account.Purpose, u account.User, decoy bool) error {
	now := s.now()
	link, ev, err := s.newLink(ctx, p, u, now)
	if err != nil {
		return err
	}
	pending, mail := &link, &ev
	if decoy {
		pending, mail = nil, nil
	}
	limit := account.Limit{Key: p.String() + "#" + u.Email, Max: s.LinksPerHour, Window: time.Hour}
	if err := s.Store.IssueLink(ctx, p, pending, mail, limit, now); err != nil {
		return s.limited(ctx, linksLimited, err, slog.String("purpose", p.String()))
	}
	if decoy {
		s.Log.InfoContext(ctx, "password reset asked for an unregistered email; nothing sent")
		return nil
	}
	s.Metrics.Add(MetricLinksIssued, 1)
	s.Log.InfoContext(ctx, "link issued", slog.String("purpose", p.String()), slog.String(logging.KeyUserID, u.ID), slog.String("eventId", ev.ID))
	return nil
}

// VerifyEmail uses a verification link's token: the account's email is
// verified from then on (new and refreshed access tokens say so), and the
// client that proved the mailbox gets a device token of the account
// (account.DeviceGrant), so that an attack on the account's login bucket
// does not keep it out. Returns the raw device token, or
// account.ErrLinkInvalid for a token that is malformed, unknown, expired,
// replaced by a newer one, or used.
func (s *Service) VerifyEmail(ctx context.Context, rawToken string) (string, error) {
	return s.useLink(ctx, account.VerifyEmail, rawToken, func() { s.Metrics.Add(MetricEmailVerified, 1) }, "email verified",
		func(link account.PendingLink, u account.Credentials, device account.DeviceToken, now time.Time) error {
			return s.Store.VerifyEmail(ctx, link, account.DeviceGrant{Token: device, Email: u.Email, UserID: u.ID, Epoch: u.SessionEpoch}, now)
		})
}

// useLink uses the pending link of purpose p that rawToken is the token
// of: use writes what it does to the account u at now, granting device
// to the client that proved the mailbox if it does (account.DeviceGrant).
// A refused token (account.ErrLinkInvalid, from the token, the pending
// link or use) is counted; a used one is counted (count) and logged as
// done, and the raw device token returned.
func (s *Service) useLink(ctx context.Context, p account.Purpose, rawToken string, count func(), done string, use func(link account.PendingLink, u account.Credentials, device account.DeviceToken, now time.Time) error) (string, error) {
	device := account.NewDeviceToken()
	now := s.now()
	var link account.PendingLink
	var u account.Credentials
	tok, err := account.ParseLinkToken(p, rawToken)
	if err == nil {
		link, u, err = s.Store.PendingLink(ctx, p, tok.UserID)
	}
	if err == nil && !link.Accepts(tok, now) {
		err = account.ErrLinkInvalid
	}
	if err == nil {
		err = use(link, u, device, now)
	}
	if errors.Is(err, account.ErrLinkInvalid) {
		s.Metrics.Add(MetricLinksRefused, 1)
		s.Log.InfoContext(ctx, "link token refused", slog.String("purpose", p.String()))
	}
	if err != nil {
		return "", err
	}
	count()
	s.Log.InfoContext(ctx, done, slog.String(logging.KeyUserID, u.ID))
	return device.Raw, nil
}

// CancelRegistration uses a verification link's token to undo the
// registration it was mailed for: for the reader of a verification email
// who did not register, and whose address someone else entered. The
// account, unverified, is deleted and its address is free again (see
// Store.CancelRegistration for what goes with it). Returns
// account.ErrLinkInvalid, writing nothing, for a token that
// VerifyEmail would refuse, and for an account whose email is verified
// (whose owner proved the mailbox: nobody else may delete it).
//
// The cancel link carries the verification link's token rather than a
// token of its own: both are in the one email, so whoever can use one can
// use the other, and a second token would cost a second KMS call and
// pending link per registration for no one's benefit. Sharing it also
// makes the two exclusive: verifying uses the token up, and so does
// cancelling (docs/decisions/0004-account-lifecycle.md, "Cancelling a
// registration").
func (s *Service) CancelRegistration(ctx context.Context, rawToken string) error {
	_, err := s.useLink(ctx, account.VerifyEmail, rawToken, func() { s.Metrics.Add(MetricRegistrationsCancelled, 1) }, "registration cancelled; account deleted",
		func(link account.PendingLink, u account.Credentials, _ account.DeviceToken, now time.Time) error {
			if u.EmailVerified {
				return account.ErrLinkInvalid
			}
			return s.Store.CancelRegistration(ctx, link, u, now) // grants no device
		})
	return err
}

// ResendVerification mails the caller (userID) a new verification link,
// which replaces the earlier ones, unless the email is verified already
// (then nothing is sent). Returns a 429 problem past the per-recipient limit, and the
// account-mail-paused or account-mail-limit problem, writing nothing, while
// account mail is paused or past its cap of the hour.
func (s *Service) ResendVerification(ctx context.Context, userID string) error {
	if err := s.CheckAccountMail(ctx); err != nil {
		return err
	}
	u, err := s.Store.User(ctx, userID)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		s.Log.InfoContext(ctx, "verification resend for a verified email; nothing sent")
		return nil
	}
	if err := s.countAccountMail(ctx); err != nil {
		return err
	}
	return s.issue(ctx, account.VerifyEmail, u.User, false)
}

// RequestPasswordReset mails a reset link to the account registered under
// rawEmail (normalised), if there is one. The caller learns nothing of which: the
// answer is the same, and so is the work done (two reads, one seal, one
// write), so that its time does not tell either. Returns an
// a validation problem for an invalid email and a 429 problem
// past the per-recipient limit, which counts requests for unregistered
// emails alike; the account-mail-paused problem, writing nothing, while account mail
// is paused.
func (s *Service) RequestPasswordReset(ctx context.Context, rawEmail string) error {
	if err := s.CheckAccountMail(ctx); err != nil {
		return err
	}
	email := account.NormalizeEmail(rawEmail)
	if email == "" {
		return problem.Validation(problem.FieldError{Field: "email", Message: "must be a valid email address"})
	}
	u, err := s.Store.UserByEmail(ctx, email)
	switch {
	case err == nil:
		return s.issue(ctx, account.ResetPassword, u.User, false)
	case errors.Is(err, account.ErrNotFound):
		return s.issue(ctx, account.ResetPassword, account.User{ID: "00000000000000000000000000", Email: email}, true)
	default:
		return err
	}
}

// ResetPassword sets newPassword as the password of the account of the
// reset link whose token is rawToken, marks its email verified (the link
// proved the mailbox), ends every session and device of it and revokes
// its access tokens; the client that proved the
// mailbox gets a device token of the new epoch, so that it logs in at
// once even while the account's bucket is under attack. Returns the raw
// device token, a validation problem for a weak password and
// account.ErrLinkInvalid for a token that is malformed, unknown, expired,
// replaced or used.
func (s *Service) ResetPassword(ctx context.Context, rawToken, newPassword string) (string, error) {
	if msg := account.CheckPassword(newPassword); msg != "" {
		return "", problem.Validation(problem.FieldError{Field: "newPassword", Message: msg})
	}
	return s.useLink(ctx, account.ResetPassword, rawToken, func() { s.Metrics.Add(MetricPasswordsReset, 1) }, "password reset; all sessions revoked",
		func(link account.PendingLink, u account.Credentials, device account.DeviceToken, now time.Time) error {
			revoke := revocation.User(u.ID, u.SessionEpoch+1, now, s.Issuer.TTL())
			grant := account.DeviceGrant{Token: device, Email: u.Email, UserID: u.ID, Epoch: u.SessionEpoch + 1}
			return s.Store.ResetPassword(ctx, link, u, password.Hash(newPassword, s.Hashing), grant, now, revoke)
		})
}
