package app

import (
	"context"
	"log/slog"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/revocation"
)

// Profile returns the user with the given id, or account.ErrNotFound.
func (s *Service) Profile(ctx context.Context, userID string) (account.User, error) {
	u, err := s.Store.User(ctx, userID)
	return u.User, err
}

// UpdateName sets the display name of the user userID to name
// (normalised) and returns the updated user.
// Returns a validation problem for an unacceptable name and
// account.ErrNotFound for an unknown user.
func (s *Service) UpdateName(ctx context.Context, userID, name string) (account.User, error) {
	name, err := account.NewName(name)
	if err != nil {
		return account.User{}, err
	}
	return s.Store.UpdateName(ctx, userID, name, s.Now())
}

// ChangePasswordCommand replaces a user's password, given the current
// one; but for UserID (the caller's), it is the body of the API's route,
// hence its JSON names.
type ChangePasswordCommand struct {
	UserID          string `json:"-"`
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// ChangePassword replaces the password and ends every session of the
// user. Returns a validation problem for invalid input,
// account.ErrNotFound for an unknown user, ErrWrongPassword for a wrong
// current password, a too-many-attempts problem while the account's attempts have
// to wait, and account.ErrStaleWrite if the password changed meanwhile.
func (s *Service) ChangePassword(ctx context.Context, cmd ChangePasswordCommand) error {
	if err := account.CheckPasswordChange(cmd.CurrentPassword, cmd.NewPassword); err != nil {
		return err
	}
	u, err := s.Store.User(ctx, cmd.UserID)
	if err != nil {
		return err
	}
	// A stolen access token must not become a way to guess the password:
	// current passwords count against the account's bucket, as logins do.
	if _, err := s.takeAttempt(ctx, u.Email, "", ""); err != nil {
		return err
	}
	now := s.Now()
	ok, err := password.Verify(u.PasswordHash, cmd.CurrentPassword)
	if err != nil {
		return err
	}
	if !ok {
		return ErrWrongPassword
	}
	revoke := revocation.User(u.ID, u.SessionEpoch+1, now, s.Issuer.TTL())
	if err := s.Store.ChangePassword(ctx, u, password.Hash(cmd.NewPassword, s.Hashing), now, revoke, s.revocationBudget(u.ID)); err != nil {
		return s.limited(ctx, revocationsLimited, err)
	}
	if err := s.Store.ClearAttempts(ctx, u.Email); err != nil {
		s.Log.WarnContext(ctx, "clearing login attempts failed", slog.String(logging.KeyError, err.Error()))
	}
	s.Metrics.Add(MetricPasswordChanged, 1)
	s.Log.InfoContext(ctx, "password changed; all sessions revoked")
	return nil
}
