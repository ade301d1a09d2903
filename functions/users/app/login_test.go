package app_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/events"
)

func TestLoginIssuesAPair(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	p := f.login("  ADA@example.COM ", apptest.AdaPassword)

	claims, err := f.Verifier.Verify(p.AccessToken)
	if err != nil || claims.Subject != id || claims.Email != apptest.AdaEmail || claims.Name != apptest.AdaName {
		t.Fatalf("access token claims %+v, %v", claims, err)
	}
	rt, _ := account.ParseRefreshToken(p.RefreshToken)
	s, _, err := f.Mem.Session(f.Ctx, rt)
	if err != nil || rt.UserID != id || s.CurrentHash != rt.Hash() || s.Epoch != 0 || !s.ExpiresAt.Equal(apptest.Start.Add(account.RefreshTTL)) {
		t.Errorf("session %+v (%v) for token of user %s", s, err, rt.UserID)
	}
	f.wantCounts(map[string]float64{app.MetricLoginSuccess: 1})
	if lines := f.Lines("login succeeded"); len(lines) != 1 || lines[0]["userId"] != id {
		t.Errorf("log lines %v, want one with the user id", lines)
	}
}

// TestLoginRejectsInvalidInput: invalid input (account.NewLoginAttempt's
// tests tell which) is refused before the store is read.
func TestLoginRejectsInvalidInput(t *testing.T) {
	f := newFixture(t)
	states := f.Mem.Watch("LoginState", nil)
	_, err := f.Svc.Login(f.Ctx, app.LoginCommand{DeviceToken: "dv1.short"})
	if got := fieldsOf(t, err); !slices.Equal(got, []string{"email", "password", "deviceToken"}) {
		t.Errorf("invalid fields %v", got)
	}
	if states.Load() != 0 {
		t.Errorf("invalid input reached the store")
	}
	f.wantCounts(map[string]float64{})
}

func TestLoginBadCredentials(t *testing.T) {
	tests := []struct {
		name, email, password string
	}{
		{"wrong password", apptest.AdaEmail, "not the right password"},
		{"unknown email", "nobody@example.com", apptest.AdaPassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			for i := range 2 {
				p, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: tt.email, Password: tt.password})
				if !errors.Is(err, app.ErrBadCredentials) || p != (app.TokenPair{}) {
					t.Fatalf("attempt %d: Login = %+v, %v; want ErrBadCredentials", i, p, err)
				}
			}
			if n := f.Mem.Attempts(tt.email, apptest.Start); n != 2 {
				t.Errorf("attempts counted %d, want 2", n)
			}
			f.wantCounts(map[string]float64{app.MetricLoginFailure: 2})
			if lines := f.Lines("login failed"); len(lines) != 2 || lines[1]["level"] != "WARN" || lines[1]["knownDevice"] != false {
				t.Errorf("log lines %v, want two WARN lines", lines)
			}
		})
	}
}

// wrong logs in as Ada with a wrong password and returns the error.
func (f *fixture) wrong(cmd app.LoginCommand) error {
	f.t.Helper()
	cmd.Email, cmd.Password = apptest.AdaEmail, "not the right password"
	_, err := f.Svc.Login(f.Ctx, cmd)
	return err
}

// waitFor wants err to be the too-many-attempts problem of the given wait.
func waitFor(t *testing.T, err error, want time.Duration) {
	t.Helper()
	if !says(err, attemptsLimited) || retryAfter(err) != want {
		t.Fatalf("Login = %v, want too many attempts after %v", err, want)
	}
}

func TestLoginWaitsAfterTheFreeAttempts(t *testing.T) {
	f := newFixture(t)
	f.register()
	for i := range account.AccountThrottle.Free + 1 {
		if err := f.wrong(app.LoginCommand{}); !errors.Is(err, app.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v, want ErrBadCredentials", i+1, err)
		}
	}
	// Beyond the free attempts each waits (how long is account.Throttle's);
	// refused attempts are not counted, and the right password waits too.
	waitFor(t, f.wrong(app.LoginCommand{}), time.Second)
	_, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword})
	waitFor(t, err, time.Second)
	if n := f.Mem.Attempts(apptest.AdaEmail, f.Clock.Now()); n != account.AccountThrottle.Free+1 {
		t.Errorf("attempts %d, want %d", n, account.AccountThrottle.Free+1)
	}
	f.Clock.Advance(time.Second)
	f.login(apptest.AdaEmail, apptest.AdaPassword)
	if n := f.Mem.Attempts(apptest.AdaEmail, f.Clock.Now()); n != 0 {
		t.Errorf("attempts %d after a login, want 0", n)
	}
	f.wantCounts(map[string]float64{app.MetricLoginFailure: float64(account.AccountThrottle.Free + 1), app.MetricLoginThrottled: 2, app.MetricLoginSuccess: 1})
}

