package account_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

func TestParseLinkTokenRefuses(t *testing.T) {
	verify := account.NewLinkToken(account.VerifyEmail, userID)
	for name, raw := range map[string]string{
		"a reset token":        strings.Replace(verify.Raw, "ev1.", "pr1.", 1),
		"a refresh token":      "rt1." + strings.TrimPrefix(verify.Raw, "ev1."),
		"lower-case user id":   "ev1." + strings.ToLower(userID) + verify.Raw[len("ev1.")+26:],
		"percent-encoded dots": strings.ReplaceAll(verify.Raw, ".", "%2E"),
	} {
		if _, err := account.ParseLinkToken(account.VerifyEmail, raw); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("%s: ParseLinkToken(%q) = %v, want ErrLinkInvalid", name, raw, err)
		}
	}
}

func TestPendingLinkAccepts(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := account.NewLinkToken(account.ResetPassword, userID)
	link := account.Pending(tok, now)
	if !link.ExpiresAt.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("reset link expires %v, want 30 minutes on", link.ExpiresAt)
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
