package revocation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/token"
)

// Errors of Check.
var (
	// ErrRevoked means the token was revoked: refuse it like an expired one.
	ErrRevoked = errors.New("revocation: access token revoked")
	// ErrUnavailable means the checker cannot vouch for the token: the feed
	// could not be read for longer than MaxAge, or the caller's entries
	// could not be looked up.
	ErrUnavailable = errors.New("revocation: list unavailable")
)

// Defaults of a Checker. A token is refused at most Refresh after its
// revocation while the table answers. When it does not, what is known keeps
// serving for MaxAge after the last good read of the feed; then every token
// is refused (Unavailable) rather than honoured past the promised bound of
// a minute.
const (
	DefaultRefresh = 10 * time.Second
	DefaultMaxAge  = 45 * time.Second
	// Overlap is how far before its last read each read of the feed starts
	// again. An entry's place in the feed is the time its transaction was
	// prepared, and the transaction commits a little later: an entry
	// committed after a read yet placed before it is found by the next
	// read as long as it committed within Overlap, which is longer than
	// the users function's timeout, the longest a transaction (with the
	// SDK's retries) can take.
	Overlap = 15 * time.Second
	// forgetAfter is how long a user's entries are kept after the user's
	// last request: then the next request looks them up again.
	forgetAfter = 15 * time.Minute
	// A failed read is retried after firstBackoff, twice as long after
	// each failure in a row, at most after the refresh interval.
	firstBackoff = time.Second
	// DefaultReadTimeout bounds each read: a slow table must not hold
	// requests for long.
	DefaultReadTimeout = 2 * time.Second
)

// Source reads entries; *Table implements it.
type Source interface {
	// Since reads the entries revoked after since, in force at now.
	Since(ctx context.Context, since, now time.Time) ([]Entry, error)
	// ForUser reads the entries of one user in force at now.
	ForUser(ctx context.Context, userID string, now time.Time) ([]Entry, error)
}

// Checker checks tokens against the revocations of their users. It learns
// a user's entries the first time it meets a token of theirs (one read,
// keyed by the user) and every entry made afterwards from the feed, which
// it reads every Refresh, from where its last read ended. So a warm
// checker's cost is one read per Refresh plus the entries that are new,
// and a new one never reads the whole list: its feed starts at its own
// start (less Overlap).
type Checker struct {
	src     Source
	refresh time.Duration
	maxAge  time.Duration
	timeout time.Duration // of each read
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	set     Set       // the users met, with their entries and last request
	good    time.Time // the last good read of the feed started here (or, before any, the first check)
	feed    backoff   // when the feed may be read next
	lookups backoff   // when a user's entries may be looked up next
}

// backoff spaces out the attempts of one kind of read.
type backoff struct {
	next     time.Time // no attempt before this
	failures int       // failed attempts in a row
}

// NewChecker returns a checker reading from src every refresh (zero:
// DefaultRefresh) and logging failed reads to log.
func NewChecker(src Source, refresh time.Duration, log *slog.Logger) *Checker {
	refresh = cmp.Or(max(refresh, 0), DefaultRefresh)
	return &Checker{
		src: src, refresh: refresh, maxAge: max(DefaultMaxAge, 2*refresh), timeout: DefaultReadTimeout, log: log, now: time.Now, set: NewSet(),
	}
}

// WithReadTimeout sets how long each read may take (DefaultReadTimeout
// otherwise) and returns k.
func (k *Checker) WithReadTimeout(d time.Duration) *Checker {
	k.timeout = d
	return k
}