func TestLoginSourceIsSlowedAcrossAccounts(t *testing.T) {
	f := newFixture(t)
	f.Svc.SourceThrottle.Free = 5 // the same rule as the default's 300, sooner
	const source = "192.0.2.44"
	f.register()
	// One address trying one password on many accounts.
	for i := range f.Svc.SourceThrottle.Free + 1 {
		_, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: fmt.Sprintf("user%d@example.com", i), Password: "Summer2026!", Source: source})
		if !errors.Is(err, app.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: "someone-else@example.com", Password: "Summer2026!", Source: source})
	waitFor(t, err, time.Second)
	_, err = f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Source: source})
	waitFor(t, err, time.Second)
	// A success is not counted against the address. (The owner's device
	// is not held up by its address's wait:
	// TestLoginThrottledAttemptsCountAgainstTheAddress.)
	f.Clock.Advance(time.Second)
	must(t, errOf(f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Source: source}))) // after the wait
	if n := f.Mem.SourceAttempts(source, f.Clock.Now()); n != f.Svc.SourceThrottle.Free+1 {
		t.Errorf("source failures %d, want %d", n, f.Svc.SourceThrottle.Free+1)
	}
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Source: "192.0.2.45"}); err != nil {
		t.Errorf("Login from another address = %v", err)
	}
	// A failure with the device token counts against the device, not the
	// address.
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: "not the password", DeviceToken: f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken, Source: source}); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("wrong password with a device token = %v", err)
	}
	if n := f.Mem.SourceAttempts(source, f.Clock.Now()); n != f.Svc.SourceThrottle.Free+1 {
		t.Errorf("source failures %d after a failure with a device token, want %d", n, f.Svc.SourceThrottle.Free+1)
	}
}

func TestLoginAttemptsSentAtOnceAreCountedOneByOne(t *testing.T) {
	f := newFixture(t)
	f.register()
	const guesses = 20
	var wg sync.WaitGroup
	var checked, refused atomic.Int64
	for range guesses {
		wg.Go(func() {
			switch err := f.wrong(app.LoginCommand{Source: "192.0.2.1"}); {
			case errors.Is(err, app.ErrBadCredentials):
				checked.Add(1)
			case says(err, attemptsLimited):
				refused.Add(1)
			default:
				t.Errorf("Login = %v", err)
			}
		})
	}
	wg.Wait()
	// At one instant: the free attempts and the one that starts the first
	// delay are checked; every other is refused before its password is.
	if max := int64(account.AccountThrottle.Free + 1); checked.Load() > max || checked.Load()+refused.Load() != guesses {
		t.Errorf("%d passwords checked, %d refused; want at most %d checked", checked.Load(), refused.Load(), max)
	}
	if n := f.Mem.Attempts(apptest.AdaEmail, f.Clock.Now()); int64(n) != checked.Load() {
		t.Errorf("attempts counted %d, passwords checked %d", n, checked.Load())
	}
}

func TestLoginStoreFailuresAreErrors(t *testing.T) {
	boom := errors.New("dynamodb unavailable")
	for _, op := range []string{"LoginState", "TakeAttempt", "CompleteLogin"} {
		t.Run(op, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			f.Mem.Watch(op, boom)
			if p, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword}); !errors.Is(err, boom) || p != (app.TokenPair{}) {
				t.Errorf("Login = %+v, %v; want the store's error", p, err)
			}
		})
	}
}

func TestLoginSurvivesAFailedFailureCount(t *testing.T) {
	f := newFixture(t)
	f.register()
	f.Mem.Watch("CountSourceFailure", errors.New("throttled"))
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: "not the password", Source: "192.0.2.1"}); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("Login = %v", err)
	}
	if lines := f.Lines("counting the failure against the address failed"); len(lines) != 1 {
		t.Errorf("warnings %v", lines)
	}
}

