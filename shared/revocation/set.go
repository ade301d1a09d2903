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
	seen        time.Time // the user's last request, for a Checker
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
	u := s.user(e.UserID)
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

// user returns the entries of user id, adding the user if the set has
// none.
func (s Set) user(id string) *userEntries {
	u := s[id]
	if u == nil {
		u = &userEntries{sessions: map[string]time.Time{}}
		s[id] = u
	}
	return u
}

// prune drops the entries that expired by now (their tokens have expired
// too), and the users last seen more than forgetAfter before now: a
// Checker looks up their entries again when they come back.
func (s Set) prune(now time.Time) {
	for id, u := range s {
		maps.DeleteFunc(u.sessions, func(_ string, until time.Time) bool { return !until.After(now) })
		if u.epoch > 0 && !u.epochExpiry.After(now) {
			u.epoch, u.epochExpiry = 0, time.Time{}
		}
		if now.Sub(u.seen) > forgetAfter {
			delete(s, id)
		}
	}
}
