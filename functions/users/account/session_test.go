package account_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/problem"
)

// userID is ULID-shaped, as the service's user ids are.
const userID = "01HZX3YQ7A8B9C0D1E2F3G4H5J"

// must fails t at once on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestTokens checks the tokens the service hands out, each the same way:
// new ones differ, are URL-safe and parse back; a token cut, lengthened,
// padded or wrapped does not parse, nor one of another kind or with a
// part out of shape (bad). Each hashes to the SHA-256 of its raw form.
func TestTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		new   func() string
		parse func(raw string) bool
		bad   func(raw string) []string
	}{
		{"refresh", func() string { return account.NewRefreshToken(userID).Raw },
			func(raw string) bool { _, err := account.ParseRefreshToken(raw); return err == nil },
			func(raw string) []string {
				p := strings.Split(raw, ".") // prefix, user, family, secret
				join := func(p ...string) string { return strings.Join(p, ".") }
				return []string{
					"not a token", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", // an access token's shape
					join("rt2", p[1], p[2], p[3]), join("RT1", p[1], p[2], p[3]), join(p[1], p[2], p[3]), // other version, upper case, no prefix
					join(p[0], p[1], p[2]), join(p[0], p[1], p[2], ""), join(p[0], p[1], p[2], p[3], "x"), // no or empty secret, extra part
					join(p[0], strings.ToLower(p[1]), p[2], p[3]), join(p[0], p[1][1:], p[2], p[3]), join(p[0], p[1]+"0", p[2], p[3]), join(p[0], p[1][1:]+"#", p[2], p[3]),
					join(p[0], p[1], p[2][1:], p[3]), join(p[0], p[1], p[2]+"A", p[3]), join(p[0], p[1], "+/"+p[2][2:], p[3]), // family: short, long, std base64
					join(p[0], p[1], p[2], "+/"+p[3][2:]), raw[:10] + "\x00" + raw[11:], // secret in std base64, an embedded NUL
				}
			}},
		{"verify-email link", func() string { return account.NewLinkToken(account.VerifyEmail, userID).Raw },
			func(raw string) bool { _, err := account.ParseLinkToken(account.VerifyEmail, raw); return err == nil },
			func(raw string) []string {
				return []string{strings.Replace(raw, "ev1.", "pr1.", 1), "rt1." + raw[len("ev1."):], // a reset token, a refresh token
					"ev1." + strings.ToLower(userID) + raw[len("ev1.")+26:], strings.ReplaceAll(raw, ".", "%2E")} // lower-case user id, percent-encoded dots
			}},
		{"reset-password link", func() string { return account.NewLinkToken(account.ResetPassword, userID).Raw },
			func(raw string) bool { _, err := account.ParseLinkToken(account.ResetPassword, raw); return err == nil }, nil},
		{"device", func() string { return account.NewDeviceToken().Raw },
			func(raw string) bool { _, ok := account.ParseDeviceToken(raw); return ok }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.new()
			if other := tc.new(); other == raw || url.QueryEscape(raw) != raw || !tc.parse(raw) {
				t.Errorf("token %q (and %q): the same twice, not URL-safe, or does not parse", raw, other)
			}
			bad := []string{"", raw[:len(raw)-1], raw + "A", raw[:len(raw)-1] + "=", " " + raw, raw + " ", raw + "\n", "\n" + raw, raw + raw, raw + "\n" + raw}
			if tc.bad != nil {
				bad = append(bad, tc.bad(raw)...)
			}
			for _, bad := range bad {
				if tc.parse(bad) {
					t.Errorf("parse(%q) took it", bad)
				}
			}
		})
	}
	// SHA-256("abc"), FIPS 180-2 appendix B.1: the stored form must not drift.
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	for _, got := range []string{(account.RefreshToken{Raw: "abc"}).Hash(), (account.LinkToken{Raw: "abc"}).Hash(), (account.DeviceToken{Raw: "abc"}).Hash()} {
		if got != abc {
			t.Errorf("Hash() = %s, want %s", got, abc)
		}
	}
}

// TestRotate rotates what the server parsed from the client, as it does:
// each token of the family is new, carries the family's ids and proof, and
// parses back; the ids do not enter the hash.
func TestRotate(t *testing.T) {
	first := account.NewRefreshToken(userID)
	if !strings.HasPrefix(first.Raw, "rt1."+userID+"."+first.FamilyID+".") {
		t.Errorf("Raw = %q does not start with rt1.<user>.<family>.", first.Raw)
	}
	seen := map[string]bool{first.Raw: true}
	prev := first
	for i := range 10 {
		parsed, err := account.ParseRefreshToken(prev.Raw)
		must(t, err)
		next := account.Rotate(parsed)
		if next.UserID != userID || next.FamilyID != first.FamilyID || seen[next.Raw] || next.Hash() == prev.Hash() {
			t.Fatalf("Rotate #%d of %+v = %+v", i, parsed, next)
		}
		if next.FamilyProof() != first.FamilyProof() {
			t.Fatalf("Rotate #%d shows the proof %q, want the family's %q", i, next.FamilyProof(), first.FamilyProof())
		}
		seen[next.Raw], prev = true, next
	}
	if (account.RefreshToken{Raw: first.Raw, UserID: "other", FamilyID: "other"}).Hash() != first.Hash() {
		t.Error("the ids entered the hash")
	}
	for range 50 {
		if other := account.NewRefreshToken(userID); other.FamilyID == first.FamilyID || other.FamilyProof() == first.FamilyProof() {
			t.Fatalf("two families share an id or a proof: %+v", other)
		}
	}
	if first.FamilyProof() == "" || strings.Contains(first.Raw, first.FamilyProof()) {
		t.Fatalf("the proof %q is empty or in the token", first.FamilyProof())
	}
	if (account.RefreshToken{}).FamilyProof() != "" {
		t.Fatal("a token without a secret shows a proof")
	}
}

