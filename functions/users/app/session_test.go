package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	first := f.login(apptest.AdaEmail, apptest.AdaPassword)
	f.Clock.Advance(10 * time.Minute)
	second, err := f.Svc.Refresh(f.Ctx, first.RefreshToken)
	must(t, err)
	r1, _ := account.ParseRefreshToken(first.RefreshToken)
	r2, err := account.ParseRefreshToken(second.RefreshToken)
	if err != nil || r2.Raw == r1.Raw || r2.UserID != id || r2.FamilyID != r1.FamilyID {
		t.Fatalf("rotated token %+v, %v; want a new token of the same family", r2, err)
	}
	if second.ExpiresIn != first.ExpiresIn || second.AccessToken == "" {
		t.Errorf("pair %+v", second)
	}
	if claims, err := f.Verifier.Verify(second.AccessToken); err != nil || claims.Subject != id || claims.Email != apptest.AdaEmail {
		t.Errorf("new access token: %+v, %v", claims, err)
	}
	s, _, _ := f.Mem.Session(f.Ctx, r1)
	if s.CurrentHash != r2.Hash() || !s.ExpiresAt.Equal(apptest.Start.Add(10*time.Minute+account.RefreshTTL)) {
		t.Errorf("stored session %+v, want the rotated token's hash and a slid expiry", s)
	}
	f.wantCounts(map[string]float64{app.MetricLoginSuccess: 1})
}

