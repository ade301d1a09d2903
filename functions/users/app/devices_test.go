package app_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// attack makes Ada's account wait, with wrong passwords from addresses of
// its own (none of them reaches its address's limit).
func (f *fixture) attack() {
	f.t.Helper()
	for i := range account.AccountThrottle.Free + 1 {
		if err := f.wrong(app.LoginCommand{Source: fmt.Sprintf("198.51.100.%d", i)}); !errors.Is(err, app.ErrBadCredentials) {
			f.t.Fatalf("attack %d: %v", i+1, err)
		}
	}
	if err := f.wrong(app.LoginCommand{Source: "198.51.100.99"}); !says(err, attemptsLimited) {
		f.t.Fatalf("the attacked account does not wait: %v", err)
	}
}

// loginAs logs Ada in with password and device from source.
func (f *fixture) loginAs(password, device, source string) (app.TokenPair, error) {
	return f.Svc.Login(f.Ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: password, DeviceToken: device, Source: source})
}

// TestLoginThrottledAttemptsCountAgainstTheAddress: a client polling an
// account that has to wait pays for each refused attempt with a failure
// of its address, so one address cannot win each slot as a wait ends for
// ever; the owner's device, from the same address, is not held up.
func TestLoginThrottledAttemptsCountAgainstTheAddress(t *testing.T) {
	f := newFixture(t)
	f.Svc.SourceThrottle.Free = 5 // the same rule as the default's 300, sooner
	const poller = "192.0.2.66"
	f.register()
	device := f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken
	must(t, errOf(f.Svc.Register(f.Ctx, app.RegisterCommand{Email: "mallory@example.com", Password: "mallory's own passphrase", Name: "Mallory"})))
	f.attack()
	// The poller only ever meets the account's wait: no password of its is
	// checked, yet each refusal counts against its address.
	for i := range f.Svc.SourceThrottle.Free + 1 {
		if err := f.wrong(app.LoginCommand{Source: poller}); !says(err, attemptsLimited) {
			t.Fatalf("poll %d: %v, want the account's wait", i+1, err)
		}
	}
	if n := f.Mem.SourceAttempts(poller, f.Clock.Now()); n != f.Svc.SourceThrottle.Free+1 {
		t.Fatalf("the poller's address has %d failures, want %d", n, f.Svc.SourceThrottle.Free+1)
	}
	// Its address now waits, whatever account it tries, and a refusal by
	// the address's own wait is not counted again.
	_, err := f.Svc.Login(f.Ctx, app.LoginCommand{Email: "mallory@example.com", Password: "mallory's own passphrase", Source: poller})
	waitFor(t, err, time.Second)
	if n := f.Mem.SourceAttempts(poller, f.Clock.Now()); n != f.Svc.SourceThrottle.Free+1 {
		t.Errorf("the address's own wait counted: %d failures", n)
	}
	// The owner's device, behind the same address, gets in at once, and
	// counts nothing against it.
	must(t, errOf(f.loginAs(apptest.AdaPassword, device, poller))) // the owner's device behind the poller's address
	if n := f.Mem.SourceAttempts(poller, f.Clock.Now()); n != f.Svc.SourceThrottle.Free+1 {
		t.Errorf("the device's login counted against the address: %d failures", n)
	}
}

// TestDeviceTokenIsSpentByFailures: a device token lets its owner in while
// the account waits, once, for account.DeviceAttempts attempts; a stolen one
// is a few guesses, then it counts as none and meets the account's wait.
func TestDeviceTokenIsSpentByFailures(t *testing.T) {
	f := newFixture(t)
	f.register()
	typos := f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken
	stolen := f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken
	f.attack()
	// The owner's typos: a few failures, then the right password, in at once.
	for range account.DeviceAttempts - 1 {
		if err := f.wrong(app.LoginCommand{DeviceToken: typos}); !errors.Is(err, app.ErrBadCredentials) {
			t.Fatalf("a typo from the device: %v", err)
		}
	}
	p, err := f.loginAs(apptest.AdaPassword, typos, "")
	if err != nil {
		t.Fatalf("the owner after %d typos: %v", account.DeviceAttempts-1, err)
	}
	// A device token is used once: the login hands out the next one, and
	// the account's bucket is the attacker's still.
	if _, err := f.loginAs(apptest.AdaPassword, typos, ""); !says(err, attemptsLimited) {
		t.Errorf("a used device token = %v, want the account's wait", err)
	}
	must(t, errOf(f.loginAs(apptest.AdaPassword, p.DeviceToken, "")))
	// A thief guessing with a stolen device token: its guesses are spent.
	for range account.DeviceAttempts {
		if err := f.wrong(app.LoginCommand{DeviceToken: stolen}); !errors.Is(err, app.ErrBadCredentials) {
			t.Fatalf("a guess with the stolen token: %v", err)
		}
	}
	if _, err := f.loginAs(apptest.AdaPassword, stolen, ""); !says(err, attemptsLimited) {
		t.Fatalf("the right password with a spent device token = %v, want the account's wait", err)
	}
}