func TestSessionCheck(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// Three generations of one family: two spent, the last current.
	older := account.NewRefreshToken(userID)
	spent := account.Rotate(older)
	current := account.Rotate(spent)
	other := account.NewRefreshToken(userID)
	// Made up with the ids an access token of the session shows.
	madeUp := account.RefreshToken{Raw: "rt1." + userID + "." + current.FamilyID + "." + strings.Repeat("A", 43), UserID: userID, FamilyID: current.FamilyID}

	valid := account.Session{
		UserID: userID, FamilyID: current.FamilyID, CurrentHash: current.Hash(), Proof: current.FamilyProof(), Epoch: 3,
		ExpiresAt: now.Add(time.Hour),
	}
	with := func(change func(*account.Session)) account.Session {
		s := valid
		change(&s)
		return s
	}
	tests := []struct {
		name      string
		session   account.Session
		presented account.RefreshToken
		epoch     int64
		now       time.Time
		want      error
	}{
		{"current token", valid, current, 3, now, nil},
		{"last instant before expiry", valid, current, 3, valid.ExpiresAt.Add(-time.Nanosecond), nil},
		{"revoked", with(func(s *account.Session) { s.Revoked = true }), current, 3, now, account.ErrSessionInvalid},
		{"epoch moved on (password changed)", valid, current, 4, now, account.ErrSessionInvalid},
		{"expired at the instant", valid, current, 3, valid.ExpiresAt, account.ErrSessionInvalid},
		{"spent token", valid, spent, 3, now, account.ErrTokenReused},
		{"token spent generations ago", valid, older, 3, now, account.ErrTokenReused},
		// Only a token that shows the family's secret is reuse: anything
		// else is invalid, and must not end the family.
		{"made up with the session's ids", valid, madeUp, 3, now, account.ErrSessionInvalid},
		{"token of another family", valid, other, 3, now, account.ErrSessionInvalid},
		{"zero token", valid, account.RefreshToken{}, 3, now, account.ErrSessionInvalid},
		{"spent token of a family without a proof", with(func(s *account.Session) { s.Proof = "" }), spent, 3, now, account.ErrSessionInvalid},
		// A dead session is invalid whatever is presented: reuse detection
		// (which revokes the family) only matters for live families.
		{"spent token on revoked session", with(func(s *account.Session) { s.Revoked = true }), spent, 3, now, account.ErrSessionInvalid},
		{"spent token on expired session", valid, spent, 3, valid.ExpiresAt.Add(time.Second), account.ErrSessionInvalid},
		{"spent token after password change", valid, spent, 4, now, account.ErrSessionInvalid},
		{"zero session", account.Session{}, current, 0, now, account.ErrSessionInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.session.Check(tt.presented, tt.epoch, tt.now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCountRefreshPerSessionAndHour(t *testing.T) {
	hour := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		s         account.Session
		now       time.Time
		want      account.RefreshCount
		wantAfter time.Duration // RetryAfter of a refused refresh; 0 when counted
	}{
		{"first refresh", account.Session{}, hour.Add(5 * time.Minute), account.RefreshCount{Hour: hour, Count: 1}, 0},
		{"the last one", account.Session{Refreshes: 59, RefreshHour: hour}, hour.Add(time.Minute), account.RefreshCount{Hour: hour, Count: 60}, 0},
		{"past the limit", account.Session{Refreshes: 60, RefreshHour: hour}, hour.Add(45 * time.Minute), account.RefreshCount{}, 15 * time.Minute},
		{"the next hour", account.Session{Refreshes: 60, RefreshHour: hour}, hour.Add(time.Hour), account.RefreshCount{Hour: hour.Add(time.Hour), Count: 1}, 0},
	}
	for _, tt := range tests {
		got, err := tt.s.CountRefresh(tt.now, account.DefaultRefreshesPerHour)
		limited := problem.Of(err, problem.TooManyRequests)
		switch {
		case tt.wantAfter == 0 && (err != nil || got != tt.want):
			t.Errorf("%s: CountRefresh = %+v, %v; want %+v", tt.name, got, err, tt.want)
		case tt.wantAfter != 0 && (limited == nil || limited.RetryAfter != tt.wantAfter):
			t.Errorf("%s: CountRefresh = %+v, %v; want Limited after %v", tt.name, got, err, tt.wantAfter)
		}
	}
}
