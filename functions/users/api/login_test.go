package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
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
		{"malformed device token", `{"email":"ada@example.com","password":"correct horse battery staple","deviceToken":"dv1.abc"}`, "validation"},
		{"unknown field", `{"email":"ada@example.com","password":"correct horse battery staple","remember":true}`, "validation"},
		{"not JSON", `ada@example.com`, "invalid-request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			var states atomic.Int64
			f.store.LoginStateFn = func(ctx context.Context, email, source, device string, now time.Time) (account.LoginState, error) {
				states.Add(1)
				return f.mem.LoginState(ctx, email, source, device, now)
			}
			f.do("POST /v1/auth/login", nil, tt.body).problem(t, http.StatusBadRequest, tt.slug)
			if states.Load() != 0 {
				t.Errorf("an invalid login reached the store")
			}
			if n := f.mem.Attempts(apptest.AdaEmail, apptest.Start); n != 0 {
				t.Errorf("an invalid request counted %d attempts", n)
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
	if n := f.mem.Attempts(apptest.AdaEmail, apptest.Start); n != 1 {
		t.Errorf("attempts for the known email = %d, want 1", n)
	}
	if n := f.mem.Attempts("nobody@example.com", apptest.Start); n != 1 {
		t.Errorf("attempts for the unknown email = %d, want 1", n)
	}
}

func TestLoginThrottle(t *testing.T) {
	tests := []struct {
		name      string
		email     string
		password  string // of the attempt after the free ones and the first delayed
		wait      time.Duration
		wantRetry string
	}{
		{"right password waits", apptest.AdaEmail, apptest.AdaPassword, 0, "1"},
		{"wrong password waits", apptest.AdaEmail, "still not the password", 0, "1"},
		{"other case of the email", "ADA@EXAMPLE.COM", apptest.AdaPassword, 0, "1"},
		{"unknown email", "nobody@example.com", "anything at all here", 0, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			target := account.NormalizeEmail(tt.email)
			for i := range account.AccountThrottle.Free + 1 {
				f.loginResponse(target, "wrong password number "+string(rune('a'+i))).problem(t, http.StatusUnauthorized, "invalid-credentials")
			}
			var completed atomic.Int64
			f.store.CompleteLoginFn = func(ctx context.Context, c account.LoginCompletion, now time.Time) error {
				completed.Add(1)
				return f.mem.CompleteLogin(ctx, c, now)
			}
			r := f.loginResponse(tt.email, tt.password)
			r.problem(t, http.StatusTooManyRequests, "too-many-attempts")
			if got := r.headers["Retry-After"]; got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			if completed.Load() != 0 {
				t.Errorf("a throttled login created a session")
			}
			if n := f.mem.Attempts(target, f.clock.Now()); n != account.AccountThrottle.Free+1 {
				t.Errorf("attempts = %d after a refused one, want %d (refusals are not counted)", n, account.AccountThrottle.Free+1)
			}
			// After the wait, the next attempt is checked and the one after it
			// waits twice as long.
			f.clock.Advance(time.Second)
			f.loginResponse(target, "one more wrong password").problem(t, http.StatusUnauthorized, "invalid-credentials")
			if got := f.loginResponse(target, "one more wrong password").headers["Retry-After"]; got != "2" {
				t.Errorf("Retry-After %q after the next failure, want 2", got)
			}
		})
	}
}

func TestLoginHandsOutADeviceTokenThatOutlastsAnAttack(t *testing.T) {
	f := newFixture(t)
	f.ada()
	first := f.loginWithDevice(apptest.AdaEmail, apptest.AdaPassword, "")
	for i := range 12 {
		f.loginResponse(apptest.AdaEmail, "attacker's guess "+string(rune('a'+i)))
		f.clock.Advance(time.Minute)
	}
	f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
	next := f.loginWithDevice(apptest.AdaEmail, apptest.AdaPassword, first.DeviceToken)
	if next.DeviceToken == first.DeviceToken {
		t.Errorf("the device token was not replaced")
	}
}

