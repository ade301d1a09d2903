package pace_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/notifications/pace"
)

// fakeClock is a clock that only moves when told to: Sleep moves it on at
// once, and a send's latency moves it on by hand.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) advance(d time.Duration) { c.now = c.now.Add(d) }

// t0 is where fake clocks start: an hour ahead of the real clock, so that a
// context whose deadline is set on the fake clock does not end in the real
// one while a test runs.
var t0 = time.Now().Add(time.Hour).Truncate(time.Second)

func newPacer(t *testing.T, rate, concurrency int, clock pace.Clock) *pace.Pacer {
	t.Helper()
	p, err := pace.New(rate, concurrency, clock)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShareAndInterval: the share and interval of a rate over a
// concurrency, and the shares refused (0 here).
func TestShareAndInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rate, concurrency int
		share             int
		interval          time.Duration
	}{
		{rate: 10, concurrency: 2, share: 5, interval: 200 * time.Millisecond},
		{rate: 14, concurrency: 3, share: 4, interval: 250 * time.Millisecond},
		{rate: 14, concurrency: 2, share: 7, interval: 142857143 * time.Nanosecond},
		{rate: 9, concurrency: 3, share: 3, interval: 333333334 * time.Nanosecond},
		{rate: 2, concurrency: 2, share: 1, interval: time.Second},
		{rate: 1, concurrency: 2}, {rate: 4, concurrency: 5}, {rate: 0, concurrency: 2}, {rate: -3, concurrency: 2}, {rate: 10, concurrency: 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d over %d", tc.rate, tc.concurrency), func(t *testing.T) {
			t.Parallel()
			share, err := pace.Share(tc.rate, tc.concurrency)
			p, perr := pace.New(tc.rate, tc.concurrency, pace.SystemClock{})
			if tc.share == 0 {
				if err == nil || perr == nil || !strings.Contains(perr.Error(), "no whole send") {
					t.Errorf("Share = %d, %v; New: %v; want the Share error from both", share, err, perr)
				}
				return
			}
			if err != nil || share != tc.share || perr != nil {
				t.Fatalf("Share = %d, %v; New: %v; want %d", share, err, perr, tc.share)
			}
			if got := pace.Interval(share); got != tc.interval {
				t.Errorf("Interval(%d) = %v, want %v", share, got, tc.interval)
			}
			if p.Rate() != tc.rate || p.Interval() != tc.interval || !p.InTime(context.Background()) {
				t.Errorf("Pacer's Rate, Interval = %d, %v; or its first send not in time without a deadline", p.Rate(), p.Interval())
			}
		})
	}
}

// TestConcurrencyIsDerivedFromTheRate: for every rate from 2 to 1000, the
// concurrency is the fewest environments, MinConcurrency at least, that
// divide the rate into shares of PerEnvironment at most.
func TestConcurrencyIsDerivedFromTheRate(t *testing.T) {
	t.Parallel()
	for rate := 2; rate <= 1000; rate++ {
		c := pace.Concurrency(rate)
		share, err := pace.Share(rate, c)
		if err != nil || c < pace.MinConcurrency || share > pace.PerEnvironment || share*c != rate {
			t.Fatalf("rate %d over %d environments: share %d, %v; want 1 to %d each, the whole rate together", rate, c, share, err, pace.PerEnvironment)
		}
		for fewer := max(pace.MinConcurrency, (rate+pace.PerEnvironment-1)/pace.PerEnvironment); fewer < c; fewer++ {
			if rate%fewer == 0 {
				t.Fatalf("rate %d: %d environments, where %d divide it too", rate, c, fewer)
			}
		}
	}
}