// TestDeviceTokensEndWithAResetOrAPasswordChange: a device token issued
// before a password reset or change no longer counts as a device; the
// reset's own device token does.
func TestDeviceTokensEndWithAResetOrAPasswordChange(t *testing.T) {
	const changed = "a completely new passphrase"
	t.Run("password change", func(t *testing.T) {
		f := newFixture(t)
		id := f.register()
		before := f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken
		must(t, f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: apptest.AdaPassword, NewPassword: changed}))
		f.attack()
		if _, err := f.loginAs(changed, before, ""); !says(err, attemptsLimited) {
			t.Fatalf("a device token from before the change = %v, want the account's wait", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		f := newFixture(t)
		f.register()
		before := f.login(apptest.AdaEmail, apptest.AdaPassword).DeviceToken
		must(t, f.Svc.RequestPasswordReset(f.Ctx, apptest.AdaEmail))
		device, err := f.Svc.ResetPassword(f.Ctx, apptest.Token(t, f.lastEvent()), changed)
		must(t, err)
		f.attack()
		if _, err := f.loginAs(changed, before, ""); !says(err, attemptsLimited) {
			t.Fatalf("a device token from before the reset = %v, want the account's wait", err)
		}
		must(t, errOf(f.loginAs(changed, device, ""))) // the reset's device token
	})
	t.Run("verification", func(t *testing.T) {
		f := newFixture(t)
		f.register()
		device, err := f.Svc.VerifyEmail(f.Ctx, apptest.Token(t, f.lastEvent()))
		must(t, err)
		f.attack()
		must(t, errOf(f.loginAs(apptest.AdaPassword, device, ""))) // the verification's device token
	})
}

// TestLoginRacingAPasswordChangeStartsNoSession: a login whose password
// was checked before a change, completing after it, starts no session.
// (The store's condition, which writes nothing:
// TestCompleteLoginChecksTheSessionEpoch.)
func TestLoginRacingAPasswordChangeStartsNoSession(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	f.Mem.Before = func(op string) error {
		if op == "CompleteLogin" { // the change lands between the password check and the session
			u, _ := f.Mem.User(f.Ctx, id)
			return f.Mem.ChangePassword(f.Ctx, u, "changed-hash", f.Clock.Now(), revocation.User(id, u.SessionEpoch+1, f.Clock.Now(), token.DefaultTTL), account.Limit{})
		}
		return nil
	}
	if _, err := f.loginAs(apptest.AdaPassword, "", ""); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatalf("Login racing a password change = %v, want ErrBadCredentials", err)
	}
	f.wantCounts(map[string]float64{app.MetricLoginFailure: 1})
}

// TestRefreshWithAMadeUpTokenLeavesTheSessionAlone: a refresh token made
// up with the session's ids, which its access tokens show (sub, sid), is
// invalid and ends nothing; a spent token of the family is reuse, which
// revokes the family, counted and logged.
func TestRefreshWithAMadeUpTokenLeavesTheSessionAlone(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	pair := f.login(apptest.AdaEmail, apptest.AdaPassword)
	claims, err := f.Verifier.Verify(pair.AccessToken)
	must(t, err)
	for _, forged := range []string{
		"rt1." + claims.Subject + "." + claims.SessionID + "." + strings.Repeat("A", 43),
		"rt1." + claims.Subject + "." + claims.SessionID + "." + strings.Repeat("_", 43),
	} {
		if _, err := f.Svc.Refresh(f.Ctx, forged); !errors.Is(err, account.ErrSessionInvalid) {
			t.Fatalf("Refresh(%q) = %v, want ErrSessionInvalid", forged, err)
		}
	}
	rt, _ := account.ParseRefreshToken(pair.RefreshToken)
	if s, _, _ := f.Mem.Session(f.Ctx, rt); s.Revoked {
		t.Fatal("a made-up token ended the session")
	}
	next, err := f.Svc.Refresh(f.Ctx, pair.RefreshToken)
	if err != nil {
		t.Fatalf("the owner's refresh after the forgeries: %v", err)
	}
	// The spent token shows the family's secret: that is reuse.
	if _, err := f.Svc.Refresh(f.Ctx, pair.RefreshToken); !errors.Is(err, account.ErrTokenReused) {
		t.Fatalf("Refresh of the spent token = %v, want ErrTokenReused", err)
	}
	if _, err := f.Svc.Refresh(f.Ctx, next.RefreshToken); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("Refresh after reuse = %v, want the family ended", err)
	}
	if s, _, _ := f.Mem.Session(f.Ctx, rt); !s.Revoked {
		t.Errorf("family not revoked")
	}
	f.wantCounts(map[string]float64{app.MetricLoginSuccess: 1, app.MetricTokenReuse: 1})
	lines := f.Lines("refresh token reuse detected; revoking its family")
	if len(lines) != 1 || lines[0]["userId"] != id || lines[0]["familyId"] != claims.SessionID || lines[0]["level"] != "WARN" {
		t.Errorf("log lines %v, want one WARN line naming the user and the family", lines)
	}
}
