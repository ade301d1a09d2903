package account_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/problem"
)

// userID is ULID-shaped, as the service's user ids are.
const userID = "01HZX3YQ7A8B9C0D1E2F3G4H5J"

func newToken(t *testing.T, userID string) account.RefreshToken {
	t.Helper()
	tok, err := account.NewRefreshToken(userID)
	if err != nil {
		t.Fatalf("NewRefreshToken: %v", err)
	}
	return tok
}

func TestNewRefreshTokenRoundTrip(t *testing.T) {
	tok := newToken(t, userID)
	if tok.UserID != userID {
		t.Errorf("UserID = %q, want %q", tok.UserID, userID)
	}
	if !strings.HasPrefix(tok.Raw, "rt1."+userID+"."+tok.FamilyID+".") {
		t.Errorf("Raw = %q does not start with rt1.<user>.<family>.", tok.Raw)
	}
	parsed, err := account.ParseRefreshToken(tok.Raw)
	if err != nil {
		t.Fatalf("ParseRefreshToken(%q): %v", tok.Raw, err)
	}
	if parsed != tok {
		t.Errorf("ParseRefreshToken = %+v, want %+v", parsed, tok)
	}
	if parsed.Hash() != tok.Hash() {
		t.Errorf("hash of the parsed token differs from the issued one")
	}
}

func TestNewRefreshTokenStartsNewFamilies(t *testing.T) {
	seenFamily := map[string]bool{}
	seenRaw := map[string]bool{}
	for range 50 {
		tok := newToken(t, userID)
		if seenFamily[tok.FamilyID] {
			t.Fatalf("family id %q issued twice", tok.FamilyID)
		}
		if seenRaw[tok.Raw] {
			t.Fatalf("token %q issued twice", tok.Raw)
		}
		seenFamily[tok.FamilyID], seenRaw[tok.Raw] = true, true
	}
}

func TestRotate(t *testing.T) {
	first := newToken(t, userID)
	seen := map[string]bool{first.Raw: true}
	prev := first
	for i := range 10 {
		next, err := account.Rotate(prev)
		if err != nil {
			t.Fatalf("Rotate #%d: %v", i, err)
		}
		if next.UserID != first.UserID || next.FamilyID != first.FamilyID {
			t.Fatalf("Rotate #%d = user %q family %q, want user %q family %q", i, next.UserID, next.FamilyID, first.UserID, first.FamilyID)
		}
		if seen[next.Raw] {
			t.Fatalf("Rotate #%d repeated token %q", i, next.Raw)
		}
		if next.Hash() == prev.Hash() {
			t.Fatalf("Rotate #%d kept the hash of its predecessor", i)
		}
		parsed, err := account.ParseRefreshToken(next.Raw)
		if err != nil || parsed != next {
			t.Fatalf("ParseRefreshToken(rotated) = %+v, %v; want %+v", parsed, err, next)
		}
		seen[next.Raw] = true
		prev = next
	}
}

func TestRotateParsedToken(t *testing.T) {
	// The server rotates what it parsed from the client, which has Raw set.
	tok := newToken(t, userID)
	parsed, err := account.ParseRefreshToken(tok.Raw)
	if err != nil {
		t.Fatal(err)
	}
	next, err := account.Rotate(parsed)
	if err != nil {
		t.Fatal(err)
	}
	if next.Raw == tok.Raw || next.UserID != tok.UserID || next.FamilyID != tok.FamilyID {
		t.Errorf("Rotate(%+v) = %+v", parsed, next)
	}
}

func TestRefreshTokenHash(t *testing.T) {
	a := newToken(t, userID)
	b := newToken(t, userID)
	tests := []struct {
		name      string
		x, y      account.RefreshToken
		wantEqual bool
	}{
		{"same token twice", a, a, true},
		{"copy of the token", a, account.RefreshToken{Raw: a.Raw}, true},
		{"ids do not enter the hash", a, account.RefreshToken{Raw: a.Raw, UserID: "other", FamilyID: "other"}, true},
		{"two tokens", a, b, false},
		{"token and its rotation", a, mustRotate(t, a), false},
		{"one character changed", a, account.RefreshToken{Raw: a.Raw[:len(a.Raw)-1] + flip(a.Raw[len(a.Raw)-1])}, false},
	}
	hexSHA256 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hx, hy := tt.x.Hash(), tt.y.Hash()
			if !hexSHA256.MatchString(hx) {
				t.Fatalf("Hash() = %q, want 64 lower-case hex digits", hx)
			}
			if (hx == hy) != tt.wantEqual {
				t.Errorf("hashes %q and %q: equal = %v, want %v", hx, hy, hx == hy, tt.wantEqual)
			}
			if strings.Contains(hx, tt.x.Raw) || strings.Contains(tt.x.Raw, hx) {
				t.Errorf("hash and raw token overlap")
			}
		})
	}
}

func TestRefreshTokenHashKnownValue(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 appendix B.1: the stored form must not drift.
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := (account.RefreshToken{Raw: "abc"}).Hash(); got != want {
		t.Errorf("Hash() = %s, want %s", got, want)
	}
}

