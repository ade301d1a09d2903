package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		receives int
		jitter   float64
		want     time.Duration
	}{
		{0, 0, 5 * time.Second}, // the attribute missing
		{1, 0, 5 * time.Second},
		{2, 0, 10 * time.Second}, // doubled per receive
		{8, 0, 640 * time.Second},
		{9, 0, 15 * time.Minute},        // capped
		{1, 0.5, 6 * time.Second},       // 5.5 s, half rounds up
		{1, 0.3, 5 * time.Second},       // 5.3 s, to whole seconds
		{3, 0.999999, 24 * time.Second}, // jitter adds up to 20 %
		{1000, 5, 15 * time.Minute},     // even out of range
	} {
		if got := app.Backoff(tc.receives, tc.jitter); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tc.receives, tc.jitter, got, tc.want)
		}
	}
	// Every delay is at most 20 % over the unjittered one, within
	// BackoffBase and BackoffMax (SQS takes 0 to 12 h), in whole seconds,
	// and never shorter for a later receive.
	for _, jitter := range []float64{0, 0.25, 0.5, 0.75, 0.9999999} {
		prev := time.Duration(0)
		for receives := 0; receives <= 64; receives++ {
			base, got := app.Backoff(receives, 0), app.Backoff(receives, jitter)
			if got < base || got > base+base/5 || got < app.BackoffBase || got > app.BackoffMax || app.BackoffMax > 12*time.Hour || got%time.Second != 0 || got < prev {
				t.Errorf("Backoff(%d, %v) = %v (unjittered %v, for one receive fewer %v)", receives, jitter, got, base, prev)
			}
			prev = got
		}
	}
}

// TestRetryBudgetCoversHalfAnHourOfSESOutage checks the arithmetic of
// docs/decisions/0007-mail-retry-budget.md: a message that fails
// transiently at every receive stays on the queue, across MaxReceiveCount
// receives, at least 30 minutes before SQS dead-letters it, where the old
// maxReceiveCount of 5 dead-lettered it after 155 s.
func TestRetryBudgetCoversHalfAnHourOfSESOutage(t *testing.T) {
	budget := func(receives int) (total time.Duration) {
		for n := 1; n <= receives; n++ {
			total += app.Backoff(n, 0)
		}
		return total
	}
	if got, want := app.RetryBudget(), 51*time.Minute+15*time.Second; got != want || got != budget(app.MaxReceiveCount) {
		t.Errorf("RetryBudget() = %v, want the sum of the backoffs %v, as documented (5+10+20+40+80+160+320+640+900+900 s)", got, want)
	}
	// One receive fewer must not already be enough by a wide margin, or
	// the queue keeps undeliverable mail longer than the budget needs.
	if budget(app.MaxReceiveCount-2) >= 30*time.Minute || budget(5) != 155*time.Second {
		t.Errorf("%d receives cover %v, 5 receives %v: want under 30 min and 155 s", app.MaxReceiveCount-2, budget(app.MaxReceiveCount-2), budget(5))
	}
}

// TestHandleVisibilityBackoff checks the backoff of a transient failure by
// the message's receive count, as SQS gives it.
func TestHandleVisibilityBackoff(t *testing.T) {
	for receives, want := range map[string]int{"1": 1, "3": 3, "5": 5, "40": 40, "": 0, "many": 0} {
		w := newWorld(t)
		w.sesErr = errNetwork
		m := order("created", "evt-1", "ord-1")
		m.Attributes["ApproximateReceiveCount"] = receives
		w.handle(context.Background(), w.handler(), m)
		lo, hi := int32(app.Backoff(want, 0)/time.Second), int32(app.Backoff(want, 1)/time.Second)
		if d := w.delays["m1"]; d < lo || d > hi {
			t.Errorf("receive count %q: visibility timeout %d, want within Backoff(%d) = [%d, %d]", receives, d, want, lo, hi)
		}
	}
}

// step is one batch through a handler kept from batch to batch, as in a
// warm Lambda: the mail circuit's state lives in it.
type step struct {
	at      time.Duration // after the first batch
	msgs    []events.SQSMessage
	sesErr  error // every send's answer
	sends   int   // SES calls
	failed  int   // each with its visibility changed
	metrics string
	log     string // a line the batch logs
	check   func(t *testing.T, w *world)
}