func TestLoginUpgradesOutdatedHash(t *testing.T) {
	older := password.Params{MemoryKiB: 32, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	tests := []struct {
		name      string
		rehashErr error
		wantWarn  bool // "password rehash failed" logged
	}{
		{"upgrade stored", nil, false},
		{"lost race ignored", account.ErrStaleWrite, false},
		{"store failure ignored", errors.New("dynamodb unavailable"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.reconfigure(func(c *app.Config) { c.Hashing = older })
			id := f.register()
			f.reconfigure(func(c *app.Config) { c.Hashing = apptest.CheapHashing })
			rehashed := f.Mem.Watch("RehashPassword", tt.rehashErr)
			f.login(apptest.AdaEmail, apptest.AdaPassword)
			if rehashed.Load() != 1 {
				t.Fatalf("RehashPassword called %d times, want 1", rehashed.Load())
			}
			stored, _ := f.Mem.User(f.Ctx, id)
			if upgraded := !password.NeedsRehash(stored.PasswordHash, apptest.CheapHashing); upgraded != (tt.rehashErr == nil) {
				t.Errorf("hash upgraded: %v, want %v", upgraded, tt.rehashErr == nil)
			}
			if ok, _ := password.Verify(stored.PasswordHash, apptest.AdaPassword); !ok {
				t.Errorf("the stored hash does not verify the password")
			}
			if warned := len(f.Lines("password rehash failed")) == 1; warned != tt.wantWarn {
				t.Errorf("rehash failure logged: %v, want %v", warned, tt.wantWarn)
			}
			// A current hash is left alone.
			if tt.rehashErr == nil {
				f.login(apptest.AdaEmail, apptest.AdaPassword)
				if rehashed.Load() != 1 {
					t.Errorf("a current hash was rehashed again")
				}
			}
		})
	}
}

// TestLoginIsLimitedPerSecondWithoutADevice checks the address's gate of
// the second: logins without a device token of the account count against
// it, before anything costly; a login from the device of an earlier one
// never does, so the people behind one address who logged in before are
// never held up by a flood from it.
func TestLoginIsLimitedPerSecondWithoutADevice(t *testing.T) {
	f := newFixture(t)
	f.Svc.SourceRequestsPerSecond = app.DefaultSourceRequestsPerSecond
	f.register()
	device := f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken
	const source = "192.0.2.80"
	for i := range app.DefaultSourceRequestsPerSecond {
		if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: fmt.Sprintf("nobody%d@example.com", i), Password: "not a password at all", Source: source}); !errors.Is(err, app.ErrBadCredentials) {
			t.Fatalf("login %d: %v", i+1, err)
		}
	}
	if _, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Source: source}); !says(err, requestsLimited) || retryAfter(err) != time.Second {
		t.Fatalf("login past the address's second = %v, want the address's limit for a second", err)
	}
	if n := f.Mem.Attempts(apptest.AdaEmail, f.Clock.Now()); n != 0 {
		t.Errorf("a login refused by the address's gate counted %d attempts against the account", n)
	}
	must(t, errOf(f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, DeviceToken: device, Source: source}))) // from the device of an earlier login
	f.Clock.Advance(time.Second)
	must(t, errOf(f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword, Source: source}))) // the next second
}

// TestAccountRegisteredBeforeTheASCIIRuleStillWorks: registration now
// refuses a local part beyond ASCII, which SES cannot deliver to, but an
// account stored with one before keeps logging in and asking for resets
// (which the notification function then rejects for good).
func TestAccountRegisteredBeforeTheASCIIRuleStillWorks(t *testing.T) {
	f := newFixture(t)
	old := account.User{ID: "01JOLDACC0UNT0000000000000", Email: "zoë@example.com", Name: "Zoë", CreatedAt: apptest.Start, UpdatedAt: apptest.Start}
	link := account.PendingLink{UserID: old.ID, Hash: "hash-of-a-link-long-spent", ExpiresAt: apptest.Start}
	must(t, f.Mem.CreateUser(f.Ctx, old, password.Hash(apptest.AdaPassword, apptest.CheapHashing), link, events.AccountEvent{}))
	if _, err := f.Svc.Register(f.Ctx, app.RegisterCommand{Email: old.Email, Password: apptest.AdaPassword, Name: "Twin"}); !slices.Equal(fieldsOf(t, err), []string{"email"}) {
		t.Fatalf("registering the address again = %v, want it refused as invalid", err)
	}
	p := f.login(" ZOË@example.com ", apptest.AdaPassword)
	if claims, err := f.Verifier.Verify(p.AccessToken); err != nil || claims.Subject != old.ID || claims.Email != old.Email {
		t.Fatalf("access token claims %+v, %v; want the old account", claims, err)
	}
	queued := len(f.Mem.Outbox())
	must(t, f.Svc.RequestPasswordReset(f.Ctx, "Zoë@example.com"))
	if out := f.Mem.Outbox(); len(out) != queued+1 || out[len(out)-1].Account.ID != old.ID {
		t.Errorf("no reset event for the old account: %d events", len(out)-queued)
	}
}

// TestCountSourceRequestCountsTheHourAndTheSecond checks the costly public
// routes' count of an address: past its requests of the hour it says how
// long to wait, and a request without an address counts nothing.
func TestCountSourceRequestCountsTheHourAndTheSecond(t *testing.T) {
	f := newFixture(t)
	f.Svc.SourceRequestsPerHour = 2
	for range 2 {
		must(t, f.Svc.CountSourceRequest(f.Ctx, "192.0.2.81"))
	}
	if err := f.Svc.CountSourceRequest(f.Ctx, "192.0.2.81"); !says(err, requestsLimited) || retryAfter(err) <= 0 {
		t.Fatalf("request past the hour's = %v, want the address's limit", err)
	}
	must(t, f.Svc.CountSourceRequest(f.Ctx, "")) // without an address
	f.Svc.SourceRequestsPerSecond = 1
	must(t, f.Svc.CountSourceRequest(f.Ctx, "192.0.2.82")) // the first request of the second
	if err := f.Svc.CountSourceRequest(f.Ctx, "192.0.2.82"); !says(err, requestsLimited) || retryAfter(err) != time.Second {
		t.Fatalf("request past the second's = %v, want the address's limit for a second", err)
	}
}
