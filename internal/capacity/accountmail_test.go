package capacity_test

import (
	"testing"

	usersapp "github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/internal/capacity"
)

// TestAccountMailCapFollowsTheQuota: the hourly cap of registration and
// verification emails of all clients is in the model, as the users
// function derives it from SesMax24HourSend, and binds no sooner than the
// SES 24-hour quota it is sized from, at prod's parameters and at a quota
// raised for the target: a launch the model promises is never stopped by
// the cap before the quota.
func TestAccountMailCapFollowsTheQuota(t *testing.T) {
	for _, daily := range []string{"", "200", "19440000"} {
		extra := map[string]string{}
		if daily != "" {
			extra["SesMax24HourSend"] = daily
		}
		m := build(t, load(t, "prod", extra))
		capped := limit(t, m, "registration and verification emails, all clients, a clock hour")
		quota := limit(t, m, "SES sending quota, 24 hours")
		if capped.Label != capacity.LabelTemplate || capped.Follows != quota.Name {
			t.Errorf("SesMax24HourSend=%q: the cap is %s following %q, want a template limit following %q", daily, capped.Label, capped.Follows, quota.Name)
		}
		if want := float64(usersapp.AccountMailPerHour(int(quota.Value))); capped.Value != want {
			t.Errorf("SesMax24HourSend=%q: cap %g an hour, the users function's is %g", daily, capped.Value, want)
		}
		if capped.Ceiling < quota.Ceiling {
			t.Errorf("SesMax24HourSend=%q: the cap binds at %g rps, before the quota it follows (%g rps)", daily, capped.Ceiling, quota.Ceiling)
		}
		for _, v := range m.Violations() {
			t.Errorf("SesMax24HourSend=%q: %s", daily, v)
		}
	}
}
