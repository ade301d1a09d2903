package app

import (
	"context"
	"log/slog"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/logging"
)

// RegisterCommand asks for a new account; it is the body of the API's
// register route, hence its JSON names.
type RegisterCommand struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// Register creates an account, its email not yet verified, and mails a
// verification link to it, all or nothing. Returns an
// a validation problem for invalid input, account.ErrEmailTaken if
// the email is registered, and the account-mail-paused or
// account-mail-limit problem, writing nothing of the account, while account
// mail is paused or past its cap of the hour.
func (s *Service) Register(ctx context.Context, cmd RegisterCommand) (account.User, error) {
	if err := s.CheckAccountMail(ctx); err != nil {
		return account.User{}, err
	}
	reg, err := account.NewRegistration(cmd.Email, cmd.Password, cmd.Name)
	if err != nil {
		return account.User{}, err
	}
	if err := s.countAccountMail(ctx); err != nil {
		return account.User{}, err
	}
	now := s.now()
	u := account.User{ID: s.NewID(), Email: reg.Email, Name: reg.Name, CreatedAt: now, UpdatedAt: now}
	link, ev, err := s.newLink(ctx, account.VerifyEmail, u, now)
	if err != nil {
		return account.User{}, err
	}
	if err := s.Store.CreateUser(ctx, u, password.Hash(reg.Password, s.Hashing), link, ev); err != nil {
		return account.User{}, err
	}
	s.Metrics.Add(MetricRegistered, 1)
	s.Log.InfoContext(ctx, "user registered", slog.String(logging.KeyUserID, u.ID))
	return u, nil
}
