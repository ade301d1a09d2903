package revocation

import (
	"maps"
	"time"

	"github.com/serverless-shop/backend/shared/token"
)

// Set is the entries in force of some users, each user's apart.
type Set map[string]*userEntries

// userEntries are one user's entries.
type userEntries struct {
	sessions    map[string]time.Time // revoked session → until
	epoch       int64                // tokens of lower epochs are revoked
	epochExpiry time.Time
}

// NewSet collects entries.
func NewSet(entries ...Entry) Set {
	s := Set{}
	for _, e := range entries {
		s.Add(e)
	}
	return s
}

// Add adds e; adding an entry twice changes nothing.
func (s Set) Add(e Entry) {
	u := s[e.UserID]
	if u == nil {
		u = &userEntries{sessions: map[string]time.Time{}}
		s[e.UserID] = u
	}
	switch {
	case e.SessionID != "":
		if e.ExpiresAt.After(u.sessions[e.SessionID]) {
			u.sessions[e.SessionID] = e.ExpiresAt
		}
	case e.Epoch > u.epoch:
		u.epoch, u.epochExpiry = e.Epoch, e.ExpiresAt
	}
}

// Revokes reports whether the set revokes a token with these claims.
func (s Set) Revokes(c token.Claims) bool {
	u := s[c.Subject]
	if u == nil {
		return false
	}
	_, revoked := u.sessions[c.SessionID]
	return revoked || c.SessionEpoch < u.epoch
}

// prune drops the entries that expired by now: their tokens have expired
// too.
func (s Set) prune(now time.Time) {
	for id, u := range s {
		maps.DeleteFunc(u.sessions, func(_ string, until time.Time) bool { return !until.After(now) })
		if u.epoch > 0 && !u.epochExpiry.After(now) {
			u.epoch, u.epochExpiry = 0, time.Time{}
		}
		if len(u.sessions) == 0 && u.epoch == 0 {
			delete(s, id)
		}
	}
}
