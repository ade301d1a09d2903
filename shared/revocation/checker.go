package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/token"
)

// Errors of Check.
var (
	// ErrRevoked means the token was revoked: refuse it like an expired one.
	ErrRevoked = errors.New("revocation: access token revoked")
	// ErrUnavailable means the list could not be read for longer than
	// MaxAge: the checker cannot vouch for any token.
	ErrUnavailable = errors.New("revocation: list unavailable")
)

// Defaults of a Checker. A token is refused at most Refresh after its
// revocation while the table answers; the list is used for at most MaxAge
// when it does not, then every token is refused (Unavailable) rather than
// honoured past the promised bound of a minute.
const (
	DefaultRefresh = 10 * time.Second
	DefaultMaxAge  = 45 * time.Second
	retryEvery     = time.Second     // after a failed load, at most one attempt a second
	loadTimeout    = 2 * time.Second // a slow table must not hold requests for long
)

// Loader reads the entries in force; *Table implements it.
type Loader interface {
	Load(ctx context.Context, now time.Time) (Set, error)
}

// Checker keeps the entries in force in memory and checks tokens against
// them. It loads them on the first check and again on the first check after
// Refresh: a request pays for a load at most every Refresh per execution
// environment, and nothing otherwise.
type Checker struct {
	loader  Loader
	refresh time.Duration
	maxAge  time.Duration
	log     *slog.Logger
	now     func() time.Time

	mu        sync.Mutex
	set       Set
	loadedAt  time.Time // when set was loaded; zero before the first load
	triedAt   time.Time // the last attempt, successful or not
	lastError error
}

// NewChecker returns a checker reloading from l every refresh (zero:
// DefaultRefresh) and logging failed loads to log.
func NewChecker(l Loader, refresh time.Duration, log *slog.Logger) *Checker {
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	return &Checker{loader: l, refresh: refresh, maxAge: max(DefaultMaxAge, 2*refresh), log: log, now: time.Now}
}

// Check returns ErrRevoked if an entry revokes the token with claims c, and
// ErrUnavailable if the entries cannot be known.
func (k *Checker) Check(ctx context.Context, c token.Claims) error {
	set, err := k.current(ctx)
	if err != nil {
		return err
	}
	if set.Revokes(c) {
		return ErrRevoked
	}
	return nil
}

// current returns the entries, loading them if they are older than refresh.
func (k *Checker) current(ctx context.Context) (Set, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	age := now.Sub(k.loadedAt)
	if !k.loadedAt.IsZero() && age < k.refresh {
		return k.set, nil
	}
	if k.triedAt.IsZero() || now.Sub(k.triedAt) >= retryEvery {
		k.triedAt = now
		loadCtx, cancel := context.WithTimeout(ctx, loadTimeout)
		set, err := k.loader.Load(loadCtx, now)
		cancel()
		if err == nil {
			k.set, k.loadedAt, k.lastError = set, now, nil
			return set, nil
		}
		k.lastError = err
		k.log.WarnContext(ctx, "revocation list load failed", slog.String(logging.KeyError, err.Error()),
			slog.Duration("listAge", age))
	}
	if k.loadedAt.IsZero() || age >= k.maxAge {
		return Set{}, fmt.Errorf("%w: %v", ErrUnavailable, k.lastError)
	}
	return k.set, nil // a little stale, within the bound
}
