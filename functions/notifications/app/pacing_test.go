package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/pace"
)

// paceClock is a fake clock for the pacer: Sleep moves it on at once.
type paceClock struct{ now time.Time }

var _ pace.Clock = (*paceClock)(nil)

func (c *paceClock) Now() time.Time { return c.now }

func (c *paceClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.now = c.now.Add(d)
	return nil
}

// paceStart is where the pacer's fake clock starts: ahead of the real one,
// so a deadline set on it does not end while the test runs.
var paceStart = time.Now().Add(time.Hour).Truncate(time.Second)

// fakeQuota reports a fixed reading.
type fakeQuota struct {
	used  float64
	ok    bool
	calls int
}

func (q *fakeQuota) Used(context.Context) (float64, bool) { q.calls++; return q.used, q.ok }

func orderBatch(t *testing.T, n int) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for i := range n {
		id := fmt.Sprint(i + 1)
		ev.Records = append(ev.Records, message("m"+id, "ord-"+id, 1, eventBody(t, "order_created.json", "evt-"+id, "ord-"+id)))
	}
	return ev
}

// TestHandlePacesSends: a batch's sends start an interval after the one
// before started, the invocation returns an interval after its last send,
// and each send counts towards SesSendRatePercent.
func TestHandlePacesSends(t *testing.T) {
	clock := &paceClock{now: paceStart}
	p, err := pace.New(10, 2, clock) // 5 a second: 200 ms
	if err != nil {
		t.Fatal(err)
	}
	var starts []time.Time
	w := &world{pacer: p, quota: &fakeQuota{used: 12.5, ok: true}}
	w.onSend = func() {
		starts = append(starts, clock.now)
		clock.now = clock.now.Add(30 * time.Millisecond) // SES's latency
	}
	ctx, cancel := context.WithDeadline(context.Background(), paceStart.Add(30*time.Second))
	defer cancel()
	resp, err := w.handler(t).Handle(ctx, orderBatch(t, 4))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap != 200*time.Millisecond {
			t.Errorf("send %d started %v after the one before, want 200ms (the interval; SES's 30 ms within it)", i+1, gap)
		}
	}
	if end, want := clock.now, starts[3].Add(200*time.Millisecond); !end.Equal(want) {
		t.Errorf("returned %v after the last send started, want 200ms (the interval)", end.Sub(starts[3]))
	}
	m := emf(t, &w.metrics)
	if got, want := m[app.MetricSendRatePercent], 4*100.0/(60*10); fmt.Sprintf("%.6f", got) != fmt.Sprintf("%.6f", want) {
		t.Errorf("%s = %v, want %v (4 sends at a rate of 10)", app.MetricSendRatePercent, got, want)
	}
	if m[app.MetricQuotaUsedPercent] != 12.5 || m[app.MetricSent] != 4 {
		t.Errorf("metrics %v, want %s 12.5 and %s 4", m, app.MetricQuotaUsedPercent, app.MetricSent)
	}
}

// TestHandleLeavesWhatItHasNoTimeFor: once the next paced send would come
// too close to the deadline, the rest of the batch goes back to the queue
// unsent and unclaimed (or its claim released, when the time ran out
// between the claim and the send), counted as MailOutOfTime.
func TestHandleLeavesWhatItHasNoTimeFor(t *testing.T) {
	tests := []struct {
		name        string
		claimTakes  time.Duration
		untilLast   time.Duration // from the start to deadline − Reserve
		wantSent    int
		wantClaimed int
		wantRelease int
	}{
		// 1 a second, 3.5 s to use: sends at 0, 1 and 2 s (each with its
		// second of spacing within the 3.5 s), not at 3 s.
		{name: "refused before the claim", untilLast: 3500 * time.Millisecond, wantSent: 3, wantClaimed: 3},
		// Claims take 1.5 s, 3.8 s to use: sent at 1.5 s; at 1.5 s the
		// next turn (2.5 s) fits, but after its claim the turn is 3 s,
		// whose spacing ends past 3.8 s: claimed, not sent, released.
		{name: "refused after the claim", claimTakes: 1500 * time.Millisecond, untilLast: 3800 * time.Millisecond, wantSent: 1, wantClaimed: 2, wantRelease: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &paceClock{now: paceStart}
			p, err := pace.New(2, 2, clock) // 1 a second
			if err != nil {
				t.Fatal(err)
			}
			w := &world{pacer: p}
			w.onClaim = func() { clock.now = clock.now.Add(tc.claimTakes) }
			ctx, cancel := context.WithDeadline(context.Background(), paceStart.Add(pace.Reserve+tc.untilLast))
			defer cancel()
			resp, err := w.handler(t).Handle(ctx, orderBatch(t, 5))
			if err != nil {
				t.Fatal(err)
			}
			if len(w.sent) != tc.wantSent || len(w.claims) != tc.wantClaimed || len(w.releases) != tc.wantRelease {
				t.Fatalf("%d sent, %d claimed, %d released; want %d, %d, %d", len(w.sent), len(w.claims), len(w.releases), tc.wantSent, tc.wantClaimed, tc.wantRelease)
			}
			left := 5 - tc.wantSent
			if got := failedIDs(resp); len(got) != left || got[0] != fmt.Sprintf("m%d", tc.wantSent+1) {
				t.Errorf("batch item failures %v, want the %d unsent", got, left)
			}
			if len(w.visibility) != left {
				t.Errorf("%d visibility changes, want %d", len(w.visibility), left)
			}
			for _, v := range w.visibility {
				if v.VisibilityTimeout < 5 {
					t.Errorf("message back in %d s, want the first receive's backoff", v.VisibilityTimeout)
				}
			}
			m := emf(t, &w.metrics)
			if m[app.MetricOutOfTime] != float64(left) || m[app.MetricRetried] != 0 {
				t.Errorf("metrics %v, want %s %d and no transient failures", m, app.MetricOutOfTime, left)
			}
		})
	}
}
