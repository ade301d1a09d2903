package api

import (
	"errors"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/problem"
)

// problemOf is what the users domain's sentinel errors mean to a client:
// the one place where they become the application error
// (web.Config.Errors). Invalid input, limits and paused mail are
// *problem.Errors from the domain and the use cases already.
func problemOf(err error) error {
	switch {
	case errors.Is(err, account.ErrEmailTaken):
		return &problem.Error{Kind: problem.Conflict, Slug: "email-taken", Detail: "An account with this email already exists.", Err: err}
	case errors.Is(err, account.ErrNotFound):
		return &problem.Error{Kind: problem.NotFound, Detail: "The user does not exist.", Err: err}
	case errors.Is(err, account.ErrSessionInvalid), errors.Is(err, account.ErrTokenReused):
		// The one answer to every refused refresh token: the client learns
		// nothing about why, only that it must log in again.
		return &problem.Error{Kind: problem.Unauthenticated, Slug: "invalid-refresh-token", Detail: "The refresh token is invalid, expired or revoked.", Err: err}
	case errors.Is(err, account.ErrStaleWrite):
		return &problem.Error{Kind: problem.Conflict, Detail: "The account changed while the request was processed; retry it.", Err: err}
	case errors.Is(err, app.ErrBadCredentials):
		return &problem.Error{Kind: problem.Unauthenticated, Slug: "invalid-credentials", Detail: "The email or password is incorrect.", Err: err}
	case errors.Is(err, app.ErrWrongPassword):
		return &problem.Error{Kind: problem.Unauthenticated, Slug: "invalid-credentials", Detail: "The current password is incorrect.", Err: err}
	case errors.Is(err, account.ErrLinkInvalid):
		return &problem.Error{Kind: problem.Invalid, Slug: "invalid-token", Detail: "The link is invalid, has expired or was already used. Ask for a new one.", Err: err}
	}
	return err
}
