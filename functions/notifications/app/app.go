// Package app is the notification service's use case and its entry from
// the queue: it turns events from the queue into emails, once each: order
// events into order emails, account events into emails carrying the
// account's one-time link. It declares the ports it needs (Dedupe, Sender,
// Opener, Queue, Quota, Pacer) with the errors and values they answer in;
// the adapters (store, sesmail, pace, shared/sealed) implement them,
// and main wires them.
//
// Per message: validate the event (poison goes straight to the dead-letter
// queue with the reason), claim it in the dedupe table (a duplicate is
// acknowledged without mailing), render and send it, record the outcome.
// Transient failures are reported as batch item failures after pushing the
// message's visibility out with exponential backoff; permanent rejections
// are logged, counted and acknowledged. The backoff and the queue's
// maxReceiveCount (MaxReceiveCount) give a transient failure RetryBudget,
// at least 30 minutes, before the queue dead-letters it; poison does not
// wait for that: it is moved at its first receive.
//
// A circuit breaker guards SES: after BreakerFailures transient failures
// in a row, the handler stops calling SES and returns mailable messages for
// later (batch item failures, visibility pushed out past the cool-down),
// counting them in MailCircuitOpen; after the cool-down one send probes SES
// and closes the circuit again, or keeps it open for longer.
//
// Sends are paced (package pace): each execution environment sends at most
// its share of the account's SES sending rate, each send starting no sooner
// than the spacing after the previous one started, and an invocation
// returns only once its last send's spacing has passed. A message whose send would come too close to the
// invocation's deadline is returned for later (MailOutOfTime) rather than
// waited for. Every SES call adds to SesSendRatePercent, and each
// invocation reports the share of the account's 24-hour quota used
// (SesQuotaUsedPercent, read every few minutes by sesmail.Watcher).
//
// The queue is FIFO, so once a message fails, the later messages of its
// group (the same order or account) in the batch are failed unprocessed,
// keeping their order.
//
// An account event's link token arrives sealed (see shared/sealed) and is
// opened only to render the email: the token and the link appear in the
// email and nowhere else, not in logs, errors, metrics, the dedupe table,
// the dead-letter queue's attributes or SES tags.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/outbox"
)

// Dedupe is the dedupe table; *store.Store implements it.
type Dedupe interface {
	// Claim takes the event for owner (one delivery attempt). It returns
	// ErrDone if the event was already sent or rejected, ErrBusy if
	// another delivery holds an unexpired claim.
	Claim(ctx context.Context, eventID, owner string, now time.Time) error
	// Finish records the outcome (Sent or Rejected) of owner's delivery.
	Finish(ctx context.Context, eventID, owner, status, messageID, detail string) error
	// Release gives up owner's claim after a send that certainly did not
	// happen, so the next delivery can claim the event at once.
	Release(ctx context.Context, eventID, owner string) error
}

// Errors of Dedupe.Claim.
var (
	ErrDone = errors.New("dedupe: event already handled")
	ErrBusy = errors.New("dedupe: event being handled by another delivery")
)

// Outcomes of a delivery, as Dedupe.Finish records them.
const (
	Sent     = "SENT"
	Rejected = "REJECTED"
)

// Sender sends an email and returns its SES message id; *sesmail.Sender
// implements it. Its errors wrap ErrPermanent for an email that will never
// be accepted; any other error is transient.
type Sender interface {
	Send(ctx context.Context, e mail.Email, tags ...Tag) (string, error)
}

// ErrPermanent wraps the send failures that retrying cannot fix, such as a
// recipient SES refuses, or one it would refuse.
var ErrPermanent = errors.New("sender: permanently rejected")

// Tag is an SES message tag, published with the configuration set's events.
type Tag struct{ Name, Value string }

// Opener opens the sealed token of an account event's link;
// *sealed.Opener implements it. It returns an error wrapping
// sealed.ErrCannotOpen for a sealed token that will never open, and any
// other error for a failure worth retrying.
type Opener interface {
	Open(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error)
}