// Check returns ErrRevoked if an entry revokes the token with claims c, and
// ErrUnavailable if the entries cannot be known.
func (k *Checker) Check(ctx context.Context, c token.Claims) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if k.good.IsZero() { // the first check: the feed is read from Overlap before it
		k.good = now
	}
	if !now.Before(k.feed.next) {
		k.readFeed(ctx, now)
	}
	if age := now.Sub(k.good); age >= k.maxAge {
		return fmt.Errorf("%w: the feed was last read %s ago", ErrUnavailable, age.Round(time.Second))
	}
	if _, ok := k.set[c.Subject]; !ok {
		if err := k.lookUp(ctx, c.Subject, now); err != nil {
			return err
		}
	}
	k.set.user(c.Subject).seen = now
	if k.set.Revokes(c) {
		return ErrRevoked
	}
	return nil
}

// readFeed reads what is new in the feed and keeps the entries of the
// users it knows; the others' are read with the user, when one comes.
func (k *Checker) readFeed(ctx context.Context, now time.Time) {
	entries, err := k.read(ctx, now, &k.feed, "revocation feed read failed", func(ctx context.Context) ([]Entry, error) {
		return k.src.Since(ctx, k.good.Add(-Overlap), now)
	}, slog.Duration("listAge", now.Sub(k.good)))
	if err != nil {
		return
	}
	for _, e := range entries {
		if _, ok := k.set[e.UserID]; ok {
			k.set.Add(e)
		}
	}
	k.good, k.feed = now, backoff{next: now.Add(k.refresh)}
	k.set.prune(now)
}

// lookUp reads the entries of a user met for the first time. The feed
// brings every entry made after it: the feed's reads start before this
// checker did, and so before any lookup.
func (k *Checker) lookUp(ctx context.Context, userID string, now time.Time) error {
	if now.Before(k.lookups.next) {
		return fmt.Errorf("%w: lookups paused after a failure", ErrUnavailable)
	}
	entries, err := k.read(ctx, now, &k.lookups, "revocation lookup failed", func(ctx context.Context) ([]Entry, error) {
		return k.src.ForUser(ctx, userID, now)
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	k.lookups = backoff{}
	k.set.Add(entries...)
	return nil
}

// read makes one read within the read timeout. A failure is logged, as
// failed with attrs, and backs b off: the next attempt waits firstBackoff,
// doubling with each failure in a row, at most the refresh interval.
func (k *Checker) read(ctx context.Context, now time.Time, b *backoff, failed string, read func(context.Context) ([]Entry, error), attrs ...any) ([]Entry, error) {
	readCtx, cancel := context.WithTimeout(ctx, k.timeout)
	defer cancel()
	entries, err := read(readCtx)
	if err != nil {
		b.failures++
		wait := min(firstBackoff<<min(b.failures-1, 30), k.refresh)
		b.next = now.Add(wait)
		k.log.WarnContext(ctx, failed, append(attrs, slog.String(logging.KeyError, err.Error()), slog.Duration("retryIn", wait))...)
	}
	return entries, err
}

// Config is where the revocations of access tokens are read, and how often.
type Config struct {
	Table   string
	Refresh time.Duration
}

// ConfigFrom reads REVOCATIONS_TABLE and REVOCATION_REFRESH (optional,
// DefaultRefresh).
func ConfigFrom(env *coldstart.Env) Config {
	return Config{Table: env.String("REVOCATIONS_TABLE"), Refresh: env.Duration("REVOCATION_REFRESH", DefaultRefresh)}
}

// Checker returns the checker of these settings, reading the table
// through db.
func (c Config) Checker(db dynamodb.QueryAPIClient, log *slog.Logger) *Checker {
	return NewChecker(NewTable(db, c.Table), c.Refresh, log)
}

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
	s.Add(entries...)
	return s
}

// Add adds entries; adding an entry twice changes nothing.
func (s Set) Add(entries ...Entry) {
	for _, e := range entries {
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
}

// Revokes reports whether the set revokes a token with these claims.
func (s Set) Revokes(c token.Claims) bool {
	u := s[c.Subject] // a revoked session's expiry is never zero (see Add)
	return u != nil && (!u.sessions[c.SessionID].IsZero() || c.SessionEpoch < u.epoch)
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