func TestLoginSuccessClearsTheAccountsAttempts(t *testing.T) {
	f := newFixture(t)
	f.ada()
	for range account.AccountThrottle.Free - 1 {
		f.loginResponse(apptest.AdaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	f.login(apptest.AdaEmail, apptest.AdaPassword)
	if n := f.mem.Attempts(apptest.AdaEmail, apptest.Start); n != 0 {
		t.Errorf("attempts after success = %d, want 0", n)
	}
	// The free attempts are whole again.
	for range account.AccountThrottle.Free + 1 {
		f.loginResponse(apptest.AdaEmail, "wrong password again").problem(t, http.StatusUnauthorized, "invalid-credentials")
	}
	f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusTooManyRequests, "too-many-attempts")
}

func TestCostlyRoutesAreLimitedPerAddress(t *testing.T) {
	f := newFixture(t)
	routes := []string{"POST /v1/auth/register", "POST /v1/auth/verify-email", "POST /v1/auth/cancel-registration", "POST /v1/auth/password-reset", "POST /v1/auth/password-reset/confirm"}
	// Invalid requests count too: a flood of them is what the limit is for.
	for i := range app.DefaultSourceRequestsPerHour {
		if r := f.do(routes[i%len(routes)], nil, `{}`); r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	for _, route := range routes {
		r := f.do(route, nil, `{}`)
		r.problem(t, http.StatusTooManyRequests, "too-many-requests")
		if got := r.headers["Retry-After"]; got != "3600" {
			t.Errorf("%s: Retry-After %q, want 3600 (the hour starts with the fixture's clock)", route, got)
		}
	}
	// Another address is not limited; neither is login, which has its own
	// throttle, nor refresh, limited per session.
	ev := apitest.Request{Route: "POST /v1/auth/register", Body: `{}`}.Event()
	ev.RequestContext.Identity.SourceIP = "203.0.113.200"
	f.send(ev).problem(t, http.StatusBadRequest, "validation")
	f.do("POST /v1/auth/login", nil, `{}`).problem(t, http.StatusBadRequest, "validation")
	f.do("POST /v1/auth/refresh", nil, `{}`).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// The next hour starts afresh.
	f.clock.Advance(time.Hour)
	f.do("POST /v1/auth/register", nil, `{}`).problem(t, http.StatusBadRequest, "validation")
}

func TestCostlyRoutesAreLimitedPerSecond(t *testing.T) {
	f := newFixture(t)
	f.svc.SourceRequestsPerSecond = app.DefaultSourceRequestsPerSecond
	// A login counts once it is well formed (and shows no device token of
	// the account); the other routes whatever they carry.
	routes := []string{"POST /v1/auth/login", "POST /v1/auth/register", "POST /v1/auth/verify-email", "POST /v1/auth/cancel-registration", "POST /v1/auth/password-reset", "POST /v1/auth/password-reset/confirm"}
	body := func(route string) string {
		if route == "POST /v1/auth/login" {
			return `{"email":"nobody@example.com","password":"not the password at all"}`
		}
		return `{}`
	}
	for i := range app.DefaultSourceRequestsPerSecond {
		if r := f.do(routes[i%len(routes)], nil, body(routes[i%len(routes)])); r.status != http.StatusBadRequest && r.status != http.StatusUnauthorized {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	for _, route := range routes {
		r := f.do(route, nil, body(route))
		r.problem(t, http.StatusTooManyRequests, "too-many-requests")
		if got := r.headers["Retry-After"]; got != "1" {
			t.Errorf("%s: Retry-After %q, want 1", route, got)
		}
	}
	// Another address is not limited, nor is refresh (limited per session).
	ev := apitest.Request{Route: "POST /v1/auth/login", Body: `{}`}.Event()
	ev.RequestContext.Identity.SourceIP = "203.0.113.201"
	f.send(ev).problem(t, http.StatusBadRequest, "validation")
	f.do("POST /v1/auth/refresh", nil, `{}`).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// The next second starts afresh.
	f.clock.Advance(time.Second)
	f.do("POST /v1/auth/login", nil, `{}`).problem(t, http.StatusBadRequest, "validation")
}
