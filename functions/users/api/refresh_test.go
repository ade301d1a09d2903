package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/revocation"
)

func TestRefreshRotates(t *testing.T) {
	f := newFixture(t)
	id, _ := f.ada()
	first := f.login(apptest.AdaEmail, apptest.AdaPassword)
	f.clock.Advance(10 * time.Minute)

	second := f.pair(f.refreshResponse(first.RefreshToken))
	if second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh returned the presented token")
	}
	r1, _ := account.ParseRefreshToken(first.RefreshToken)
	r2, _ := account.ParseRefreshToken(second.RefreshToken)
	if r2.UserID != id || r2.FamilyID != r1.FamilyID {
		t.Errorf("rotated token of user %s family %s, want %s %s", r2.UserID, r2.FamilyID, id, r1.FamilyID)
	}
	claims, err := f.verifier.Verify(second.AccessToken)
	if err != nil || claims.Subject != id || claims.Email != apptest.AdaEmail || claims.Name != apptest.AdaName {
		t.Errorf("new access token: %+v, %v", claims, err)
	}
	if want := apptest.Start.Add(10*time.Minute + 15*time.Minute); !claims.ExpiresAt.Equal(want) {
		t.Errorf("new access token expires %v, want %v", claims.ExpiresAt.Time, want)
	}
	s, _ := f.mem.Family(id, r1.FamilyID)
	if s.CurrentHash != r2.Hash() {
		t.Errorf("stored current hash is not the rotated token's")
	}
	if want := apptest.Start.Add(10*time.Minute + account.RefreshTTL); !s.ExpiresAt.Equal(want) {
		t.Errorf("session expires %v, want %v (sliding)", s.ExpiresAt, want)
	}

	// The rotated token keeps working.
	third := f.pair(f.refreshResponse(second.RefreshToken))
	if third.RefreshToken == second.RefreshToken || third.RefreshToken == first.RefreshToken {
		t.Errorf("third rotation repeated a token")
	}
}

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	f := newFixture(t)
	id, _ := f.ada()
	first := f.login(apptest.AdaEmail, apptest.AdaPassword)
	other := f.login(apptest.AdaEmail, apptest.AdaPassword) // another device, another family
	second := f.pair(f.refreshResponse(first.RefreshToken))
	r1, _ := account.ParseRefreshToken(first.RefreshToken)

	type family struct{ userID, familyID string }
	var revoked []family
	f.store.RevokeSessionFn = func(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
		revoked = append(revoked, family{userID, familyID})
		return f.mem.RevokeSession(ctx, userID, familyID, revoke, budget)
	}

	f.refreshResponse(first.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	if want := []family{{id, r1.FamilyID}}; !slices.Equal(revoked, want) {
		t.Fatalf("RevokeSession calls %v, want %v", revoked, want)
	}
	if s, _ := f.mem.Family(id, r1.FamilyID); !s.Revoked {
		t.Errorf("family not revoked after reuse")
	}
	// The legitimate holder of the current token is logged out too.
	f.refreshResponse(second.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	// Presenting spent tokens of a revoked family revokes nothing more.
	f.refreshResponse(first.RefreshToken).problem(t, http.StatusUnauthorized, "invalid-refresh-token")
	if len(revoked) != 1 {
		t.Errorf("RevokeSession called %d times, want 1", len(revoked))
	}
	// Other sessions of the user are untouched.
	f.pair(f.refreshResponse(other.RefreshToken))
}

func TestRefreshConcurrentUseOfOneToken(t *testing.T) {
	// A token presented several times at once (a retrying client, or a
	// thief racing its owner) is exchanged at most once, and the family ends.
	f := newFixture(t)
	id, _ := f.ada()
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)
	const n = 8
	ev := event("POST /v1/auth/refresh", jsonBody(t, map[string]string{"refreshToken": login.RefreshToken}), "")
	responses := make(chan events.APIGatewayProxyResponse, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Handle never fails; a failure shows as a missing 200 or 401.
			out, _ := f.handler.Handle(context.Background(), ev)
			responses <- out
		}()
	}
	wg.Wait()
	close(responses)
	count := map[int]int{}
	for out := range responses {
		count[out.StatusCode]++
		f.checkResponse("POST /v1/auth/refresh", response{status: out.StatusCode, headers: out.Headers, body: []byte(out.Body)})
	}
	if count[http.StatusOK] > 1 || count[http.StatusOK]+count[http.StatusUnauthorized] != n {
		t.Errorf("statuses %v, want at most one 200 and 401 for the rest", count)
	}
	rt, _ := account.ParseRefreshToken(login.RefreshToken)
	if s, _ := f.mem.Family(id, rt.FamilyID); !s.Revoked {
		t.Errorf("family not revoked after concurrent reuse")
	}
}

