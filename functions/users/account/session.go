package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// RefreshTTL is how long a refresh token stays usable after it is issued.
// Each use rotates it, so an active session slides forward.
const RefreshTTL = 30 * 24 * time.Hour

// refreshPrefix versions the refresh token format.
const refreshPrefix = "rt1"

// RefreshToken is an opaque refresh token. The client sees Raw; the server
// keeps only Hash. The user and family ids inside let the server find the
// session with one read; the 256-bit secret is what makes it unguessable.
// Its first 128 bits are the family's secret, the same in every token of
// the family, and the rest the token's own (FamilyProof).
type RefreshToken struct {
	Raw      string
	UserID   string
	FamilyID string
}

// Hash is the SHA-256 of the raw token, hex encoded: what the store keeps.
func (t RefreshToken) Hash() string { return hash(t.Raw) }

// hash is the SHA-256 of a token's secret, hex encoded: what the store
// keeps of it.
func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// random is n random bytes, URL-safe base64 encoded without padding.
func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: it crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// familySecretLen is the length of the part of a refresh token's secret
// that every token of its family shares; the rest is the generation's own.
const familySecretLen = 16

// NewRefreshToken returns a token that starts a new family for userID.
func NewRefreshToken(userID string) RefreshToken {
	return generation(userID, random(16), nil)
}

// Rotate returns the next token of t's family, which carries the family's
// secret on. t is one ParseRefreshToken or NewRefreshToken returned: every
// such token has its secret (FuzzParseRefreshToken rotates each).
func Rotate(t RefreshToken) RefreshToken {
	secret, _ := t.familySecret()
	return generation(t.UserID, t.FamilyID, secret)
}

// generation makes a token of the family with the family's secret (a new
// one for nil) and 128 random bits of its own. The 256-bit secret of the
// token is both.
func generation(userID, familyID string, familySecret []byte) RefreshToken {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails: it crashes the program instead
	copy(secret, familySecret)
	raw := strings.Join([]string{refreshPrefix, userID, familyID, base64.RawURLEncoding.EncodeToString(secret)}, ".")
	return RefreshToken{Raw: raw, UserID: userID, FamilyID: familyID}
}

// familySecret is the part of t's secret its whole family shares.
func (t RefreshToken) familySecret() ([]byte, bool) {
	secret, err := base64.RawURLEncoding.DecodeString(t.Raw[strings.LastIndexByte(t.Raw, '.')+1:]) // its last part
	if err != nil || len(secret) != 32 {
		return nil, false
	}
	return secret[:familySecretLen], true
}

// FamilyProof is the SHA-256 of the family's secret, hex encoded, or ""
// for a token without one. The store keeps it with the family: a spent
// token shows it, so the server can tell a token of the family (which
// only ever went to the family's holders) from one made up with the ids
// an access token shows (sub, sid). Only the first is reuse.
func (t RefreshToken) FamilyProof() string {
	if secret, ok := t.familySecret(); ok {
		return hash(string(secret))
	}
	return ""
}

// ParseRefreshToken checks the shape of a presented token. Shape is all it
// checks: whether the token is current is the store's question.
func ParseRefreshToken(raw string) (RefreshToken, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 4 || parts[0] != refreshPrefix || !ulid(parts[1]) || !b64(parts[2], 22) || !b64(parts[3], 43) {
		return RefreshToken{}, ErrSessionInvalid
	}
	return RefreshToken{Raw: raw, UserID: parts[1], FamilyID: parts[2]}, nil
}

// Session is one refresh token family: a login and its rotations.
type Session struct {
	UserID      string
	FamilyID    string
	CurrentHash string // hash of the only token of the family that may be used
	// Proof is the FamilyProof of the family's tokens.
	Proof     string
	Epoch     int64 // the user's SessionEpoch when the family began
	Revoked   bool
	ExpiresAt time.Time
	// Refreshes counts the family's refreshes in the clock hour that
	// starts at RefreshHour (zero before the first).
	Refreshes   int
	RefreshHour time.Time
}

// DefaultRefreshesPerHour is how many times one session may be refreshed
// in a clock hour. A client refreshes when its access token expires (every
// 15 minutes) or when it starts; a loop refreshing one session, which
// signs a token in KMS each time, meets the limit at once.
const DefaultRefreshesPerHour = 60

// RefreshCount is a session's refresh count after one more refresh.
type RefreshCount struct {
	Hour  time.Time
	Count int
}

// CountRefresh counts one more refresh of s at now, at most perHour in a
// clock hour. Refresh is limited per session, not per client address, so
// the people behind one address (an office, a carrier's NAT) do not share
// a limit. Returns a Limited error when the hour's refreshes are spent.
func (s Session) CountRefresh(now time.Time, perHour int) (RefreshCount, error) {
	hour := now.Truncate(time.Hour)
	if !s.RefreshHour.Equal(hour) {
		return RefreshCount{Hour: hour, Count: 1}, nil
	}
	if s.Refreshes >= perHour {
		return RefreshCount{}, Limited(hour.Add(time.Hour).Sub(now))
	}
	return RefreshCount{Hour: hour, Count: s.Refreshes + 1}, nil
}

// Check reports whether presented may be exchanged on session for a user
// whose current session epoch is epoch. ErrTokenReused means presented
// is a spent token of the family (it shows the family's secret): the
// family must be revoked. Anything else that is not the current token is
// ErrSessionInvalid and leaves the family alone: a token made up with the
// family's ids, which every access token of the session shows, must not
// end it.
func (s Session) Check(presented RefreshToken, epoch int64, now time.Time) error {
	switch {
	case s.Revoked, s.Epoch != epoch, !now.Before(s.ExpiresAt):
		return ErrSessionInvalid
	case subtle.ConstantTimeCompare([]byte(s.CurrentHash), []byte(presented.Hash())) == 1:
		return nil
	case s.SpentBy(presented):
		return ErrTokenReused
	}
	return ErrSessionInvalid
}

// SpentBy reports whether presented, not the family's current token,
// carries the family's secret: it is a token the family issued before.
func (s Session) SpentBy(presented RefreshToken) bool {
	proof := presented.FamilyProof()
	return s.Proof != "" && proof != "" && s.CurrentHash != presented.Hash() &&
		subtle.ConstantTimeCompare([]byte(s.Proof), []byte(proof)) == 1
}
