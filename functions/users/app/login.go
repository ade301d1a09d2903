package app

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
)

// LoginCommand is a login with an email and a password; but for Source,
// it is the body of the API's login route, hence its JSON names.
type LoginCommand struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// DeviceToken is the token an earlier login handed to this device, if
	// any: with it, the device's attempts do not count against the
	// account, so an attack on the account does not lock its owner out.
	DeviceToken string `json:"deviceToken"`
	Source      string `json:"-"` // the client's address, as API Gateway saw it
}

// takeTries bounds the rounds of reading the buckets and taking an
// attempt when other attempts keep counting first.
const takeTries = 3

// Login checks the credentials and starts a session. Before the password
// is checked, the attempt is counted against the account (or the
// presented device of it, while the device counts: account.Device.Counts);
// past its free attempts each must wait longer than the one before
// (account.Throttle). Without a device token of the account, a login
// counts against its address's requests of the second (gateSource), from
// an address with too many failed logins it waits, and a failure, or an
// attempt the account's bucket made wait, counts against the address.
// With one, the address does not matter: the people behind one address
// who logged in before are never held up by it. A login whose password
// was reset or changed after it was checked starts no session.
// Returns a validation problem for invalid input, ErrBadCredentials
// for an unknown email or a wrong password (the same error for both, and
// for a password reset or changed meanwhile), and a too-many-attempts problem
// when the attempt has to wait.
func (s *Service) Login(ctx context.Context, cmd LoginCommand) (TokenPair, error) {
	in, err := account.NewLoginAttempt(cmd.Email, cmd.Password, cmd.DeviceToken)
	if err != nil {
		return TokenPair{}, err
	}
	now := s.Now()
	st, err := s.takeAttempt(ctx, in.Email, cmd.Source, in.DeviceHash)
	if err != nil {
		return TokenPair{}, err
	}
	// Unknown emails verify against a dummy hash, so both failures cost the
	// same time and give the same answer (Credentials is zero for them).
	ok, err := password.Verify(cmp.Or(st.Credentials.PasswordHash, password.DummyHash), in.Password)
	if err != nil {
		return TokenPair{}, err
	}
	if !ok || !st.Found {
		if st.Device == nil {
			s.countSourceFailure(ctx, cmd.Source, st.Source, now)
		}
		s.Metrics.Add(MetricLoginFailure, 1)
		s.Log.WarnContext(ctx, "login failed", slog.Bool("knownDevice", st.Device != nil))
		return TokenPair{}, ErrBadCredentials
	}
	u := st.Credentials
	s.upgradeHash(ctx, u, in.Password)
	refresh, device := account.NewRefreshToken(u.ID), account.NewDeviceToken()
	pair, err := s.tokenPair(ctx, u, refresh)
	if err != nil {
		return TokenPair{}, err
	}
	done := account.LoginCompletion{Refresh: refresh, Epoch: u.SessionEpoch, Email: in.Email, NewDevice: device}
	if st.Device != nil {
		done.OldDevice = st.Device.Hash
	}
	err = s.Store.CompleteLogin(ctx, done, now)
	if errors.Is(err, account.ErrStaleWrite) {
		// A password reset or change ended the epoch of the password
		// checked: a session of that epoch must not outlive it.
		s.Metrics.Add(MetricLoginFailure, 1)
		s.Log.WarnContext(ctx, "login raced a password reset or change; no session started")
		return TokenPair{}, ErrBadCredentials
	}
	if err != nil {
		return TokenPair{}, err
	}
	pair.DeviceToken = device.Raw
	s.Metrics.Add(MetricLoginSuccess, 1)
	s.Log.InfoContext(ctx, "login succeeded", slog.String(logging.KeyUserID, u.ID), slog.Bool("knownDevice", st.Device != nil))
	return pair, nil
}

