package account

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"regexp"
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
type RefreshToken struct {
	Raw      string
	UserID   string
	FamilyID string
}

// Hash is the SHA-256 of the raw token, hex encoded: what the store keeps.
func (t RefreshToken) Hash() string {
	sum := sha256.Sum256([]byte(t.Raw))
	return hex.EncodeToString(sum[:])
}

// NewRefreshToken returns a token that starts a new family for userID.
func NewRefreshToken(userID string) (RefreshToken, error) {
	fam := make([]byte, 16)
	if _, err := rand.Read(fam); err != nil {
		return RefreshToken{}, err
	}
	return Rotate(RefreshToken{UserID: userID, FamilyID: base64.RawURLEncoding.EncodeToString(fam)})
}

// Rotate returns the next token of t's family.
func Rotate(t RefreshToken) (RefreshToken, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return RefreshToken{}, err
	}
	next := RefreshToken{UserID: t.UserID, FamilyID: t.FamilyID}
	next.Raw = strings.Join([]string{refreshPrefix, t.UserID, t.FamilyID, base64.RawURLEncoding.EncodeToString(secret)}, ".")
	return next, nil
}

var refreshPattern = regexp.MustCompile(`^rt1\.([0-9A-Z]{26})\.([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$`)

// ParseRefreshToken checks the shape of a presented token. Shape is all it
// checks: whether the token is current is the store's question.
func ParseRefreshToken(raw string) (RefreshToken, error) {
	m := refreshPattern.FindStringSubmatch(raw)
	if m == nil {
		return RefreshToken{}, ErrSessionInvalid
	}
	return RefreshToken{Raw: raw, UserID: m[1], FamilyID: m[2]}, nil
}

// Session is one refresh token family: a login and its rotations.
type Session struct {
	UserID      string
	FamilyID    string
	CurrentHash string // hash of the only token of the family that may be used
	Epoch       int64  // the user's SessionEpoch when the family began
	Revoked     bool
	CreatedAt   time.Time
	ExpiresAt   time.Time
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
// a limit. Returns a LimitedError when the hour's refreshes are spent.
func (s Session) CountRefresh(now time.Time, perHour int) (RefreshCount, error) {
	hour := now.Truncate(time.Hour)
	if !s.RefreshHour.Equal(hour) {
		return RefreshCount{Hour: hour, Count: 1}, nil
	}
	if s.Refreshes >= perHour {
		return RefreshCount{}, LimitedError{RetryAfter: max(hour.Add(time.Hour).Sub(now), time.Second)}
	}
	return RefreshCount{Hour: hour, Count: s.Refreshes + 1}, nil
}

// Check reports whether presented may be exchanged on session for a user
// whose current session epoch is epoch. ErrTokenReused means presented
// belongs to the family but was already spent: the family must be revoked.
func (s Session) Check(presented RefreshToken, epoch int64, now time.Time) error {
	switch {
	case s.Revoked, s.Epoch != epoch, !now.Before(s.ExpiresAt):
		return ErrSessionInvalid
	case subtle.ConstantTimeCompare([]byte(s.CurrentHash), []byte(presented.Hash())) != 1:
		return ErrTokenReused
	}
	return nil
}