func TestRefreshRejects(t *testing.T) {
	tests := []struct {
		name string
		// token returns the refresh token to present, after preparing f.
		token func(f *fixture, login tokenPair) string
		slug  string
	}{
		{"empty", func(*fixture, tokenPair) string { return "" }, "invalid-refresh-token"},
		{"garbage", func(*fixture, tokenPair) string { return "garbage" }, "invalid-refresh-token"},
		{"access token", func(_ *fixture, p tokenPair) string { return p.AccessToken }, "invalid-refresh-token"},
		{"truncated", func(_ *fixture, p tokenPair) string { return p.RefreshToken[:len(p.RefreshToken)-1] }, "invalid-refresh-token"},
		{"trailing newline", func(_ *fixture, p tokenPair) string { return p.RefreshToken + "\n" }, "invalid-refresh-token"},
		{"unknown family", func(_ *fixture, p tokenPair) string {
			rt, _ := account.NewRefreshToken(apptest.FirstID)
			return rt.Raw
		}, "invalid-refresh-token"},
		{"unknown user", func(_ *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			next, _ := account.Rotate(account.RefreshToken{Raw: rt.Raw, UserID: "01HZX3YQ7A8B9C0D1E2F3G7777", FamilyID: rt.FamilyID})
			return next.Raw
		}, "invalid-refresh-token"},
		{"forged secret in a live family", func(_ *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			other, _ := account.NewRefreshToken(rt.UserID)
			return "rt1." + rt.UserID + "." + rt.FamilyID + other.Raw[strings.LastIndexByte(other.Raw, '.'):]
		}, "invalid-refresh-token"},
		{"expired session", func(f *fixture, p tokenPair) string {
			f.clock.Advance(account.RefreshTTL)
			return p.RefreshToken
		}, "invalid-refresh-token"},
		{"logged out", func(f *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			if err := f.mem.RevokeSession(context.Background(), rt.UserID, rt.FamilyID, nil, account.Limit{}); err != nil {
				f.t.Fatal(err)
			}
			return p.RefreshToken
		}, "invalid-refresh-token"},
		{"password changed since", func(f *fixture, p tokenPair) string {
			rt, _ := account.ParseRefreshToken(p.RefreshToken)
			c, _ := f.mem.User(context.Background(), rt.UserID)
			if err := f.mem.ChangePassword(context.Background(), c, c.PasswordHash, apptest.Start, revocation.Entry{}, account.Limit{}); err != nil {
				f.t.Fatal(err)
			}
			return p.RefreshToken
		}, "invalid-refresh-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.ada()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			var rotated atomic.Int64
			f.store.RotateSessionFn = func(ctx context.Context, presented, next account.RefreshToken, epoch int64, count account.RefreshCount, now time.Time) error {
				rotated.Add(1)
				return f.mem.RotateSession(ctx, presented, next, epoch, count, now)
			}
			f.refreshResponse(tt.token(f, login)).problem(t, http.StatusUnauthorized, tt.slug)
			if rotated.Load() != 0 {
				t.Errorf("RotateSession called for a refused token")
			}
		})
	}
}

func TestRefreshLosesRace(t *testing.T) {
	// Between the read and the conditional write another request rotated the
	// same token: the store reports reuse, and the family is revoked.
	tests := []struct {
		name        string
		rotateErr   error
		status      int
		slug        string
		wantRevoked bool
	}{
		{"concurrent rotation", account.ErrTokenReused, http.StatusUnauthorized, "invalid-refresh-token", true},
		{"revoked meanwhile", account.ErrSessionInvalid, http.StatusUnauthorized, "invalid-refresh-token", false},
		{"store failure", errors.New("transaction conflict"), http.StatusInternalServerError, "internal", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.ada()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			f.store.RotateSessionFn = func(context.Context, account.RefreshToken, account.RefreshToken, int64, account.RefreshCount, time.Time) error {
				return tt.rotateErr
			}
			var revoked atomic.Int64
			f.store.RevokeSessionFn = func(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
				revoked.Add(1)
				return f.mem.RevokeSession(ctx, userID, familyID, revoke, budget)
			}
			f.refreshResponse(login.RefreshToken).problem(t, tt.status, tt.slug)
			rt, _ := account.ParseRefreshToken(login.RefreshToken)
			s, _ := f.mem.Family(id, rt.FamilyID)
			if s.Revoked != tt.wantRevoked || (revoked.Load() == 1) != tt.wantRevoked {
				t.Errorf("revoked %v (%d calls), want %v", s.Revoked, revoked.Load(), tt.wantRevoked)
			}
		})
	}
}
