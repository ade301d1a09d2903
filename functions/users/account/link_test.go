package account_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

func TestLinkTokenRoundTrip(t *testing.T) {
	for _, p := range []account.Purpose{account.VerifyEmail, account.ResetPassword} {
		tok, err := account.NewLinkToken(p, userID)
		if err != nil {
			t.Fatal(err)
		}
		if url.QueryEscape(tok.Raw) != tok.Raw {
			t.Errorf("%s token %q is not URL-safe", p, tok.Raw)
		}
		parsed, err := account.ParseLinkToken(p, tok.Raw)
		if err != nil || parsed != tok {
			t.Errorf("%s: ParseLinkToken = %+v, %v; want %+v", p, parsed, err, tok)
		}
		other, _ := account.NewLinkToken(p, userID)
		if other.Raw == tok.Raw || other.Hash() == tok.Hash() {
			t.Errorf("%s: two tokens are the same", p)
		}
		if len(tok.Hash()) != 64 || strings.Contains(tok.Hash(), tok.Raw) {
			t.Errorf("%s: hash %q", p, tok.Hash())
		}
	}
}

func TestParseLinkTokenRefuses(t *testing.T) {
	verify, _ := account.NewLinkToken(account.VerifyEmail, userID)
	for name, raw := range map[string]string{
		"empty":                "",
		"a reset token":        strings.Replace(verify.Raw, "ev1.", "pr1.", 1),
		"a refresh token":      "rt1." + strings.TrimPrefix(verify.Raw, "ev1."),
		"short secret":         verify.Raw[:len(verify.Raw)-1],
		"long secret":          verify.Raw + "A",
		"lower-case user id":   "ev1." + strings.ToLower(userID) + verify.Raw[len("ev1.")+26:],
		"padding":              verify.Raw[:len(verify.Raw)-1] + "=",
		"surrounding space":    " " + verify.Raw,
		"trailing newline":     verify.Raw + "\n",
		"percent-encoded dots": strings.ReplaceAll(verify.Raw, ".", "%2E"),
	} {
		if _, err := account.ParseLinkToken(account.VerifyEmail, raw); !errors.Is(err, account.ErrLinkInvalid) {
			t.Errorf("%s: ParseLinkToken(%q) = %v, want ErrLinkInvalid", name, raw, err)
		}
	}
}

func TestPendingLinkAccepts(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tok, _ := account.NewLinkToken(account.ResetPassword, userID)
	link := account.Pending(tok, now)
	if !link.ExpiresAt.Equal(now.Add(30 * time.Minute)) {
		t.Fatalf("reset link expires %v, want 30 minutes on", link.ExpiresAt)
	}
	newer, _ := account.NewLinkToken(account.ResetPassword, userID)
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
	if ve := account.Pending(mustLink(t, account.VerifyEmail), now); !ve.ExpiresAt.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("verification link expires %v, want 24 hours on", ve.ExpiresAt)
	}
}

func mustLink(t *testing.T, p account.Purpose) account.LinkToken {
	t.Helper()
	tok, err := account.NewLinkToken(p, userID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
