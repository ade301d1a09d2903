// Package sesmail is the notification function's one adapter of Amazon SES
// (the SES v1 API, docs/decisions/0008-ses-api.md).
//
// Sender sends rendered emails, to the recipient written as SES takes it
// (shared/mailaddr: the domain in Punycode), and sorts its failures into
// permanent ones (this message will never be accepted) and transient ones
// (retry later).
//
// Watcher reads the account's sending quota now and then: SES publishes no
// CloudWatch metric of how much of its 24-hour quota is used, so the
// notification function reports it (SesQuotaUsedPercent) from SES's
// GetSendQuota. The read is cached for Every per execution environment,
// never made per send, and its failure never holds mail back.
package sesmail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/mailaddr"
)

// SES is the part of the SES API the sender and the watcher use.
type SES interface {
	SendEmail(ctx context.Context, in *ses.SendEmailInput, opts ...func(*ses.Options)) (*ses.SendEmailOutput, error)
	GetSendQuota(ctx context.Context, in *ses.GetSendQuotaInput, opts ...func(*ses.Options)) (*ses.GetSendQuotaOutput, error)
}

// Sender sends through one SES configuration set from one address.
type Sender struct {
	ses       SES
	from      string
	configSet string
}

// NewSender returns a sender. An empty configSet sends without a
// configuration set.
func NewSender(c SES, from, configSet string) *Sender {
	return &Sender{ses: c, from: from, configSet: configSet}
}

var tagValue = regexp.MustCompile(`[^A-Za-z0-9_.@-]`)

// Send sends e and returns the SES message id.
// Its failures wrap app.ErrPermanent when retrying cannot fix them: a
// recipient SES refuses, or one it would refuse: an address that
// mailaddr.ToASCII cannot write in ASCII (a local part beyond ASCII, which
// accounts registered before registration refused it may have; a domain
// IDNA cannot convert) is rejected without calling SES. Every other error
// is transient.
func (s *Sender) Send(ctx context.Context, e mail.Email, tags ...app.Tag) (string, error) {
	to, err := mailaddr.ToASCII(e.To)
	if err != nil {
		return "", fmt.Errorf("%w: recipient: %w", app.ErrPermanent, err)
	}
	in := &ses.SendEmailInput{
		Source:      aws.String(s.from),
		Destination: &sestypes.Destination{ToAddresses: []string{to}},
		Message:     &sestypes.Message{Subject: utf8(e.Subject), Body: &sestypes.Body{Text: utf8(e.Text), Html: utf8(e.HTML)}},
	}
	if s.configSet != "" {
		in.ConfigurationSetName = aws.String(s.configSet)
	}
	for _, t := range tags {
		v := tagValue.ReplaceAllString(t.Value, "_")
		if v == "" || len(v) > 256 {
			continue
		}
		in.Tags = append(in.Tags, sestypes.MessageTag{Name: aws.String(t.Name), Value: aws.String(v)})
	}
	out, err := s.ses.SendEmail(ctx, in)
	if err != nil {
		if permanent(err) {
			return "", fmt.Errorf("%w: %w", app.ErrPermanent, err)
		}
		return "", fmt.Errorf("send email: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

// utf8 is a part of an email, in UTF-8.
func utf8(s string) *sestypes.Content {
	return &sestypes.Content{Data: aws.String(s), Charset: aws.String("UTF-8")}
}

// permanent reports whether SES refused this particular message for good:
// the recipient or content is unacceptable (MessageRejected, or
// InvalidParameterValue, SES's answer to a malformed address). Account-wide
// and configuration conditions (sending paused, an unverified MAIL FROM
// domain, a missing configuration set, quotas, throttling) are transient:
// the messages wait in the queue, or in the dead-letter queue for a redrive,
// until they clear.
// (*sestypes.MessageRejected is an API error of that code.)
func permanent(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "MessageRejected" || api.ErrorCode() == "InvalidParameterValue")
}

// Every is how often an execution environment reads the quota at most; a
// failed read waits as long before the next.
const Every = 5 * time.Minute

// Timeout bounds one read, so a slow SES holds an invocation no longer.
const Timeout = 2 * time.Second

// Watcher reads the quota for one execution environment.
type Watcher struct {
	ses  SES
	rate int // SesMaxSendRate as deployed, compared with the account's
	log  *slog.Logger
	now  func() time.Time

	mu   sync.Mutex
	next time.Time // earliest time of the next read
	used float64   // the last read's percentage of the 24-hour quota used
	ok   bool      // whether used holds a reading
}

// NewWatcher returns a watcher of the account whose SES client is ses; rate is the
// sending rate the function was deployed with (SesMaxSendRate), which each
// read compares with the account's. now is the clock: time.Now.
func NewWatcher(ses SES, rate int, log *slog.Logger, now func() time.Time) *Watcher {
	return &Watcher{ses: ses, rate: rate, log: log, now: now}
}

// Used returns the percentage of the account's 24-hour sending quota used
// (SentLast24Hours of Max24HourSend), reading it again when the last read
// is Every old, and whether there is a reading: none before the first read
// succeeds, none when the quota is unlimited. A read that fails is logged
// and the last reading kept.
func (w *Watcher) Used(ctx context.Context) (float64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	if now.Before(w.next) {
		return w.used, w.ok
	}
	w.next = now.Add(Every)
	readCtx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	out, err := w.ses.GetSendQuota(readCtx, &ses.GetSendQuotaInput{})
	if err != nil {
		w.log.WarnContext(ctx, "reading the SES sending quota failed; mail goes on, the next read is in 5 minutes",
			slog.String(logging.KeyError, err.Error()))
		return w.used, w.ok
	}
	max24, sent, maxRate := out.Max24HourSend, out.SentLast24Hours, out.MaxSendRate
	// A new account in the sandbox has a quota of 200 a day and a rate of 1;
	// GetSendQuota does not say whether the sandbox still applies (SES v2's
	// GetAccount did): the quota's figures tell.
	w.log.InfoContext(ctx, "SES sending quota",
		slog.Float64("max24HourSend", max24), slog.Float64("sentLast24Hours", sent), slog.Float64("maxSendRate", maxRate),
		slog.Int("sesMaxSendRate", w.rate))
	switch {
	case maxRate > 0 && float64(w.rate) > maxRate:
		w.log.WarnContext(ctx, "SesMaxSendRate is above the account's SES maximum send rate: SES will throttle mail; deploy with SesMaxSendRate set to the account's rate",
			slog.Int("sesMaxSendRate", w.rate), slog.Float64("maxSendRate", maxRate))
	case maxRate > float64(w.rate):
		w.log.InfoContext(ctx, "the account's SES maximum send rate is above SesMaxSendRate: mail could go out faster (docs/operations.md, SES sending quota)",
			slog.Int("sesMaxSendRate", w.rate), slog.Float64("maxSendRate", maxRate))
	}
	w.used, w.ok = 0, max24 > 0 // -1: unlimited, no reading
	if w.ok {
		w.used = 100 * sent / max24
	}
	return w.used, w.ok
}
