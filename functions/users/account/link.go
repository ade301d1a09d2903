package account

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

// ErrLinkInvalid is the one answer to a link token that is malformed,
// unknown, expired or already used: which of these is not said.
var ErrLinkInvalid = errors.New("account: link token invalid, expired or used")

// Purpose is what an emailed link lets its reader do.
type Purpose struct {
	name   string
	prefix string        // versions the token format and keeps purposes apart
	TTL    time.Duration // how long a link works
	Event  string        // the type of the event that mails a link
}

// The purposes of emailed links.
var (
	// VerifyEmail proves the reader owns the account's address.
	VerifyEmail = Purpose{name: "verify-email", prefix: "ev1", TTL: 24 * time.Hour, Event: events.AccountVerificationRequested}
	// ResetPassword lets the reader set a new password.
	ResetPassword = Purpose{name: "reset-password", prefix: "pr1", TTL: 30 * time.Minute, Event: events.AccountPasswordResetRequested}
)

func (p Purpose) String() string { return p.name }

// LinkToken is the secret of an emailed link: "<prefix>.<user id>.<256
// random bits>", URL-safe. The user id lets the server find the one pending
// link of the user with one read; the random part is what makes it
// unguessable. Only its hash is stored.
type LinkToken struct {
	Raw     string
	UserID  string
	Purpose Purpose
}

// NewLinkToken makes a token for the user's link of purpose p.
func NewLinkToken(p Purpose, userID string) LinkToken {
	return LinkToken{Raw: p.prefix + "." + userID + "." + random(32), UserID: userID, Purpose: p}
}

// Hash is the SHA-256 of the raw token, hex encoded: what the store keeps.
func (t LinkToken) Hash() string { return hash(t.Raw) }

// ParseLinkToken checks that raw has the shape of a token for purpose p.
// Whether it is the user's pending one is PendingLink.Accepts' question.
func ParseLinkToken(p Purpose, raw string) (LinkToken, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || parts[0] != p.prefix || !ulid(parts[1]) || !b64(parts[2], 43) {
		return LinkToken{}, ErrLinkInvalid
	}
	return LinkToken{Raw: raw, UserID: parts[1], Purpose: p}, nil
}

// PendingLink is the one link of a purpose a user may still use: issuing a
// new one replaces it, using it deletes it.
type PendingLink struct {
	UserID    string
	Hash      string // of the token
	ExpiresAt time.Time
}

// Pending is the pending link of token t issued at now.
func Pending(t LinkToken, now time.Time) PendingLink {
	return PendingLink{UserID: t.UserID, Hash: t.Hash(), ExpiresAt: now.Add(t.Purpose.TTL)}
}

// Accepts reports whether t is this link's token and the link still works
// at now. The hashes are compared in constant time.
func (l PendingLink) Accepts(t LinkToken, now time.Time) bool {
	match := subtle.ConstantTimeCompare([]byte(l.Hash), []byte(t.Hash())) == 1
	return match && l.UserID == t.UserID && now.Before(l.ExpiresAt)
}
