package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// accounts is what change needs of the users store (*store.Store).
type accounts interface {
	UserByEmail(ctx context.Context, email string) (account.Credentials, error)
	SetRole(ctx context.Context, u account.Credentials, role string, now time.Time, revoke revocation.Entry) error
}

// attempts bounds how often a change reads the account again after a
// concurrent change of its session epoch (a password change) won.
const attempts = 3

// change makes the account of email role (token.RoleStaff or
// token.RoleCustomer) at now, for access tokens of lifetime ttl, and says
// what it did. It refuses an email no account has and, for staff, an
// account that has not verified its email; an account that has the role
// already is left as it is, its sessions too.
func change(ctx context.Context, a accounts, email, role string, ttl time.Duration, now time.Time) (string, error) {
	addr := account.NormalizeEmail(email)
	if addr == "" {
		return "", fmt.Errorf("%q is not an email address: nothing changed", email)
	}
	for range attempts {
		u, err := a.UserByEmail(ctx, addr)
		switch {
		case errors.Is(err, account.ErrNotFound):
			return "", fmt.Errorf("no account has the email %s: nothing changed", addr)
		case err != nil:
			return "", err
		case u.IsStaff() == (role == token.RoleStaff):
			return fmt.Sprintf("%s (user %s) is %s already: nothing changed, no session ended", addr, u.ID, role), nil
		case role == token.RoleStaff && !u.EmailVerified:
			return "", fmt.Errorf("%s (user %s) has not verified its email, so it cannot be staff: nothing changed", addr, u.ID)
		}
		revoke := revocation.User(u.ID, u.SessionEpoch+1, now, ttl)
		err = a.SetRole(ctx, u, role, now, revoke)
		if errors.Is(err, account.ErrStaleWrite) {
			continue // changed since read: read it again
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s (user %s) is %s now. Every session of the account has ended: its refresh tokens are refused now, "+
			"its access tokens within 60 s; its next login carries the role.", addr, u.ID, role), nil
	}
	return "", fmt.Errorf("the account of %s kept changing while being read: nothing changed, try again", addr)
}
