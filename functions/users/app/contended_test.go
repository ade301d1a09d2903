package app_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/problem"
)

// TestLoginContendedWaits: a login whose attempt other attempts keep
// counting first (TakeAttempt's condition fails every round) reads the
// buckets three times and then waits a second, counted as throttled.
func TestLoginContendedWaits(t *testing.T) {
	f := newFixture(t)
	f.register()
	takes := f.Mem.Watch("TakeAttempt", account.ErrStaleWrite)
	_, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword})
	if p := problem.Of(err, problem.TooManyRequests); p == nil || p.Slug != "too-many-attempts" || p.RetryAfter != time.Second {
		t.Fatalf("Login = %v, want too-many-attempts waiting a second", err)
	}
	if n := takes.Load(); n != 3 {
		t.Errorf("%d attempts taken, want 3", n)
	}
	f.wantCounts(map[string]float64{app.MetricLoginThrottled: 1})
}
