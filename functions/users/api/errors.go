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
	p := func(kind problem.Kind, slug, detail string) error {
		return &problem.Error{Kind: kind, Slug: slug, Detail: detail, Err: err}
	}
	switch {
	case errors.Is(err, account.ErrEmailTaken):
		return p(problem.Conflict, "email-taken", "An account with this email already exists.")
	case errors.Is(err, account.ErrNotFound):
		return p(problem.NotFound, "", "The user does not exist.")
	case errors.Is(err, account.ErrSessionInvalid), errors.Is(err, account.ErrTokenReused):
		// The one answer to every refused refresh token: the client learns
		// nothing about why, only that it must log in again.
		return p(problem.Unauthenticated, "invalid-refresh-token", "The refresh token is invalid, expired or revoked.")
	case errors.Is(err, account.ErrStaleWrite):
		return p(problem.Conflict, "", "The account changed while the request was processed; retry it.")
	case errors.Is(err, app.ErrBadCredentials):
		return p(problem.Unauthenticated, "invalid-credentials", "The email or password is incorrect.")
	case errors.Is(err, app.ErrWrongPassword):
		return p(problem.Unauthenticated, "invalid-credentials", "The current password is incorrect.")
	case errors.Is(err, account.ErrLinkInvalid):
		return p(problem.Invalid, "invalid-token", "The link is invalid, has expired or was already used. Ask for a new one.")
	}
	return err
}
