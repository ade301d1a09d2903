package account_test

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

func TestPendingLinkAccepts(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := account.NewLinkToken(account.ResetPassword, userID)
	link := account.Pending(tok, now)
	if !link.ExpiresAt.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("reset link expires %v, want 30 minutes on", link.ExpiresAt)
	}
	if account.ResetPassword.String() != "reset-password" { // the stored link's key and the logs name it
		t.Errorf("ResetPassword is %q, want reset-password", account.ResetPassword)
	}
	newer := account.NewLinkToken(account.ResetPassword, userID)
	forged := tok
	forged.UserID = "01HZX3YQ7A8B9C0D1E2F3G4H5K"
	tests := []struct {
		name string
		t    account.LinkToken
		at   time.Time
		want bool
	}{
		{"its token", tok, now, true},
		{"just before expiry", tok, now.Add(30*time.Minute - time.Nanosecond), true},
		{"at expiry", tok, now.Add(30 * time.Minute), false},
		{"another token of the user", newer, now, false},
		{"its token claiming another user", forged, now, false},
	}
	for _, tc := range tests {
		if got := link.Accepts(tc.t, tc.at); got != tc.want {
			t.Errorf("%s: Accepts = %v, want %v", tc.name, got, tc.want)
		}
	}
	if ve := account.Pending(account.NewLinkToken(account.VerifyEmail, userID), now); !ve.ExpiresAt.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("verification link expires %v, want 24 hours on", ve.ExpiresAt)
	}
}
