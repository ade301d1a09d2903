package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/functions/users/password"
)

func TestLoginIssuesAPair(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	p := f.login("  ADA@example.COM ", apptest.AdaPassword)

	claims, err := f.verifier.Verify(p.AccessToken)
	if err != nil || claims.Subject != id || claims.Email != apptest.AdaEmail || claims.Name != apptest.AdaName {
		t.Fatalf("access token claims %+v, %v", claims, err)
	}
	rt, _ := account.ParseRefreshToken(p.RefreshToken)
	s, ok := f.mem.Family(id, rt.FamilyID)
	if !ok || rt.UserID != id || s.CurrentHash != rt.Hash() || s.Epoch != 0 || !s.ExpiresAt.Equal(apptest.Start.Add(account.RefreshTTL)) {
		t.Errorf("session %+v (stored %v) for token of user %s", s, ok, rt.UserID)
	}
	f.wantCounts(map[string]float64{app.MetricLoginSuccess: 1})
	if lines := f.lines("login succeeded"); len(lines) != 1 || lines[0]["userId"] != id {
		t.Errorf("log lines %v, want one with the user id", lines)
	}
}

func TestLoginRejectsInvalidInput(t *testing.T) {
	tests := []struct {
		name       string
		cmd        app.LoginCommand
		wantFields []string
	}{
		{"missing password", app.LoginCommand{Email: apptest.AdaEmail}, []string{"password"}},
		{"missing email", app.LoginCommand{Password: apptest.AdaPassword}, []string{"email"}},
		{"both missing", app.LoginCommand{}, []string{"email", "password"}},
		{"invalid email", app.LoginCommand{Email: "Ada <ada@example.com>", Password: apptest.AdaPassword}, []string{"email"}},
		{"oversized password", app.LoginCommand{Email: apptest.AdaEmail, Password: strings.Repeat("x", 4*account.MaxPasswordLength+1)}, []string{"password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			var states atomic.Int64
			f.store.LoginStateFn = func(ctx context.Context, email string, now time.Time) (account.LoginState, error) {
				states.Add(1)
				return f.mem.LoginState(ctx, email, now)
			}
			_, err := f.svc.Login(f.ctx, tt.cmd)
			if got := fieldsOf(t, err); !slices.Equal(got, tt.wantFields) {
				t.Errorf("invalid fields %v, want %v", got, tt.wantFields)
			}
			if states.Load() != 0 {
				t.Errorf("invalid input reached the store")
			}
			f.wantCounts(map[string]float64{})
		})
	}
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
				p, err := f.svc.Login(f.ctx, app.LoginCommand{Email: tt.email, Password: tt.password})
				if !errors.Is(err, app.ErrBadCredentials) || p != (app.TokenPair{}) {
					t.Fatalf("attempt %d: Login = %+v, %v; want ErrBadCredentials", i, p, err)
				}
			}
			if n := f.mem.Failures(tt.email, apptest.Start); n != 2 {
				t.Errorf("failures counted %d, want 2", n)
			}
			f.wantCounts(map[string]float64{app.MetricLoginFailure: 2})
			lines := f.lines("login failed")
			if len(lines) != 2 || lines[0]["failuresInWindow"] != 1.0 || lines[1]["failuresInWindow"] != 2.0 || lines[1]["level"] != "WARN" {
				t.Errorf("log lines %v, want two WARN lines counting 1 and 2", lines)
			}
		})
	}
}

func TestLoginLimit(t *testing.T) {
	tests := []struct {
		name      string
		wait      time.Duration
		wantRetry time.Duration
	}{
		{"at once", 0, 15 * time.Minute},
		{"later in the window", 10 * time.Minute, 5 * time.Minute},
		{"under a second left", 15*time.Minute - 300*time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			for range app.DefaultLoginLimit.Failures {
				if _, err := f.svc.Login(f.ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: "wrong password again"}); !errors.Is(err, app.ErrBadCredentials) {
					t.Fatalf("Login = %v", err)
				}
			}
			f.counts()
			f.clock.Advance(tt.wait)
			_, err := f.svc.Login(f.ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: apptest.AdaPassword})
			var limited app.TooManyAttemptsError
			if !errors.As(err, &limited) || limited.RetryAfter != tt.wantRetry {
				t.Fatalf("Login = %v, want TooManyAttemptsError after %v", err, tt.wantRetry)
			}
			if n := f.mem.Failures(apptest.AdaEmail, f.clock.Now()); n != app.DefaultLoginLimit.Failures {
				t.Errorf("failures %d after a refusal, want %d (refusals are not counted)", n, app.DefaultLoginLimit.Failures)
			}
			f.wantCounts(map[string]float64{app.MetricLoginLocked: 1})
		})
	}
}

func TestLoginSuccessClearsFailures(t *testing.T) {
	f := newFixture(t)
	f.register()
	var cleared atomic.Int64
	f.store.ClearLoginFailuresFn = func(ctx context.Context, email string) error {
		cleared.Add(1)
		return f.mem.ClearLoginFailures(ctx, email)
	}
	f.login(apptest.AdaEmail, apptest.AdaPassword)
	if cleared.Load() != 0 {
		t.Errorf("ClearLoginFailures called without failures")
	}
	if _, err := f.svc.Login(f.ctx, app.LoginCommand{Email: apptest.AdaEmail, Password: "wrong password again"}); !errors.Is(err, app.ErrBadCredentials) {
		t.Fatal(err)
	}
	f.login(apptest.AdaEmail, apptest.AdaPassword)
	if cleared.Load() != 1 || f.mem.Failures(apptest.AdaEmail, apptest.Start) != 0 {
		t.Errorf("ClearLoginFailures called %d times, %d failures left; want 1 and 0", cleared.Load(), f.mem.Failures(apptest.AdaEmail, apptest.Start))
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
			old, err := password.Hash(apptest.AdaPassword, older)
			if err != nil {
				t.Fatal(err)
			}
			const id = "01HZX3YQ7A8B9C0D1E2F3G9999"
			f.mem.PutUser(account.Credentials{User: account.User{ID: id, Email: apptest.AdaEmail, Name: apptest.AdaName, CreatedAt: apptest.Start, UpdatedAt: apptest.Start}, PasswordHash: old})
			var rehashed atomic.Int64
			f.store.RehashPasswordFn = func(ctx context.Context, gotID, oldHash, newHash string) error {
				rehashed.Add(1)
				if gotID != id || oldHash != old || password.NeedsRehash(newHash, apptest.CheapHashing) {
					t.Errorf("RehashPassword(%q, %q, %q)", gotID, oldHash, newHash)
				}
				if ok, _ := password.Verify(newHash, apptest.AdaPassword); !ok {
					t.Errorf("the new hash does not verify the password")
				}
				if tt.rehashErr != nil {
					return tt.rehashErr
				}
				return f.mem.RehashPassword(ctx, gotID, oldHash, newHash)
			}
			f.login(apptest.AdaEmail, apptest.AdaPassword)
			if rehashed.Load() != 1 {
				t.Fatalf("RehashPassword called %d times, want 1", rehashed.Load())
			}
			if warned := len(f.lines("password rehash failed")) == 1; warned != tt.wantWarn {
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
