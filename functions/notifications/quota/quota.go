// Package quota reads the account's SES sending quota now and then: SES
// publishes no CloudWatch metric of how much of its 24-hour quota is used,
// so the notification function reports it (SesQuotaUsedPercent) from SES's
// GetSendQuota (the SES v1 API, docs/decisions/0008-ses-api.md). The read is cached for Every per execution environment,
// never made per send, and its failure never holds mail back.
package quota

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/serverless-shop/backend/shared/logging"
)

// SES is the part of the SES API the watcher uses.
type SES interface {
	GetSendQuota(ctx context.Context, in *ses.GetSendQuotaInput, opts ...func(*ses.Options)) (*ses.GetSendQuotaOutput, error)
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

// New returns a watcher of the account whose SES client is ses; rate is the
// sending rate the function was deployed with (SesMaxSendRate), which each
// read compares with the account's. now is the clock (time.Now when nil).
func New(ses SES, rate int, log *slog.Logger, now func() time.Time) *Watcher {
	if now == nil {
		now = time.Now
	}
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
	if max24 <= 0 { // -1: unlimited
		w.ok = false
		return 0, false
	}
	w.used, w.ok = 100*sent/max24, true
	return w.used, true
}
