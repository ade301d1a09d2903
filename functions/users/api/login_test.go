package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
)

func TestLogin(t *testing.T) {
	tests := []struct {
		name  string
		email string
	}{
		{"as registered", apptest.AdaEmail},
		{"other case and spaces", "  ADA@example.COM "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.ada()
			p := f.login(tt.email, apptest.AdaPassword)

			claims, err := f.verifier.Verify(p.AccessToken)
			if err != nil {
				t.Fatalf("access token does not verify: %v", err)
			}
			if claims.Subject != id || claims.Email != apptest.AdaEmail || claims.Name != apptest.AdaName {
				t.Errorf("claims sub %q email %q name %q, want %q %q %q", claims.Subject, claims.Email, claims.Name, id, apptest.AdaEmail, apptest.AdaName)
			}
			if got := claims.ExpiresAt.Time; !got.Equal(apptest.Start.Add(15 * time.Minute)) {
				t.Errorf("access token expires %v, want %v", got, apptest.Start.Add(15*time.Minute))
			}
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			if rt.UserID != id {
				t.Errorf("refresh token of user %q, want %q", rt.UserID, id)
			}
			s, ok := f.mem.Family(id, rt.FamilyID)
			if !ok {
				t.Fatalf("no session stored for family %s", rt.FamilyID)
			}
			if s.CurrentHash != rt.Hash() || s.Revoked || s.Epoch != 0 || !s.ExpiresAt.Equal(apptest.Start.Add(account.RefreshTTL)) {
				t.Errorf("stored session %+v", s)
			}
		})
	}
}

func TestLoginStartsSeparateSessions(t *testing.T) {
	f := newFixture(t)
	id, _ := f.ada()
	a := f.login(apptest.AdaEmail, apptest.AdaPassword)
	b := f.login(apptest.AdaEmail, apptest.AdaPassword)
	ra, _ := account.ParseRefreshToken(a.RefreshToken)
	rb, _ := account.ParseRefreshToken(b.RefreshToken)
	if ra.FamilyID == rb.FamilyID || a.AccessToken == b.AccessToken {
		t.Fatalf("two logins share a family or an access token")
	}
	for _, fam := range []string{ra.FamilyID, rb.FamilyID} {
		if _, ok := f.mem.Family(id, fam); !ok {
			t.Errorf("family %s not stored", fam)
		}
	}
}

func TestLoginValidation(t *testing.T) {
	tests := []struct {
		name string
		body string
		slug string
	}{
		{"missing password", `{"email":"ada@example.com"}`, "validation"},
		{"missing email", `{"password":"correct horse battery staple"}`, "validation"},
		{"invalid email", `{"email":"Ada <ada@example.com>","password":"correct horse battery staple"}`, "validation"},
		{"oversized password", `{"email":"ada@example.com","password":"` + strings.Repeat("x", 4*account.MaxPasswordLength+1) + `"}`, "validation"},
		{"unknown field", `{"email":"ada@example.com","password":"correct horse battery staple","remember":true}`, "validation"},
		{"not JSON", `ada@example.com`, "invalid-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			var states atomic.Int64
			f.store.LoginStateFn = func(ctx context.Context, email string, now time.Time) (account.LoginState, error) {
				states.Add(1)
				return f.mem.LoginState(ctx, email, now)
			}
			f.do("POST /v1/auth/login", nil, tt.body).problem(t, http.StatusBadRequest, tt.slug)
			if states.Load() != 0 {
				t.Errorf("an invalid login reached the store")
			}
			if n := f.mem.Failures(apptest.AdaEmail, apptest.Start); n != 0 {
				t.Errorf("an invalid request counted %d failures", n)
			}
		})
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	f := newFixture(t)
	f.ada()
	wrongPassword := f.loginResponse(apptest.AdaEmail, "not the right password")
	unknownEmail := f.loginResponse("nobody@example.com", "not the right password")
	for name, r := range map[string]response{"wrong password": wrongPassword, "unknown email": unknownEmail} {
		r.problem(t, http.StatusUnauthorized, "invalid-credentials")
		if _, ok := r.headers["Retry-After"]; ok {
			t.Errorf("%s: Retry-After on a plain failure", name)
		}
	}
	if string(wrongPassword.body) != string(unknownEmail.body) {
		t.Errorf("bodies differ:\nwrong password: %s\nunknown email:  %s", wrongPassword.body, unknownEmail.body)
	}
	if len(wrongPassword.headers) != len(unknownEmail.headers) {
		t.Errorf("headers differ: %v vs %v", wrongPassword.headers, unknownEmail.headers)
	}
	for k, v := range wrongPassword.headers {
		if unknownEmail.headers[k] != v {
			t.Errorf("header %s: %q vs %q", k, v, unknownEmail.headers[k])
		}
	}
	// Both count against their email, so guessing is limited either way.
	if n := f.mem.Failures(apptest.AdaEmail, apptest.Start); n != 1 {
		t.Errorf("failures for the known email = %d, want 1", n)
	}
	if n := f.mem.Failures("nobody@example.com", apptest.Start); n != 1 {
		t.Errorf("failures for the unknown email = %d, want 1", n)
	}
}

