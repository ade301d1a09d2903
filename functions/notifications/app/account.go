package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/sealed"
)

// account mails an account event's link. The link's token is opened after
// the claim, so a duplicate costs no KMS call, and lives only in the
// preparing of its email.
func (h *Handler) account(ctx context.Context, msg events.SQSMessage, e shared.AccountEvent) outcome {
	if !e.Link.ExpiresAt.After(h.Now()) {
		// A dead link would only make the reader ask again; the message
		// is done. (A dead-lettered event redriven late ends here.)
		h.Metrics.Add(MetricLinksExpired, 1)
		h.Log.InfoContext(ctx, "link expired before it could be mailed; acknowledged without sending",
			slog.Time("linkExpiresAt", e.Link.ExpiresAt))
		return done
	}
	return h.deliver(ctx, msg, e.Header, func() (mail.Email, []string, error) {
		// The context is rebuilt from the event as it will be mailed: its
		// recipient, purpose and expiry as well as its ids. A token sealed
		// for another address, purpose or expiry does not open, so an event
		// re-addressed on its way (a compromised relay, a wrong grant on
		// the queue or the table) mails nothing.
		token, err := h.Opener.Open(ctx, e.Link.SealedToken, e.SealContext())
		if err != nil && !errors.Is(err, sealed.ErrCannotOpen) {
			err = retryable{err}
		}
		if err != nil {
			// ErrCannotOpen: corrupt, sealed under another key, for another
			// event or another recipient, purpose or expiry: no retry
			// helps. (The error describes the sealed token, never the
			// token.)
			return mail.Email{}, nil, fmt.Errorf("open link token: %w", err)
		}
		email, links, err := h.Renderer.RenderAccount(e, h.AppBaseURL, string(token))
		secrets := []string{links.Link, links.Cancel, string(token), url.QueryEscape(string(token))}
		return email, secrets, redact(err, secrets...)
	})
}