// takeAttempt counts one attempt against the guard bucket of email (the
// presented device's, if it is one of email's, else the account's) and
// returns what it read; without a device of the account, it first counts
// the request against the address's second and checks that the address
// need not wait. When another attempt counts
// first, it reads again. Only the guard is written: the address's
// failures are counted after the check, and an address many people log
// in from is never contended for.
func (s *Service) takeAttempt(ctx context.Context, email, source, deviceHash string) (account.LoginState, error) {
	gated := false
	for range takeTries {
		now := s.Now()
		st, err := s.Store.LoginState(ctx, email, source, deviceHash, now)
		if err != nil {
			return account.LoginState{}, err
		}
		if st.Device != nil && (!st.Found || !st.Device.Counts(st.Credentials.SessionEpoch)) {
			st.Device = nil // spent, or issued before a password reset or change: no device
		}
		take, guardErr := st.Take(email, now)
		var sourceErr error
		if source != "" && st.Device == nil {
			if !gated {
				if err := s.gateSource(ctx, source); err != nil {
					return account.LoginState{}, err
				}
				gated = true
			}
			sourceErr = s.SourceThrottle.Check(st.Source, now)
		}
		if err := errors.Join(guardErr, sourceErr); err != nil {
			// An attempt the account's bucket makes wait, from a client
			// that cannot show a device of the account and that its
			// address let through, counts as what it is at best for an
			// attacker: a failed guess of the address. A loop polling an
			// account to win each slot as a wait ends slows its own address
			// down (account.SourceThrottle); the address's own waits are
			// not counted, as before.
			if guardErr != nil && sourceErr == nil && st.Device == nil {
				s.countSourceFailure(ctx, source, st.Source, now)
			}
			return account.LoginState{}, s.throttled(ctx, guardErr, sourceErr)
		}
		if err := s.Store.TakeAttempt(ctx, take, now); !errors.Is(err, account.ErrStaleWrite) {
			return st, err // the callers look at st only without err
		}
		// Another attempt counted first: read again.
	}
	// Attempts kept coming in at once: this one waits a second.
	return account.LoginState{}, s.throttled(ctx, account.Limited(time.Second), nil)
}

// countSourceFailure counts a failed login, or one made to wait, against
// the address it came from (read: its failures as read before), unless
// there is no address (a password change). A failure to count is logged,
// not the login's error.
func (s *Service) countSourceFailure(ctx context.Context, source string, read account.Failures, now time.Time) {
	if source == "" {
		return
	}
	if err := s.Store.CountSourceFailure(ctx, source, read.Count == 0, s.SourceThrottle.Forget, now); err != nil {
		s.Log.WarnContext(ctx, "counting the failure against the address failed", slog.String(logging.KeyError, err.Error()))
	}
}

// throttled counts and logs a login attempt made to wait, and returns the
// error that says how long: the longer of the two waits.
func (s *Service) throttled(ctx context.Context, guard, source error) error {
	wait := &problem.Error{Kind: problem.TooManyRequests, Slug: "too-many-attempts",
		Detail: "Too many password attempts. Wait for the time Retry-After gives, or log in from a device that logged in before."}
	for _, err := range []error{guard, source} {
		if l := problem.Of(err, problem.TooManyRequests); l != nil && l.RetryAfter > wait.RetryAfter {
			wait.RetryAfter = l.RetryAfter
		}
	}
	s.Metrics.Add(MetricLoginThrottled, 1)
	s.Log.WarnContext(ctx, "login attempt throttled", slog.Bool("bySource", source != nil), slog.Duration("retryAfter", wait.RetryAfter))
	return wait
}

// upgradeHash rehashes a just-verified password whose hash uses outdated
// parameters. A failure only postpones the upgrade to the next login.
func (s *Service) upgradeHash(ctx context.Context, u account.Credentials, plain string) {
	if !password.NeedsRehash(u.PasswordHash, s.Hashing) {
		return
	}
	err := s.Store.RehashPassword(ctx, u.ID, u.PasswordHash, password.Hash(plain, s.Hashing))
	if err != nil && !errors.Is(err, account.ErrStaleWrite) {
		s.Log.WarnContext(ctx, "password rehash failed", slog.String(logging.KeyError, err.Error()))
	}
}