func TestLoginRateLimit(t *testing.T) {
	tests := []struct {
		name      string
		email     string
		password  string // of the attempt after the limit
		wait      time.Duration
		wantRetry string
	}{
		{"right password refused", apptest.AdaEmail, apptest.AdaPassword, 0, "900"},
		{"wrong password refused", apptest.AdaEmail, "still not the password", 0, "900"},
		{"other case of the email", "ADA@EXAMPLE.COM", apptest.AdaPassword, 0, "900"},
		{"later in the window", apptest.AdaEmail, apptest.AdaPassword, 10 * time.Minute, "300"},
		{"last second of the window", apptest.AdaEmail, apptest.AdaPassword, 15*time.Minute - time.Second, "1"},
		{"unknown email", "nobody@example.com", "anything at all here", 0, "900"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			target := account.NormalizeEmail(tt.email)
			for i := range 5 {
				f.loginResponse(target, "wrong password number "+string(rune('a'+i))).problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			var sessions atomic.Int64
			f.store.CreateSessionFn = func(ctx context.Context, rt account.RefreshToken, epoch int64, now time.Time) error {
				sessions.Add(1)
				return f.mem.CreateSession(ctx, rt, epoch, now)
			}
			f.clock.Advance(tt.wait)
			r := f.loginResponse(tt.email, tt.password)
			r.problem(t, http.StatusTooManyRequests, "too-many-attempts")
			if got := r.headers["Retry-After"]; got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			if sessions.Load() != 0 {
				t.Errorf("a limited login created a session")
			}
			if n := f.mem.Failures(target, f.clock.Now()); n != 5 {
				t.Errorf("failures = %d after a refused attempt, want 5 (refusals are not counted)", n)
			}
		})
	}
}

func TestLoginLimitEndsWithTheWindow(t *testing.T) {
	f := newFixture(t)
	f.ada()
	for range 5 {
		f.loginResponse(apptest.AdaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
	f.clock.Advance(15 * time.Minute)
	f.login(apptest.AdaEmail, apptest.AdaPassword)
}

func TestLoginSuccessClearsFailures(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		wantClear int64
	}{
		{"no failures: nothing to clear", 0, 0},
		{"one failure", 1, 1},
		{"one below the limit", 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			var cleared atomic.Int64
			f.store.ClearLoginFailuresFn = func(ctx context.Context, email string) error {
				cleared.Add(1)
				if email != apptest.AdaEmail {
					t.Errorf("ClearLoginFailures(%q), want %q", email, apptest.AdaEmail)
				}
				return f.mem.ClearLoginFailures(ctx, email)
			}
			for range tt.failures {
				f.loginResponse(apptest.AdaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			f.login(apptest.AdaEmail, apptest.AdaPassword)
			if cleared.Load() != tt.wantClear {
				t.Errorf("ClearLoginFailures called %d times, want %d", cleared.Load(), tt.wantClear)
			}
			if n := f.mem.Failures(apptest.AdaEmail, apptest.Start); n != 0 {
				t.Errorf("failures after success = %d, want 0", n)
			}
			// The budget is whole again: five more failures before the limit.
			for range 5 {
				f.loginResponse(apptest.AdaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
		})
	}
}