func TestMailCircuit(t *testing.T) {
	cool := app.BreakerCoolDown
	tests := []struct {
		name  string
		cfg   app.BreakerConfig
		steps []step
	}{
		{name: "opens after five failures in a row and stops calling SES", steps: []step{
			{0, orders(1, 8), errNetwork, 5, 8, "MailCircuitOpen=3 MailCircuitOpened=1 TransientFailures=5", "mail circuit opened", nil},
			{cool - time.Second, orders(1, 8), errNetwork, 0, 8, "MailCircuitOpen=8", "mail circuit open: messages returned for later without calling SES", nil},
		}},
		{name: "a probe that succeeds closes it", steps: []step{
			{0, orders(1, 5), errNetwork, 5, 5, "MailCircuitOpened=1 TransientFailures=5", "", nil},
			{cool, orders(1, 5), nil, 5, 0, "EmailsSent=5", "mail circuit closed", nil},
		}},
		{name: "a probe that fails reopens it for twice as long", steps: []step{
			{0, orders(1, 5), errNetwork, 5, 5, "MailCircuitOpened=1 TransientFailures=5", "", nil},
			{cool, orders(1, 5), errNetwork, 1, 5, "MailCircuitOpen=4 MailCircuitOpened=1 TransientFailures=1", "mail circuit probe failed", nil},
			{2*cool + time.Second, orders(1, 5), nil, 0, 5, "MailCircuitOpen=5", "", nil},
			{3 * cool, orders(1, 5), nil, 5, 0, "EmailsSent=5", "mail circuit half-open: probing SES", nil},
		}},
		{name: "a success in between resets the count", steps: []step{
			{0, orders(1, 4), errNetwork, 4, 4, "TransientFailures=4", "", nil},
			{0, orders(5, 1), nil, 1, 0, "EmailsSent=1", "", nil},
			{0, orders(6, 4), errNetwork, 4, 4, "TransientFailures=4", "", nil},
		}},
		{name: "thresholds are configurable", cfg: app.BreakerConfig{Failures: 2, CoolDown: 10 * time.Second}, steps: []step{
			{0, orders(1, 4), errNetwork, 2, 4, "MailCircuitOpen=2 MailCircuitOpened=1 TransientFailures=2", "", nil},
			{10 * time.Second, orders(1, 4), nil, 4, 0, "EmailsSent=4", "", nil},
		}},
		{name: "rejections, answers from SES, never open it", steps: []step{
			{0, orders(1, 8), errRejected, 8, 0, "EmailsRejected=8", "", nil},
		}},
		{name: "open, it defers past the cool-down, claims nothing and still dead-letters poison", steps: []step{
			{0, orders(1, 5), errNetwork, 5, 5, "MailCircuitOpened=1 TransientFailures=5", "", nil},
			{10 * time.Second, append(orders(6, 1), msg("p-1", fixture("poison_bad_json.json"))), nil, 0, 1, "MailCircuitOpen=1 PoisonMessages=1", "", func(t *testing.T, w *world) {
				rest := int32((cool - 10*time.Second) / time.Second)
				if trace := strings.Join(w.trace, ", "); trace != "delay m1, dlq m2" || w.delays["m1"] < rest || w.delays["m1"] > int32(app.BackoffMax/time.Second) {
					t.Errorf("calls %q, deferred %d s; want no claim, and at least the rest of the cool-down (%d s), at most BackoffMax", trace, w.delays["m1"], rest)
				}
			}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.breaker = tc.cfg
			h := w.handler()
			for i, s := range tc.steps {
				w.clock, w.sesErr = now.Add(s.at), s.sesErr
				failed, metricLine := w.handle(context.Background(), h, s.msgs...)
				trace := strings.Join(w.trace, ", ")
				if sends, delays := strings.Count(trace, "send "), strings.Count(trace, "delay "); sends != s.sends || len(strings.Fields(failed)) != s.failed || delays != s.failed || metricLine != s.metrics {
					t.Errorf("step %d: %d SES calls, failed %q, %d delayed, metrics %q; want %d, %d failed and delayed, %q", i+1, sends, failed, delays, metricLine, s.sends, s.failed, s.metrics)
				}
				if !strings.Contains(w.logs.String(), s.log) {
					t.Errorf("step %d: no log line %q in:\n%s", i+1, s.log, w.logs.String())
				}
				if s.check != nil {
					s.check(t, w)
				}
			}
		})
	}
}

// TestHandlePacesSends: sends go out in the pacer's turns, each counted
// towards SesSendRatePercent, and the invocation settles before it returns.
// Once the next turn would come too close to the deadline, the rest of the
// batch goes back to the queue unsent and unclaimed (or its claim released,
// when the time ran out between the claim and the send), counted as
// MailOutOfTime, with the first receive's backoff.
func TestHandlePacesSends(t *testing.T) {
	backoff := func(t *testing.T, w *world) {
		for id, d := range w.delays {
			if d < 5 {
				t.Errorf("%s back in %d s, want the first receive's backoff", id, d)
			}
		}
	}
	runBatches(t, []batchCase{
		{
			name:    "all in time",
			msgs:    orders(1, 2),
			setup:   func(w *world) { w.pacer, w.inTime, w.turns, w.settled, w.quota = w, 2, 2, true, quotaUsed(12.5) },
			trace:   "claim evt-1, send ord-1, SENT evt-1, claim evt-2, send ord-2, SENT evt-2, settle",
			metrics: "EmailsSent=2 SesQuotaUsedPercent=12.5 SesSendRatePercent=0.3333333333333333",
		},
		{
			name:    "refused before the claim",
			msgs:    orders(1, 3),
			setup:   func(w *world) { w.pacer, w.inTime, w.turns = w, 1, 1 },
			failed:  "m2 m3",
			trace:   "claim evt-1, send ord-1, SENT evt-1, delay m2, delay m3, settle",
			metrics: "EmailsSent=1 MailOutOfTime=2 SesSendRatePercent=0.16666666666666666",
			check: func(t *testing.T, w *world) {
				backoff(t, w)
				if w.logLine("returned before the last send's spacing passed") == nil {
					t.Errorf("an unsettled return is not logged:\n%s", w.logs.String())
				}
			},
		},
		{
			name:    "refused after the claim",
			msgs:    orders(1, 3),
			setup:   func(w *world) { w.pacer, w.inTime, w.turns, w.settled = w, 2, 1, true },
			failed:  "m2 m3",
			trace:   "claim evt-1, send ord-1, SENT evt-1, claim evt-2, release evt-2, delay m2, delay m3, settle",
			metrics: "EmailsSent=1 MailOutOfTime=2 SesSendRatePercent=0.16666666666666666",
			check:   backoff,
		},
	})
}
