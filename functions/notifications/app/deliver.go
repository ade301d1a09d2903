package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
)

// deliver mails an event: it claims the event in the dedupe table for this
// delivery, under a new owner, prepares its email and sends it. A
// duplicate is acknowledged; a claim that fails, busy or failing, is
// retried. A failure to prepare the email releases the claim and
// dead-letters the message, or retries it when the failure is retryable.
// The secrets prepare returns are what the email carries that must go no
// further (see send).
//
// While the mail circuit is open nothing is claimed: the message is
// returned for later without a call to the table or SES.
func (h *Handler) deliver(ctx context.Context, msg events.SQSMessage, head shared.Header, prepare func() (mail.Email, []string, error)) outcome {
	if open, left := h.mail.state(h.Now()); open && left > 0 {
		h.later(ctx, msg, left, slog.LevelDebug, "mail circuit open; message returned for later")
		return deferred
	}
	if h.Pacer != nil && !h.Pacer.InTime(ctx) {
		return h.outOfTime(ctx, msg)
	}
	owner := h.NewID()
	switch err := h.Dedupe.Claim(ctx, head.ID, owner, h.Now()); {
	case errors.Is(err, ErrDone):
		h.Metrics.Add(MetricDuplicates, 1)
		h.Log.InfoContext(ctx, "duplicate event suppressed")
		return done
	case errors.Is(err, ErrBusy):
		h.Log.InfoContext(ctx, "event is being sent by another delivery; retrying later")
		fallthrough
	case err != nil:
		return h.retryLater(ctx, msg, err)
	}
	email, secrets, err := prepare()
	if err != nil {
		h.release(ctx, head.ID, owner)
		if errors.As(err, new(retryable)) {
			return h.retryLater(ctx, msg, err)
		}
		return h.poison(ctx, msg, err)
	}
	return h.send(ctx, msg, head, owner, email, secrets...)
}

// retryable marks a failure to prepare an email that a later delivery may
// not meet.
type retryable struct{ error }

// release gives up owner's claim, so the retry of the message may claim it
// again at once.
func (h *Handler) release(ctx context.Context, eventID, owner string) {
	if err := h.Dedupe.Release(ctx, eventID, owner); err != nil {
		h.Log.WarnContext(ctx, "releasing claim failed; it lapses on its own", slog.String(logging.KeyError, err.Error()))
	}
}

// send sends the email of an event owner has claimed and records the
// outcome: sent; rejected for good (acknowledged, never retried); or failed
// for now (claim released, message retried). Every kind of event goes out
// this one way. secrets are what the email carries that must go no further,
// should an error quote the email: they are cut from every error text
// logged or recorded.
func (h *Handler) send(ctx context.Context, msg events.SQSMessage, head shared.Header, owner string, email mail.Email, secrets ...string) outcome {
	if open, left := h.mail.state(h.Now()); open && left <= 0 {
		h.Log.InfoContext(ctx, "mail circuit half-open: probing SES with this email")
	}
	var messageID string
	ran, err := h.paced(ctx, func() (err error) {
		messageID, err = h.Sender.Send(ctx, email,
			Tag{Name: "eventType", Value: head.Type}, Tag{Name: "correlationId", Value: head.CorrelationID})
		return err
	})
	if !ran {
		h.release(ctx, head.ID, owner)
		return h.outOfTime(ctx, msg)
	}
	err = redact(err, secrets...)
	h.recordSend(ctx, err == nil || errors.Is(err, ErrPermanent))
	switch {
	case errors.Is(err, ErrPermanent):
		h.Metrics.Add(MetricRejected, 1)
		h.Log.ErrorContext(ctx, "email permanently rejected; not retrying", slog.String(logging.KeyError, err.Error()))
		if ferr := h.Dedupe.Finish(ctx, head.ID, owner, Rejected, "", err.Error()); ferr != nil {
			h.Log.WarnContext(ctx, "recording rejection failed", slog.String(logging.KeyError, ferr.Error()))
		}
		return done
	case err != nil:
		h.release(ctx, head.ID, owner)
		return h.retryLater(ctx, msg, err)
	}
	h.Metrics.Add(MetricSent, 1)
	h.Log.InfoContext(ctx, "email sent", slog.String("sesMessageId", messageID), slog.String("template", mail.TemplateVersion))
	if err := h.Dedupe.Finish(ctx, head.ID, owner, Sent, messageID, ""); err != nil {
		// The email is out. If the record stays SENDING, a redelivery waits
		// for the lease and may send again: at least once, as documented.
		h.Log.ErrorContext(ctx, "recording sent email failed", slog.String(logging.KeyError, err.Error()))
	}
	return done
}

// paced runs send, the one SES call, in its turn when the handler paces
// sends, and counts it towards SesSendRatePercent. ran is false when the
// turn could not be waited for, and send did not run.
func (h *Handler) paced(ctx context.Context, send func() error) (ran bool, err error) {
	if h.Pacer == nil {
		return true, send()
	}
	err = h.Pacer.Do(ctx, func() error { ran = true; return send() })
	if ran {
		h.Metrics.Add(MetricSendRatePercent, 100/(60*float64(h.Pacer.Rate())))
	}
	return ran, err
}

// outOfTime returns a message for a later invocation, unsent and unclaimed:
// its paced send would come too close to this invocation's deadline. It
// comes back after the backoff of its receive count, like a transient
// failure, since a receive that ends this way counts towards the queue's
// maxReceiveCount too.
func (h *Handler) outOfTime(ctx context.Context, msg events.SQSMessage) outcome {
	h.Metrics.Add(MetricOutOfTime, 1)
	h.later(ctx, msg, 0, slog.LevelInfo, "no time left in this invocation to send at the paced rate; message returned for later")
	return retry
}

// redacted is an error whose text has had secrets cut out. errors.Is and
// errors.As still reach the original, which nothing prints.
type redacted struct {
	text string
	err  error
}

func (r *redacted) Error() string { return r.text }
func (r *redacted) Unwrap() error { return r.err }

// redact returns err with every non-empty secret cut from its text, or err
// itself when its text holds none.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	if text == err.Error() {
		return err
	}
	return &redacted{text: text, err: err}
}