// Queue is the part of the SQS API the handler uses.
type Queue interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Quota reports the share of the account's 24-hour SES sending quota
// used, and whether it knows; *sesmail.Watcher implements it.
type Quota interface {
	Used(ctx context.Context) (percent float64, ok bool)
}

// Pacer spaces this execution environment's sends to its share of the
// account's SES sending rate; *pace.Pacer implements it.
type Pacer interface {
	// InTime reports whether the next send's turn, as of now, leaves time
	// for it before ctx's deadline.
	InTime(ctx context.Context) bool
	// Do waits for the next send's turn and runs send, returning its
	// error; when the turn cannot be waited for, it returns an error
	// without running send.
	Do(ctx context.Context, send func() error) error
	// Settle waits until the last send's spacing has passed, no later
	// than shortly before ctx's deadline, and reports whether it did.
	Settle(ctx context.Context) bool
	// Rate is the account's sending rate, a second.
	Rate() int
	// Interval is the least time between the starts of two sends.
	Interval() time.Duration
}

// Metric names.
const (
	MetricSent       = "EmailsSent"
	MetricRejected   = "EmailsRejected"
	MetricDuplicates = "DuplicatesSuppressed"
	MetricPoison     = "PoisonMessages"
	MetricRetried    = "TransientFailures"
	// MetricLinksExpired counts account events whose link had expired
	// before it could be mailed (a late redrive, a long outage): they are
	// acknowledged unsent.
	MetricLinksExpired = "LinksExpired"
	// MetricCircuitOpen counts messages returned for later without
	// calling SES because the mail circuit was open.
	MetricCircuitOpen = "MailCircuitOpen"
	// MetricCircuitOpened counts the openings of the mail circuit.
	MetricCircuitOpened = "MailCircuitOpened"
	// MetricOutOfTime counts messages returned for later, unsent, because
	// their paced send would have come too close to the invocation's
	// deadline.
	MetricOutOfTime = "MailOutOfTime"
	// MetricSendRatePercent is the share of the account's SES sending
	// rate used: every SES call adds 100 / (60 × the rate), so its sum over
	// a minute, over every execution environment, is the percentage of
	// the rate used on average that minute (SesSendRateAlarm). It stands
	// in for metric math, which the local cloud refuses in alarms.
	MetricSendRatePercent = "SesSendRatePercent"
	// MetricQuotaUsedPercent is the percentage of the account's 24-hour
	// SES sending quota used, as last read (SesDailyQuotaAlarm).
	MetricQuotaUsedPercent = "SesQuotaUsedPercent"
)

// Backoff bounds for transient failures: the n-th receive waits about
// BackoffBase * 2^(n-1), at most BackoffMax (SQS allows 12 hours).
const (
	BackoffBase = 5 * time.Second
	BackoffMax  = 15 * time.Minute
)

// MaxReceiveCount is the events queue's redrive maxReceiveCount in
// template.yaml (internal/contract checks they agree): the receives a
// message gets before SQS moves it to the dead-letter queue. With the
// backoff above it gives a transient failure RetryBudget (51 minutes)
// before the message is dead-lettered; at 5, as it was, SES throttling
// dead-lettered mail after 155 s.
const MaxReceiveCount = 10

// RetryBudget is the least time a message that keeps failing transiently
// stays on the queue before it is dead-lettered: the unjittered backoff
// after each of its MaxReceiveCount receives (jitter only adds to it, and
// so does the cool-down of an open mail circuit). See
// docs/decisions/0007-mail-retry-budget.md.
func RetryBudget() (total time.Duration) {
	for n := 1; n <= MaxReceiveCount; n++ {
		total += Backoff(n, 0)
	}
	return total
}

// AttrPoisonReason is the message attribute that says why a message was
// moved to the dead-letter queue.
const AttrPoisonReason = "poisonReason"