// TestSpacingIsBetweenStarts: sends start Interval apart; one that took
// longer than Interval is followed at once, so an environment sends its
// whole share as long as SES answers within Interval.
func TestSpacingIsBetweenStarts(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: t0}
	p := newPacer(t, 10, 2, clock) // 5 a second: 200 ms
	var starts []time.Time
	send := func(latency time.Duration) func() error {
		return func() error {
			starts = append(starts, clock.Now())
			clock.advance(latency)
			return nil
		}
	}
	ctx := context.Background()
	for _, latency := range []time.Duration{60 * time.Millisecond, 800 * time.Millisecond, 10 * time.Millisecond} {
		if err := p.Do(ctx, send(latency)); err != nil {
			t.Fatal(err)
		}
		clock.advance(50 * time.Millisecond) // the next message's claim and render
	}
	if err := p.Do(ctx, send(0)); err != nil {
		t.Fatal(err)
	}
	gaps := []time.Duration{starts[1].Sub(starts[0]), starts[2].Sub(starts[1]), starts[3].Sub(starts[2])}
	if want := []time.Duration{200 * time.Millisecond, 850 * time.Millisecond, 200 * time.Millisecond}; !slices.Equal(gaps, want) {
		t.Errorf("gaps between starts %v, want %v (the interval; a slow send and its follower's claim; the interval)", gaps, want)
	}
	if !slices.Equal(clock.sleeps, []time.Duration{90 * time.Millisecond, 140 * time.Millisecond}) {
		t.Errorf("slept %v, want what the sends and claims left of each interval", clock.sleeps)
	}
	// A failed send counts as a send: SES saw the request.
	failed := errors.New("throttled")
	if err := p.Do(ctx, func() error { starts = append(starts, clock.Now()); return failed }); !errors.Is(err, failed) {
		t.Fatalf("Do = %v, want the send's error", err)
	}
	if err := p.Do(ctx, send(0)); err != nil {
		t.Fatal(err)
	}
	if got := starts[5].Sub(starts[4]); got != 200*time.Millisecond {
		t.Errorf("the send after a failed one started %v after it, want 200ms", got)
	}
}

// burst is a simulated run of one slot of the concurrency: invocations one
// after another, each maybe in a new execution environment, sending with
// random latencies; it returns the times SES received the sends.
type burst struct {
	rate, concurrency int
	invocations       int
	freshEnvironment  bool // each invocation in a new environment (a new Pacer), the worst case
	settle            bool // call Settle before returning, as the handler does
	latency           func(r *rand.Rand) time.Duration
}

func (b burst) run(t *testing.T, seed uint64) []time.Time {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 21))
	clock := &fakeClock{now: t0}
	p := newPacer(t, b.rate, b.concurrency, clock)
	var received []time.Time
	for range b.invocations {
		if b.freshEnvironment {
			p = newPacer(t, b.rate, b.concurrency, clock)
		}
		ctx, cancel := context.WithDeadline(context.Background(), clock.Now().Add(30*time.Second))
		for range 1 + r.IntN(10) { // a batch of 1 to 10
			clock.advance(time.Duration(r.IntN(40)) * time.Millisecond) // claim, render
			err := p.Do(ctx, func() error {
				// SES receives the request a moment after it starts, over
				// the same path each time.
				received = append(received, clock.Now().Add(uplink))
				clock.advance(b.latency(r))
				return nil
			})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			clock.advance(time.Duration(r.IntN(15)) * time.Millisecond) // record the send
		}
		if b.settle && !p.Settle(ctx) {
			t.Fatal("Settle cut short with 30 s to go")
		}
		cancel()
		// The slot's next invocation: at once, or a little later.
		if r.IntN(2) == 0 {
			clock.advance(time.Duration(r.IntN(500)) * time.Millisecond)
		}
	}
	return received
}

// uplink is how long a request takes to reach SES in the simulation.
const uplink = 3 * time.Millisecond

// busiestSecond is the most of times in any half-open second [t, t+1s),
// and where it starts. The busiest window can always be moved to start at
// one of the times, so only those are tried.
func busiestSecond(times []time.Time) (int, time.Time) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	most, at := 0, time.Time{}
	j := 0
	for i := range ts {
		for j < len(ts) && ts[j].Before(ts[i].Add(time.Second)) {
			j++
		}
		if j-i > most {
			most, at = j-i, ts[i]
		}
	}
	return most, at
}

func latencies(max time.Duration) func(r *rand.Rand) time.Duration {
	return func(r *rand.Rand) time.Duration {
		if max == 0 {
			return 0
		}
		switch r.IntN(5) {
		case 0:
			return 0
		case 1:
			return max
		default:
			return time.Duration(r.Int64N(int64(max)))
		}
	}
}