func TestRefreshRevocationFailure(t *testing.T) {
	boom := errors.New("dynamodb: 503")
	tests := []struct {
		name      string
		revokeErr error
		want      error
	}{
		{"revoked meanwhile", account.ErrSessionInvalid, account.ErrTokenReused},
		{"store failure", boom, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			f.Mem.Before = func(op string) error {
				return map[string]error{"RotateSession": account.ErrTokenReused, "RevokeSession": tt.revokeErr}[op]
			}
			if _, err := f.Svc.Refresh(f.Ctx, login.RefreshToken); err != tt.want {
				t.Errorf("Refresh = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRefreshRejectsMalformedTokens(t *testing.T) {
	for _, raw := range []string{"", "garbage", "rt1.x.y.z"} {
		f := newFixture(t)
		reads := f.Mem.Watch("Session", nil)
		if _, err := f.Svc.Refresh(f.Ctx, raw); !errors.Is(err, account.ErrSessionInvalid) {
			t.Errorf("Refresh(%q) = %v, want ErrSessionInvalid", raw, err)
		}
		if reads.Load() != 0 {
			t.Errorf("Refresh(%q) read the store", raw)
		}
	}
}

// TestLogout revokes the session's family and its access tokens, which
// carry the family as their session (the claims revocation works on); a
// logout sent again writes nothing.
func TestLogout(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)
	rt, _ := account.ParseRefreshToken(login.RefreshToken)
	claims, err := f.Verifier.Verify(login.AccessToken)
	if err != nil || claims.SessionID != rt.FamilyID || claims.SessionEpoch != 0 || claims.EmailVerified {
		t.Fatalf("claims %+v, %v; want the family as sid, epoch 0, unverified", claims, err)
	}
	for range 3 {
		must(t, f.Svc.Logout(f.Ctx, id, login.RefreshToken))
	}
	if s, _, _ := f.Mem.Session(f.Ctx, rt); !s.Revoked {
		t.Errorf("family not revoked")
	}
	if got := f.Mem.Revocations(); len(got) != 1 || got[0] != revocation.Session(id, rt.FamilyID, apptest.Start, token.DefaultTTL) {
		t.Fatalf("revocations after logging out three times %+v, want one of the session", got)
	}
	if lines := f.Lines("logged out"); len(lines) != 1 || lines[0]["familyId"] != rt.FamilyID {
		t.Errorf("log lines %v, want one naming the family", lines)
	}
}

func TestLogoutRejects(t *testing.T) {
	tests := []struct {
		name   string
		caller string
		token  func(login app.TokenPair) string
	}{
		{"someone else's token", "01HZX3YQ7A8B9C0D1E2F3G4444", func(p app.TokenPair) string { return p.RefreshToken }},
		{"malformed token", apptest.FirstID, func(app.TokenPair) string { return "garbage" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.register()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			revoked := f.Mem.Watch("RevokeSession", nil)
			err := f.Svc.Logout(f.Ctx, tt.caller, tt.token(login))
			if !errors.Is(err, account.ErrSessionInvalid) || revoked.Load() != 0 {
				t.Errorf("Logout = %v after %d revocations, want ErrSessionInvalid after none", err, revoked.Load())
			}
			if lines := f.Lines("logged out"); len(lines) != 0 {
				t.Errorf("a refused logout was logged: %v", lines)
			}
		})
	}
}

// TestRevocationsPerUserAreLimited checks the budget that bounds what one
// user can add to the list every verifier reads: logouts and password
// changes together, DefaultRevocationsPerHour an hour.
func TestRevocationsPerUserAreLimited(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	for range app.DefaultRevocationsPerHour {
		login := f.login(apptest.AdaEmail, apptest.AdaPassword)
		must(t, f.Svc.Logout(f.Ctx, id, login.RefreshToken))
	}
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)
	err := f.Svc.Logout(f.Ctx, id, login.RefreshToken)
	if !says(err, revocationsLimited) || retryAfter(err) <= 0 {
		t.Fatalf("logout past the budget = %v, want the revocations' limit", err)
	}
	err = f.Svc.ChangePassword(f.Ctx, app.ChangePasswordCommand{UserID: id, CurrentPassword: apptest.AdaPassword, NewPassword: "a brand new passphrase"})
	if !says(err, revocationsLimited) {
		t.Fatalf("password change past the budget = %v, want the revocations' limit", err)
	}
	if got := f.Mem.Revocations(); len(got) != app.DefaultRevocationsPerHour {
		t.Fatalf("%d revocations, want %d", len(got), app.DefaultRevocationsPerHour)
	}
	f.wantCounts(map[string]float64{app.MetricLoginSuccess: app.DefaultRevocationsPerHour + 1, app.MetricRevocationsLimited: 2})

	// Reuse detection past the budget still ends the family, without an
	// entry; the hour after, the budget is back.
	must(t, errOf(f.Svc.Refresh(f.Ctx, login.RefreshToken)))
	if _, err := f.Svc.Refresh(f.Ctx, login.RefreshToken); !errors.Is(err, account.ErrTokenReused) {
		t.Fatalf("reused refresh token = %v", err)
	}
	rt, _ := account.ParseRefreshToken(login.RefreshToken)
	if s, _, _ := f.Mem.Session(f.Ctx, rt); !s.Revoked || len(f.Mem.Revocations()) != app.DefaultRevocationsPerHour {
		t.Fatalf("reuse past the budget: family revoked %v, %d revocations", s.Revoked, len(f.Mem.Revocations()))
	}
	f.wantCounts(map[string]float64{app.MetricTokenReuse: 1, app.MetricRevocationsLimited: 1}) // the refusal counted once
	f.Clock.Advance(time.Hour)
	login = f.login(apptest.AdaEmail, apptest.AdaPassword)
	must(t, f.Svc.Logout(f.Ctx, id, login.RefreshToken)) // the next hour
}

func TestRefreshIsLimitedPerSession(t *testing.T) {
	f := newFixture(t)
	f.register()
	pair := f.login(apptest.AdaEmail, apptest.AdaPassword)
	other := f.login(apptest.AdaEmail, apptest.AdaPassword) // another session of the same user
	var err error
	for i := range account.DefaultRefreshesPerHour {
		if pair, err = f.Svc.Refresh(f.Ctx, pair.RefreshToken); err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
	}
	if _, err := f.Svc.Refresh(f.Ctx, pair.RefreshToken); !says(err, refreshesLimited) || retryAfter(err) <= 0 {
		t.Fatalf("refresh past the limit = %v, want the session's limit", err)
	}
	must(t, errOf(f.Svc.Refresh(f.Ctx, other.RefreshToken))) // another session of the same user
	f.Clock.Advance(time.Hour)
	must(t, errOf(f.Svc.Refresh(f.Ctx, pair.RefreshToken))) // the refused token, the next hour
}

// TestTokensCarryTheCurrentRole: a login and a refresh issue the role the
// account has when they read it. A role change (cmd/staff) raises the
// session epoch, so the sessions from before it end and the next login
// carries the new role.
func TestTokensCarryTheCurrentRole(t *testing.T) {
	f := newFixture(t)
	id := f.register()
	role := func(access string) string {
		t.Helper()
		c, err := f.Verifier.Verify(access)
		must(t, err)
		return c.Role
	}
	customer := f.login(apptest.AdaEmail, apptest.AdaPassword)
	if got := role(customer.AccessToken); got != "" {
		t.Fatalf("a customer's token says role %q, want none", got)
	}
	setRole := func(r string) {
		t.Helper()
		u, err := f.Mem.User(f.Ctx, id)
		if err == nil {
			err = f.Mem.SetRole(f.Ctx, u, r, f.Clock.Now(), revocation.User(id, u.SessionEpoch+1, f.Clock.Now(), token.DefaultTTL))
		}
		must(t, err)
	}
	setRole(token.RoleStaff)
	if _, err := f.Svc.Refresh(f.Ctx, customer.RefreshToken); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("refresh of a session from before the promotion = %v, want ErrSessionInvalid", err)
	}
	staff := f.login(apptest.AdaEmail, apptest.AdaPassword)
	f.Clock.Advance(time.Minute)
	refreshed, err := f.Svc.Refresh(f.Ctx, staff.RefreshToken)
	if err != nil || role(staff.AccessToken) != token.RoleStaff || role(refreshed.AccessToken) != token.RoleStaff {
		t.Fatalf("after promotion: login and refresh roles %q, %q (%v); want staff", role(staff.AccessToken), role(refreshed.AccessToken), err)
	}
	setRole(token.RoleCustomer)
	if _, err := f.Svc.Refresh(f.Ctx, refreshed.RefreshToken); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("refresh of a session from before the demotion = %v, want ErrSessionInvalid", err)
	}
	if got := role(f.login(apptest.AdaEmail, apptest.AdaPassword).AccessToken); got != "" {
		t.Errorf("after demotion: role %q, want none", got)
	}
}