// Config wires a Handler.
type Config struct {
	Dedupe     Dedupe
	Sender     Sender
	Renderer   *mail.Renderer
	Opener     Opener // opens the link tokens of account events
	AppBaseURL string // where the links of account emails point, as mail.BaseURL returned it
	Queue      Queue
	QueueURL   string // the source queue, for visibility changes
	DLQURL     string // the dead-letter queue, for poison messages
	Metrics    *metrics.Recorder
	Log        *slog.Logger
	NewID      func() string
	Now        func() time.Time // the clock: time.Now, or a test's
	Breaker    BreakerConfig    // the mail circuit's thresholds; zero for the defaults
	// Pacer spaces this execution environment's sends to its share of the
	// account's SES sending rate; nil sends unpaced (tests).
	Pacer Pacer
	// Quota reads the account's sending quota now and then; nil reports
	// none.
	Quota Quota
}

// Handler processes batches of order and account events. Build it once per
// execution environment: it holds the mail circuit's state.
type Handler struct {
	Config
	mail breaker
}

// New returns a handler, its mail circuit closed; the zero (or negative)
// fields of cfg.Breaker get their defaults.
func New(cfg Config) *Handler {
	cfg.Breaker.Failures = cmp.Or(max(cfg.Breaker.Failures, 0), BreakerFailures)
	cfg.Breaker.CoolDown = cmp.Or(max(cfg.Breaker.CoolDown, 0), BreakerCoolDown)
	return &Handler{Config: cfg}
}

// outcome of one message.
type outcome int

const (
	done     outcome = iota // delete the message
	retry                   // leave it on the queue
	deferred                // leave it on the queue: the mail circuit is open
)

// Handle is the Lambda handler for SQS batches (ReportBatchItemFailures).
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	// An empty list, not null: both mean "all succeeded" to Lambda, but
	// MiniStack's event source mapping crashes on null and then never
	// deletes the batch (seen with ministack 1.5.33).
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failedGroups, n := map[string]bool{}, 0
	for _, msg := range ev.Records {
		group := msg.Attributes["MessageGroupId"]
		// FIFO: a later message of a group whose earlier one failed must
		// wait for it, unprocessed.
		out := retry
		if !failedGroups[group] { // never set for ""
			out = h.process(ctx, msg)
		}
		if out != done {
			failedGroups[group] = group != ""
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
		}
		if out == deferred {
			n++
		}
	}
	if n > 0 {
		h.Metrics.Add(MetricCircuitOpen, float64(n))
		h.Log.WarnContext(ctx, "mail circuit open: messages returned for later without calling SES", slog.Int("messages", n))
	}
	if h.Quota != nil {
		if used, ok := h.Quota.Used(ctx); ok {
			h.Metrics.Add(MetricQuotaUsedPercent, used)
		}
	}
	// Keep this environment's slot of the concurrency until the last
	// send's spacing has passed, so the next invocation of the slot, in
	// whatever environment, cannot send closer to it.
	if h.Pacer != nil && !h.Pacer.Settle(ctx) {
		h.Log.WarnContext(ctx, "returned before the last send's spacing passed: the invocation's deadline came first",
			slog.Duration("interval", h.Pacer.Interval()))
	}
	if err := h.Metrics.Flush(); err != nil {
		h.Log.WarnContext(ctx, "metrics flush failed", slog.String(logging.KeyError, err.Error()))
	}
	return resp, nil
}

func (h *Handler) process(ctx context.Context, msg events.SQSMessage) outcome {
	ctx = logging.With(ctx, slog.String("messageId", msg.MessageId))
	if corr, ok := msg.MessageAttributes[outbox.AttrCorrelationID]; ok && corr.StringValue != nil {
		ctx = logging.With(ctx, slog.String(logging.KeyCorrelationID, *corr.StringValue))
	}
	ev, err := shared.Parse([]byte(msg.Body))
	if err != nil {
		return h.poison(ctx, msg, err)
	}
	head := ev.Head()
	if head.CorrelationID != "" {
		ctx = logging.With(ctx, slog.String(logging.KeyCorrelationID, head.CorrelationID))
	}
	ctx = logging.With(ctx, slog.String("eventId", head.ID), slog.String("eventType", head.Type))
	switch e := ev.(type) {
	case shared.OrderEvent:
		return h.deliver(logging.With(ctx, slog.String("orderId", e.Order.ID)), msg, e.Header, func() (mail.Email, []string, error) {
			email, err := h.Renderer.Render(e)
			return email, nil, err
		})
	case shared.AccountEvent:
		return h.account(logging.With(ctx, slog.String(logging.KeyUserID, e.Account.ID)), msg, e)
	default:
		// Parse knows a type this handler does not: a new kind of event
		// reached the queue before this function learnt it.
		return h.poison(ctx, msg, fmt.Errorf("%w: no handler for %s events", shared.ErrInvalid, head.Type))
	}
}