// TestEnvironmentsStayWithinTheRate: concurrency slots send at once, the
// first in one environment across its invocations, every other with each
// invocation in a new environment that knows nothing of the sends before
// it. Over any sliding second each slot sends no more than its share and
// all together no more than the rate, whatever the latency of each send.
// Without Settle they do not, which is why the handler settles.
func TestEnvironmentsStayWithinTheRate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ rate, concurrency int }{{10, 2}, {14, 7}, {14, 3}, {14, 2}, {9, 3}, {2, 2}, {50, 10}, {10, 5}} {
		for _, maxLatency := range []time.Duration{0, 150 * time.Millisecond, 700 * time.Millisecond} {
			t.Run(fmt.Sprintf("%d over %d, latency to %v", c.rate, c.concurrency, maxLatency), func(t *testing.T) {
				t.Parallel()
				share, _ := pace.Share(c.rate, c.concurrency)
				for seed := range uint64(10) { // as many invocations in all as the two simulations this one replaced
					var all []time.Time
					for slot := range uint64(c.concurrency) {
						received := burst{rate: c.rate, concurrency: c.concurrency, invocations: 30,
							freshEnvironment: slot > 0, settle: true, latency: latencies(maxLatency)}.run(t, seed*100+slot)
						if most, at := busiestSecond(received); most > share {
							t.Fatalf("seed %d, slot %d: %d sends in the second from %s, share %d", seed, slot, most, at.Format(time.StampMilli), share)
						}
						all = append(all, received...)
					}
					if most, at := busiestSecond(all); most > c.rate {
						t.Fatalf("seed %d: %d sends in the second from %s, rate %d", seed, most, at.Format(time.StampMilli), c.rate)
					}
				}
			})
		}
	}

	t.Run("without Settle a new environment oversends", func(t *testing.T) {
		t.Parallel()
		var all []time.Time
		for range 2 {
			all = append(all, burst{rate: 10, concurrency: 2, invocations: 30, freshEnvironment: true,
				latency: func(*rand.Rand) time.Duration { return 0 }}.run(t, 7)...)
		}
		most, _ := busiestSecond(all)
		if most <= 10 {
			t.Errorf("busiest second %d without Settle: the test no longer shows why Settle is needed", most)
		}
		t.Logf("without Settle: busiest second %d (rate 10)", most)
	})
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: t0}
	p := newPacer(t, 10, 2, clock) // 200 ms
	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(pace.Reserve+time.Second))
	defer cancel()
	sends := 0
	send := func() error { sends++; return nil }

	// 0 s: the turn is now, and 0.2 s of spacing after it leaves Reserve.
	if !p.InTime(ctx) {
		t.Fatal("InTime = false with a second to spare")
	}
	if err := p.Do(ctx, send); err != nil {
		t.Fatal(err)
	}
	// 0.7 s: the next turn (0.7 s) plus its spacing ends at 0.9 s, in time.
	clock.advance(700 * time.Millisecond)
	if err := p.Do(ctx, send); err != nil {
		t.Fatal(err)
	}
	// 0.75 s: the next turn is 0.9 s; its spacing ends at 1.1 s, past
	// deadline − Reserve (1 s): left for a later invocation, unsent, and
	// without waiting.
	clock.advance(50 * time.Millisecond)
	if p.InTime(ctx) {
		t.Error("InTime = true with the turn's spacing past the reserve")
	}
	sleeps := len(clock.sleeps)
	if err := p.Do(ctx, send); !errors.Is(err, pace.ErrNoTime) {
		t.Fatalf("Do = %v, want ErrNoTime", err)
	}
	if sends != 2 || len(clock.sleeps) != sleeps {
		t.Errorf("%d sends and %d new sleeps; want the third not sent and no wait", sends, len(clock.sleeps)-sleeps)
	}
	// Settle waits out the last send's interval: 0.7 s + 0.2 s.
	if !p.Settle(ctx) || !clock.now.Equal(t0.Add(900*time.Millisecond)) {
		t.Errorf("Settle ended at %v, want t0+900ms", clock.now.Sub(t0))
	}

	t.Run("Settle stops a second before the deadline", func(t *testing.T) {
		t.Parallel()
		clock := &fakeClock{now: t0}
		p := newPacer(t, 2, 2, clock) // 1 s
		if err := p.Do(context.Background(), func() error { return nil }); err != nil {
			t.Fatal(err)
		}
		// Settled with a deadline 1.5 s after the send: the interval would
		// end after deadline − 1 s.
		ctx, cancel := context.WithDeadline(context.Background(), t0.Add(1500*time.Millisecond))
		defer cancel()
		if p.Settle(ctx) {
			t.Error("Settle = true, want false: the interval ends after deadline − 1 s")
		}
		if want := t0.Add(500 * time.Millisecond); !clock.now.Equal(want) {
			t.Errorf("Settle ended at %v, want %v", clock.now.Sub(t0), want.Sub(t0))
		}
	})

	t.Run("an ended context", func(t *testing.T) {
		t.Parallel()
		p := newPacer(t, 10, 2, &fakeClock{now: t0})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Do(ctx, func() error { t.Error("sent"); return nil }); !errors.Is(err, pace.ErrNoTime) || !errors.Is(err, context.Canceled) || p.InTime(ctx) {
			t.Errorf("Do = %v, want ErrNoTime and context.Canceled; InTime false", err)
		}
	})
}

func TestSystemClockSleepEndsWithTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := (pace.SystemClock{}).Sleep(ctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Sleep = %v, want the context's error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Sleep took %v after its context ended", took)
	}
	if err := (pace.SystemClock{}).Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep = %v", err)
	}
}
