package app

import (
	"cmp"
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

// transition is what a recorded send changed in the circuit.
type transition int

const (
	unchanged   transition = iota
	opened                 // closed -> open: too many failures in a row
	reopened               // the probe failed: open again, for longer
	closedAgain            // the probe (or any send) got an answer from SES
)

// breaker is the mail circuit: closed (send), open (send nothing until the
// cool-down ends), half-open (the cool-down ended: the next send is the
// probe, and its result closes or reopens the circuit). It lives in the
// Handler, built once per execution environment, so each environment has
// its own; messages are processed one at a time, so at most one probe per
// environment is in flight.
type breaker struct {
	cfg BreakerConfig

	mu       sync.Mutex
	failures int           // transient failures in a row
	open     bool          // open or half-open
	until    time.Time     // end of the cool-down
	coolDown time.Duration // of the current opening
}

// newBreaker returns a closed circuit of cfg, the defaults in place of its
// zero (or negative) values.
func newBreaker(cfg BreakerConfig) *breaker {
	cfg.Failures = cmp.Or(max(cfg.Failures, 0), BreakerFailures)
	cfg.CoolDown = cmp.Or(max(cfg.CoolDown, 0), BreakerCoolDown)
	return &breaker{cfg: cfg}
}

// state reports whether the circuit is open (or half-open), and how much
// of its cool-down is left: while some is, no send may go to SES; once none
// is, the next send is the probe.
func (b *breaker) state(now time.Time) (open bool, left time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open, b.until.Sub(now)
}

// record takes the outcome of a send: ok when SES answered it (sent, or
// rejected for good), not ok for a transient failure.
func (b *breaker) record(ok bool, now time.Time) (transition, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.failures = 0
		if b.open {
			b.open = false
			return closedAgain, 0
		}
		return unchanged, 0
	}
	b.failures++
	switch {
	case b.open: // the probe failed
		b.coolDown = min(2*b.coolDown, max(BreakerMaxCoolDown, b.cfg.CoolDown))
		b.until = now.Add(b.coolDown)
		return reopened, b.coolDown
	case b.failures >= b.cfg.Failures:
		b.open, b.coolDown = true, b.cfg.CoolDown
		b.until = now.Add(b.coolDown)
		return opened, b.coolDown
	}
	return unchanged, 0
}