// poison moves a message that can never succeed to the dead-letter queue,
// with the reason, and acknowledges it. If the move fails, the message is
// retried and reaches the dead-letter queue by the redrive policy instead.
func (h *Handler) poison(ctx context.Context, msg events.SQSMessage, reason error) outcome {
	h.Metrics.Add(MetricPoison, 1)
	reasonText := reason.Error()
	h.Log.ErrorContext(ctx, "poison message moved to the dead-letter queue", slog.String("reason", reasonText))
	if len(reasonText) > 1024 {
		reasonText = strings.ToValidUTF8(reasonText[:1024], "")
	}
	_, err := h.Queue.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               &h.DLQURL,
		MessageBody:            aws.String(msg.Body),
		MessageGroupId:         aws.String(cmp.Or(msg.Attributes["MessageGroupId"], "poison")),
		MessageDeduplicationId: aws.String(msg.MessageId),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			AttrPoisonReason:  {DataType: aws.String("String"), StringValue: aws.String(reasonText)},
			"sourceMessageId": {DataType: aws.String("String"), StringValue: aws.String(msg.MessageId)},
		},
	})
	if err != nil {
		h.Log.ErrorContext(ctx, "moving poison message failed; leaving it to the redrive policy", slog.String(logging.KeyError, err.Error()))
		return h.retryLater(ctx, msg, err)
	}
	return done
}

// retryLater reports the message as failed after pushing its next delivery
// out by exponential backoff with jitter.
func (h *Handler) retryLater(ctx context.Context, msg events.SQSMessage, cause error) outcome {
	h.Metrics.Add(MetricRetried, 1)
	h.later(ctx, msg, 0, slog.LevelWarn, "transient failure; message will be retried", slog.String(logging.KeyError, cause.Error()))
	return retry
}

// later makes the message invisible for the backoff of its receive count,
// with jitter, or until wait has passed, whichever is later, and logs why
// with the delay.
func (h *Handler) later(ctx context.Context, msg events.SQSMessage, wait time.Duration, level slog.Level, why string, attrs ...slog.Attr) {
	receives, _ := strconv.Atoi(msg.Attributes["ApproximateReceiveCount"])
	delay := min(max(Backoff(receives, rand.Float64()), wait.Truncate(time.Second)+time.Second), BackoffMax)
	h.Log.LogAttrs(ctx, level, why, append(attrs, slog.Int("receiveCount", receives), slog.Duration("retryIn", delay))...)
	_, err := h.Queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &h.QueueURL, ReceiptHandle: aws.String(msg.ReceiptHandle), VisibilityTimeout: int32(delay.Seconds()),
	})
	if err != nil {
		// The message still comes back after the queue's visibility timeout.
		h.Log.WarnContext(ctx, "changing message visibility failed", slog.String(logging.KeyError, err.Error()))
	}
}

// Backoff is the delay before the next delivery of a message received
// receives times: BackoffBase doubled per receive, capped at BackoffMax,
// with up to 20% jitter (jitter in [0,1)) so retries of a burst spread out.
func Backoff(receives int, jitter float64) time.Duration {
	// A count below 1 is the first receive's; 5 s doubled 8 times is
	// past BackoffMax.
	d := BackoffBase << min(max(receives-1, 0), 8)
	d += time.Duration(float64(d) * 0.2 * jitter)
	return min(d, BackoffMax).Round(time.Second)
}
