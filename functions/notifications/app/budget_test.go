package app_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// budget sums the unjittered backoff after each of receives receives: the
// least time a message failing transiently every time stays on the queue.
func budget(receives int) time.Duration {
	var total time.Duration
	for n := 1; n <= receives; n++ {
		total += app.Backoff(n, 0)
	}
	return total
}

// TestRetryBudgetCoversHalfAnHourOfSESOutage checks the arithmetic of
// docs/decisions/0007-mail-retry-budget.md: a message that fails
// transiently at every receive stays on the queue, across MaxReceiveCount
// receives, at least 30 minutes before SQS dead-letters it.
func TestRetryBudgetCoversHalfAnHourOfSESOutage(t *testing.T) {
	got := app.RetryBudget()
	t.Logf("maxReceiveCount %d: retry budget %v (%.1f min)", app.MaxReceiveCount, got, got.Minutes())
	if got != budget(app.MaxReceiveCount) {
		t.Fatalf("RetryBudget() = %v, want the sum of the backoffs %v", got, budget(app.MaxReceiveCount))
	}
	if got < 30*time.Minute {
		t.Fatalf("retry budget %v, want at least 30 min of SES unavailability before the dead-letter queue", got)
	}
	if want := 51*time.Minute + 15*time.Second; got != want {
		t.Errorf("retry budget %v, want %v as documented (5+10+20+40+80+160+320+640+900+900 s)", got, want)
	}
	// One receive fewer must not already be enough by a wide margin, or
	// the queue keeps undeliverable mail longer than the budget needs.
	if budget(app.MaxReceiveCount-2) >= 30*time.Minute {
		t.Errorf("maxReceiveCount %d is more than needed: %d receives already cover %v", app.MaxReceiveCount, app.MaxReceiveCount-2, budget(app.MaxReceiveCount-2))
	}
}

// TestOldRedriveDeadLetteredWithinMinutes records why the budget changed:
// with maxReceiveCount 5 the same schedule dead-lettered mail after 155 s.
func TestOldRedriveDeadLetteredWithinMinutes(t *testing.T) {
	if got := budget(5); got != 155*time.Second {
		t.Fatalf("budget of 5 receives = %v, want 155 s", got)
	}
}

// TestBackoffWithinSQSLimits checks every delay against what
// ChangeMessageVisibility takes (0 to 43,200 s, whole seconds).
func TestBackoffWithinSQSLimits(t *testing.T) {
	for n := 1; n <= app.MaxReceiveCount; n++ {
		for _, jitter := range []float64{0, 0.5, 0.9999} {
			d := app.Backoff(n, jitter)
			if d <= 0 || d > 12*time.Hour || d%time.Second != 0 {
				t.Errorf("Backoff(%d, %v) = %v, outside SQS's 1 s .. 12 h in whole seconds", n, jitter, d)
			}
		}
	}
}
