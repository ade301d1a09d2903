package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/revocation"
)

func TestLogout(t *testing.T) {
	f := newFixture(t)
	id, ada := f.ada()
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)
	other := f.login(apptest.AdaEmail, apptest.AdaPassword)
	rt, _ := account.ParseRefreshToken(login.RefreshToken)

	r := f.do("POST /v1/auth/logout", ada, jsonBody(t, map[string]string{"refreshToken": login.RefreshToken}))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("logout: %d %s, want 204 and no body", r.status, r.body)
	}
	if s, _ := f.mem.Family(id, rt.FamilyID); !s.Revoked {
		t.Errorf("family not revoked by logout")
	}
	f.refreshResponse(login.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// Logout ends one session, not every session of the user.
	f.pair(f.refreshResponse(other.RefreshToken))
}

func TestLogoutRejects(t *testing.T) {
	tests := []struct {
		name   string
		token  func(bob tokenPair) string
		status int
		slug   string
	}{
		{"someone else's token", func(bob tokenPair) string { return bob.RefreshToken }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"garbage", func(tokenPair) string { return "garbage" }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"empty", func(tokenPair) string { return "" }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"access token", func(bob tokenPair) string { return bob.AccessToken }, http.StatusUnauthorized, "invalid-refresh-token"},
		{"own user id, unknown family", func(tokenPair) string {
			rt, _ := account.NewRefreshToken(apptest.FirstID) // Ada's id
			return rt.Raw
		}, http.StatusUnauthorized, "invalid-refresh-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, ada := f.ada()
			bobID := f.register("bob@example.com", "bob's long password", "Bob")
			bob := f.login("bob@example.com", "bob's long password")
			var revoked []string
			f.store.RevokeSessionFn = func(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
				revoked = append(revoked, userID)
				return f.mem.RevokeSession(ctx, userID, familyID, revoke, budget)
			}
			f.do("POST /v1/auth/logout", ada, jsonBody(t, map[string]string{"refreshToken": tt.token(bob)})).problem(t, tt.status, tt.slug)
			if slices.Contains(revoked, bobID) {
				t.Errorf("Ada revoked a session of Bob")
			}
			f.pair(f.refreshResponse(bob.RefreshToken))
		})
	}
}
