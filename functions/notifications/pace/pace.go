// Package pace spaces the emails one execution environment of the
// notification function sends, so that all its environments together stay
// within the account's SES sending rate, without any of them knowing of the
// others.
//
// The account's rate (sends a second) is shared by the environments the
// queue's event source may run at once (its MaximumConcurrency, the
// concurrency): each gets Share = rate / concurrency sends a second (the
// template derives the concurrency so that it divides the rate:
// Concurrency). An environment starts a send no sooner than Interval =
// ⌈1 s / Share⌉ after it started the previous one, so no half-open second
// [t, t+1s) holds more than Share of its starts: Share+1 of them span
// Share·Interval ≥ 1 s. An environment so sends its whole share as long
// as SES answers within Interval (200 ms at 5 a second), and all of them
// together the whole rate.
//
// SES counts a request when it arrives, a few milliseconds after it
// started, over the same path each time; should an unlucky arrival make
// one more in a second than the rate and SES refuse it (ThrottlingException),
// the message is retried like any transient failure, never lost
// (docs/decisions/0007-mail-retry-budget.md).
//
// An invocation keeps its slot of the concurrency until Interval has passed
// after its last send started (Settle) before it returns. The next
// invocation of that slot, in whatever environment, then starts Interval
// after it too, so a slot's sends keep the spacing across invocations, and
// the slots together never start more than concurrency × Share = rate
// sends in any second.
//
// A send whose turn would leave less than Reserve before the invocation's
// deadline is not waited for (ErrNoTime): the message is left on the queue
// for a later invocation.
package pace

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// PerEnvironment is the most sends a second one execution environment is
// given; it sets the concurrency a rate needs (Concurrency). An environment
// sends its share as long as SES answers within Interval: at 5 a second,
// 200 ms, four times SES's usual answer. Five, not fewer, because the
// local cloud runs one batch of a FIFO queue at a time: there one
// environment's share is all the mail that goes out
// (docs/decisions/0007-mail-retry-budget.md, Pacing).
const PerEnvironment = 5

// MinConcurrency is the least MaximumConcurrency an SQS event source
// mapping accepts.
const MinConcurrency = 2

// Concurrency is the concurrency a rate is shared by: the fewest
// environments, never fewer than MinConcurrency, that give each at most
// PerEnvironment sends a second and divide the rate, so that their shares
// add up to all of it (14 a second: 7 environments of 2; 50: 10 of 5; a
// rate of a prime number p above 5: p of 1). The template's
// NotificationConcurrency must be this for its SesMaxSendRate
// (internal/contract checks every environment).
func Concurrency(rate int) int {
	c := max(MinConcurrency, (rate+PerEnvironment-1)/PerEnvironment)
	for c < rate && rate%c != 0 {
		c++
	}
	return c
}

// Share is the sends a second one of concurrency environments may make
// when they share rate: ⌊rate / concurrency⌋. It returns an error when
// that is not a positive number.
func Share(rate, concurrency int) (int, error) {
	if rate < 1 || concurrency < 1 || rate/concurrency < 1 {
		return 0, fmt.Errorf("pace: a sending rate of %d a second shared by %d environments leaves each no whole send a second", rate, concurrency)
	}
	return rate / concurrency, nil
}

// Interval is the least time between the starts of two sends of an
// environment given share sends a second: one second divided by share,
// rounded up to the nanosecond so that share+1 sends never fit in one
// second.
func Interval(share int) time.Duration {
	return (time.Second + time.Duration(share) - 1) / time.Duration(share)
}

// Reserve is the time a send must leave before the invocation's deadline:
// for the send itself (one SES call, no SDK retry), recording it in the
// dedupe table, returning the rest of the batch to the queue, and Settle.
const Reserve = 5 * time.Second

// settleReserve is the time Settle leaves before the deadline at least, to
// return the batch's answer.
const settleReserve = time.Second

// ErrNoTime is returned, wrapped, when a send's turn cannot be waited for:
// it comes too close to the invocation's deadline, or the context ended.
var ErrNoTime = errors.New("pace: no time left to send at the paced rate")

// Clock is the time a Pacer reads and waits on; tests pass a fake one.
type Clock interface {
	Now() time.Time
	// Sleep returns after d, or sooner with ctx's error when ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the machine's clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d, or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pacer spaces the sends of one execution environment. Build it once per
// environment (it remembers the last send across invocations); its methods
// may be called from one goroutine at a time or several.
type Pacer struct {
	rate     int
	interval time.Duration
	clock    Clock

	mu   sync.Mutex
	last time.Time // start of the previous send; zero before the first
}

// New returns the pacer of one of concurrency environments sharing rate
// sends a second, or Share's error.
func New(rate, concurrency int, clock Clock) (*Pacer, error) {
	share, err := Share(rate, concurrency)
	if err != nil {
		return nil, err
	}
	return &Pacer{rate: rate, interval: Interval(share), clock: clock}, nil
}

// Rate is the account's sending rate the pacer's environment shares.
func (p *Pacer) Rate() int { return p.rate }

// Interval is the least time between the starts of two sends.
func (p *Pacer) Interval() time.Duration { return p.interval }

// Do waits for the next send's turn, records it and runs send, whatever
// send then returns: SES counts a request it refused too. When
// the turn cannot be waited for (it comes later than ctx's deadline less
// Reserve, or ctx ends) Do returns an error wrapping ErrNoTime without
// running send; otherwise send's error.
func (p *Pacer) Do(ctx context.Context, send func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoTime, err)
	}
	turn := p.turn()
	if !p.inTime(ctx, turn) {
		return fmt.Errorf("%w: the next send may start at %s, too close to the invocation's deadline", ErrNoTime, turn.Format(time.RFC3339Nano))
	}
	if wait := turn.Sub(p.clock.Now()); wait > 0 {
		if err := p.clock.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w: %w", ErrNoTime, err)
		}
	}
	p.last = p.clock.Now()
	return send()
}

// InTime reports whether the next send's turn, as of now, leaves Reserve
// before ctx's deadline. Do decides for good; this lets a caller leave a
// message on the queue before doing any work for it.
func (p *Pacer) InTime(ctx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inTime(ctx, p.turn())
}

// Settle waits until Interval has passed since the last send started, so
// that the invocation keeps its slot of the concurrency until then. It
// waits no later than a second before ctx's deadline, and reports whether
// the whole Interval was kept.
func (p *Pacer) Settle(ctx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until := p.last.Add(p.interval) // long past before the first send
	kept := true
	if dl, ok := ctx.Deadline(); ok && until.After(dl.Add(-settleReserve)) {
		until, kept = dl.Add(-settleReserve), false
	}
	if wait := until.Sub(p.clock.Now()); wait > 0 {
		if err := p.clock.Sleep(ctx, wait); err != nil {
			return false
		}
	}
	return kept
}

// turn is when the next send may start: Interval after the last started,
// or now. p.mu is held.
func (p *Pacer) turn() time.Time {
	now, next := p.clock.Now(), p.last.Add(p.interval)
	if p.last.IsZero() || now.After(next) {
		return now
	}
	return next
}

// inTime reports whether a send starting at turn leaves Reserve and the
// spacing after it before ctx's deadline. p.mu is held.
func (p *Pacer) inTime(ctx context.Context, turn time.Time) bool {
	if ctx.Err() != nil {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || !turn.Add(p.interval).After(dl.Add(-Reserve))
}
