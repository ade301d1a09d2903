package app

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// BreakerConfig says when the mail circuit opens and how long it stays
// open. The zero value means the defaults below.
type BreakerConfig struct {
	// Failures is how many transient SES failures in a row open the
	// circuit (default BreakerFailures).
	Failures int
	// CoolDown is how long the circuit stays open before one send probes
	// SES again (default BreakerCoolDown); each failed probe doubles it,
	// up to BreakerMaxCoolDown, or CoolDown if that is longer.
	CoolDown time.Duration
}

// Defaults of BreakerConfig. Five failures in a row is half of a full
// batch: one throttled send is normal, a batch that keeps failing is SES
// (or the account) out. A probe every 30 s, up to every 5 min, costs SES
// nothing while it recovers and finds it back within minutes.
const (
	BreakerFailures    = 5
	BreakerCoolDown    = 30 * time.Second
	BreakerMaxCoolDown = 5 * time.Minute
)

// breaker is the mail circuit: closed (send), open (send nothing until the
// cool-down ends), half-open (the cool-down ended: the next send is the
// probe, and its result closes or reopens the circuit). It lives in the
// Handler, built once per execution environment, so each environment has
// its own; messages are processed one at a time, so at most one probe per
// environment is in flight.
type breaker struct {
	mu       sync.Mutex
	failures int           // transient failures in a row
	open     bool          // open or half-open
	until    time.Time     // end of the cool-down
	coolDown time.Duration // of the current opening
}

// state reports whether the circuit is open (or half-open), and how much
// of its cool-down is left: while some is, no send may go to SES; once none
// is, the next send is the probe.
func (b *breaker) state(now time.Time) (open bool, left time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open, b.until.Sub(now)
}

// recordSend tells the mail circuit whether SES answered a send (sent, or
// rejected for good) or failed it for now, and says what that changed: an
// answer closes the circuit; Breaker.Failures transient failures in a row
// open it for the cool-down; a failed probe opens it again for twice as
// long.
func (h *Handler) recordSend(ctx context.Context, answered bool) {
	b := &h.mail
	b.mu.Lock()
	defer b.mu.Unlock()
	if answered {
		if b.open {
			h.Log.InfoContext(ctx, "mail circuit closed: SES answered; sending again")
		}
		b.failures, b.open = 0, false
		return
	}
	b.failures++
	switch {
	case b.open: // the probe failed
		b.coolDown = min(2*b.coolDown, max(BreakerMaxCoolDown, h.Breaker.CoolDown))
		h.Log.WarnContext(ctx, "mail circuit probe failed: open again", slog.Duration("coolDown", b.coolDown))
	case b.failures >= h.Breaker.Failures:
		b.open, b.coolDown = true, h.Breaker.CoolDown
		h.Log.WarnContext(ctx, "mail circuit opened: SES keeps failing; not calling it until the cool-down ends",
			slog.Int("failuresInARow", h.Breaker.Failures), slog.Duration("coolDown", b.coolDown))
	default:
		return
	}
	b.until = h.Now().Add(b.coolDown)
	h.Metrics.Add(MetricCircuitOpened, 1)
}