func mustRotate(t *testing.T, tok account.RefreshToken) account.RefreshToken {
	t.Helper()
	next, err := account.Rotate(tok)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// flip returns a different character of the base64url alphabet.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestParseRefreshTokenRejects(t *testing.T) {
	good := newToken(t, userID)
	parts := strings.Split(good.Raw, ".")
	if len(parts) != 4 {
		t.Fatalf("token %q has %d parts, want 4", good.Raw, len(parts))
	}
	prefix, user, family, secret := parts[0], parts[1], parts[2], parts[3]
	join := func(p ...string) string { return strings.Join(p, ".") }

	tests := []struct {
		name string
		raw  string
	}{
		{"empty", ""},
		{"garbage", "not a token"},
		{"access token shape", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"},
		{"other version", join("rt2", user, family, secret)},
		{"upper-case prefix", join("RT1", user, family, secret)},
		{"no prefix", join(user, family, secret)},
		{"missing secret", join(prefix, user, family)},
		{"empty secret", join(prefix, user, family, "")},
		{"extra part", join(prefix, user, family, secret, "x")},
		{"lower-case user id", join(prefix, strings.ToLower(user), family, secret)},
		{"short user id", join(prefix, user[1:], family, secret)},
		{"long user id", join(prefix, user+"0", family, secret)},
		{"user id with symbol", join(prefix, user[1:]+"#", family, secret)},
		{"short family", join(prefix, user, family[1:], secret)},
		{"long family", join(prefix, user, family+"A", secret)},
		{"family with base64 std symbols", join(prefix, user, "+/"+family[2:], secret)},
		{"short secret", join(prefix, user, family, secret[1:])},
		{"long secret", join(prefix, user, family, secret+"A")},
		{"padded secret", join(prefix, user, family, secret[1:]+"=")},
		{"secret with base64 std symbols", join(prefix, user, family, "+/"+secret[2:])},
		{"leading space", " " + good.Raw},
		{"trailing space", good.Raw + " "},
		{"trailing newline", good.Raw + "\n"},
		{"leading newline", "\n" + good.Raw},
		{"embedded NUL", good.Raw[:10] + "\x00" + good.Raw[11:]},
		{"two tokens", good.Raw + good.Raw},
		{"token twice with newline", good.Raw + "\n" + good.Raw},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := account.ParseRefreshToken(tt.raw)
			if !errors.Is(err, account.ErrSessionInvalid) {
				t.Errorf("ParseRefreshToken(%q) error = %v, want ErrSessionInvalid", tt.raw, err)
			}
			if got != (account.RefreshToken{}) {
				t.Errorf("ParseRefreshToken(%q) = %+v, want the zero token", tt.raw, got)
			}
		})
	}
}

func TestSessionCheck(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// Three generations of one family: two spent, the last current.
	older := newToken(t, userID)
	spent := mustRotate(t, older)
	current := mustRotate(t, spent)
	other := newToken(t, userID)
	// Made up with the ids an access token of the session shows.
	madeUp := account.RefreshToken{Raw: "rt1." + userID + "." + current.FamilyID + "." + strings.Repeat("A", 43), UserID: userID, FamilyID: current.FamilyID}

	valid := account.Session{
		UserID: userID, FamilyID: current.FamilyID, CurrentHash: current.Hash(), Proof: current.FamilyProof(), Epoch: 3,
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour),
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
		{"epoch behind", valid, current, 2, now, account.ErrSessionInvalid},
		{"expired at the instant", valid, current, 3, valid.ExpiresAt, account.ErrSessionInvalid},
		{"expired long ago", valid, current, 3, valid.ExpiresAt.Add(account.RefreshTTL), account.ErrSessionInvalid},
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
		{"within the hour", account.Session{Refreshes: 3, RefreshHour: hour}, hour.Add(10 * time.Minute), account.RefreshCount{Hour: hour, Count: 4}, 0},
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

func TestFamilyProof(t *testing.T) {
	first := newToken(t, userID)
	next := mustRotate(t, first)
	parsed, err := account.ParseRefreshToken(next.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if first.FamilyProof() == "" || first.FamilyProof() != next.FamilyProof() || parsed.FamilyProof() != first.FamilyProof() {
		t.Fatalf("a family's tokens show different proofs: %q, %q, %q", first.FamilyProof(), next.FamilyProof(), parsed.FamilyProof())
	}
	if other := newToken(t, userID); other.FamilyProof() == first.FamilyProof() {
		t.Fatal("two families show the same proof")
	}
	if strings.Contains(first.Raw, first.FamilyProof()) {
		t.Fatal("the proof is in the token")
	}
	if (account.RefreshToken{}).FamilyProof() != "" {
		t.Fatal("a token without a secret shows a proof")
	}
	if _, err := account.Rotate(account.RefreshToken{UserID: userID, FamilyID: first.FamilyID}); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("Rotate of a token without a secret = %v, want ErrSessionInvalid", err)
	}
}
