package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/logging"
)

// LoginCommand is a login with an email and a password.
type LoginCommand struct {
	Email    string
	Password string
}

// Login checks the credentials and starts a session. Returns an
// account.ValidationError for invalid input, ErrBadCredentials for an
// unknown email or a wrong password (the same error for both), and
// TooManyAttemptsError once the account reached the login limit, whatever
// the password.
func (s *Service) Login(ctx context.Context, cmd LoginCommand) (TokenPair, error) {
	in, err := account.NewLoginAttempt(cmd.Email, cmd.Password)
	if err != nil {
		return TokenPair{}, err
	}
	now := s.Now()
	st, err := s.Attempts.LoginState(ctx, in.Email, now)
	if err != nil {
		return TokenPair{}, err
	}
	if st.Failures >= s.LoginLimit.Failures {
		s.Metrics.Add(MetricLoginLocked, 1)
		return TokenPair{}, tooManyAttempts(st.WindowEnds, now)
	}
	// Unknown emails verify against a dummy hash, so both failures cost the
	// same time and give the same answer.
	hash := password.DummyHash
	if st.Found {
		hash = st.Credentials.PasswordHash
	}
	ok, err := password.Verify(hash, in.Password)
	if err != nil {
		return TokenPair{}, err
	}
	if !ok || !st.Found {
		if err := s.Attempts.RecordLoginFailure(ctx, in.Email, now, s.LoginLimit.Window); err != nil {
			return TokenPair{}, err
		}
		s.Metrics.Add(MetricLoginFailure, 1)
		s.Log.WarnContext(ctx, "login failed", slog.Int("failuresInWindow", st.Failures+1))
		return TokenPair{}, ErrBadCredentials
	}
	u := st.Credentials
	if st.Failures > 0 {
		if err := s.Attempts.ClearLoginFailures(ctx, in.Email); err != nil {
			return TokenPair{}, err
		}
	}
	s.upgradeHash(ctx, u, in.Password)
	refresh, err := account.NewRefreshToken(u.ID)
	if err != nil {
		return TokenPair{}, err
	}
	pair, err := s.tokenPair(ctx, u, refresh)
	if err != nil {
		return TokenPair{}, err
	}
	if err := s.Sessions.CreateSession(ctx, refresh, u.SessionEpoch, now); err != nil {
		return TokenPair{}, err
	}
	s.Metrics.Add(MetricLoginSuccess, 1)
	s.Log.InfoContext(ctx, "login succeeded", slog.String(logging.KeyUserID, u.ID))
	return pair, nil
}

// upgradeHash rehashes a just-verified password whose hash uses outdated
// parameters. A failure only postpones the upgrade to the next login.
func (s *Service) upgradeHash(ctx context.Context, u account.Credentials, plain string) {
	if !password.NeedsRehash(u.PasswordHash, s.Hashing) {
		return
	}
	hash, err := password.Hash(plain, s.Hashing)
	if err == nil {
		err = s.Accounts.RehashPassword(ctx, u.ID, u.PasswordHash, hash)
	}
	if err != nil && !errors.Is(err, account.ErrStaleWrite) {
		s.Log.WarnContext(ctx, "password rehash failed", slog.String(logging.KeyError, err.Error()))
	}
}
