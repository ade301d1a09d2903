package api

import (
	"errors"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/problem"
)

// invalidRefreshToken is the one answer to every refused refresh token:
// the client learns nothing about why, only that it must log in again.
const invalidRefreshToken = "The refresh token is invalid, expired or revoked."

// errorTable is what the users domain's errors mean to a client: the only
// place where that mapping happens.
var errorTable = problem.Table{
	{As: validationFields, Kind: problem.Invalid, Slug: "validation", Detail: "The request has invalid fields."},
	{Is: account.ErrEmailTaken, Kind: problem.Conflict, Slug: "email-taken", Detail: "An account with this email already exists."},
	{Is: account.ErrNotFound, Kind: problem.NotFound, Detail: "The user does not exist."},
	{Is: account.ErrSessionInvalid, Kind: problem.Unauthenticated, Slug: "invalid-refresh-token", Detail: invalidRefreshToken},
	{Is: account.ErrTokenReused, Kind: problem.Unauthenticated, Slug: "invalid-refresh-token", Detail: invalidRefreshToken},
	{Is: account.ErrStaleWrite, Kind: problem.Conflict, Detail: "The account changed while the request was processed; retry it."},
	{Is: app.ErrBadCredentials, Kind: problem.Unauthenticated, Slug: "invalid-credentials", Detail: "The email or password is incorrect."},
	{Is: app.ErrWrongPassword, Kind: problem.Unauthenticated, Slug: "invalid-credentials", Detail: "The current password is incorrect."},
	{As: retryAfter, Kind: problem.TooManyRequests, Slug: "too-many-attempts", Detail: "Too many password attempts. Wait for the time Retry-After gives, or log in from a device that logged in before."},
	{As: requestsLimited, Kind: problem.TooManyRequests, Detail: "Too many requests from this address. Try again after the time Retry-After gives."},
	{As: refreshesLimited, Kind: problem.TooManyRequests, Detail: "This session was refreshed too often this hour. Try again after the time Retry-After gives."},
	{As: sessionChangesLimited, Kind: problem.TooManyRequests, Detail: "Too many logouts and password changes for this account this hour. Try again after the time Retry-After gives."},
	{As: limitLifts, Kind: problem.TooManyRequests, Detail: "Too many emails of this kind were asked for this address. Try again later."},
	{Is: account.ErrLinkInvalid, Kind: problem.Invalid, Slug: "invalid-token", Detail: "The link is invalid, has expired or was already used. Ask for a new one."},
	{As: accountMailLimited, Kind: problem.Unavailable, Slug: "account-mail-limit",
		Detail: "The shop has sent as many registration and verification emails this hour as it may. Try again after the time Retry-After gives."},
	{As: accountMailPaused, Kind: problem.Unavailable, Slug: "account-mail-paused",
		Detail: "Registration, verification and password reset emails are paused for now. Try again after the time Retry-After gives."},
}

// accountMailLimited matches the hourly cap of account emails of all
// clients and says when it lifts.
func accountMailLimited(err error, p *problem.Error) bool {
	var limited app.AccountMailLimitedError
	if !errors.As(err, &limited) {
		return false
	}
	p.RetryAfter = limited.RetryAfter
	return true
}

// accountMailPaused matches paused account mail; nobody knows when the
// pause ends, so the answer asks for an hour.
func accountMailPaused(err error, p *problem.Error) bool {
	if !errors.Is(err, app.ErrAccountMailPaused) {
		return false
	}
	p.RetryAfter = app.AccountMailPausedRetryAfter
	return true
}

// validationFields matches an account.ValidationError and lists its fields.
func validationFields(err error, p *problem.Error) bool {
	var invalid account.ValidationError
	if !errors.As(err, &invalid) {
		return false
	}
	p.Fields = fieldErrors(invalid)
	return true
}

// retryAfter matches a throttled password attempt and says how long to wait.
func retryAfter(err error, p *problem.Error) bool {
	var limited app.TooManyAttemptsError
	if !errors.As(err, &limited) {
		return false
	}
	p.RetryAfter = limited.RetryAfter
	return true
}

func fieldErrors(invalid account.ValidationError) []problem.FieldError {
	fields := make([]problem.FieldError, len(invalid))
	for i, f := range invalid {
		fields[i] = problem.FieldError{Field: f.Field, Message: f.Message}
	}
	return fields
}

// requestsLimited matches the limit of an address and says when it lifts.
func requestsLimited(err error, p *problem.Error) bool {
	var limited app.RequestsLimitedError
	if !errors.As(err, &limited) {
		return false
	}
	p.RetryAfter = limited.RetryAfter
	return true
}

// limitLifts matches a reached request limit and says when it lifts.
func limitLifts(err error, p *problem.Error) bool {
	var limited account.LimitedError
	if !errors.As(err, &limited) {
		return false
	}
	p.RetryAfter = limited.RetryAfter
	return true
}

// sessionChangesLimited matches a spent revocation budget and says when it
// lifts.
func sessionChangesLimited(err error, p *problem.Error) bool {
	var limited app.SessionChangesLimitedError
	if !errors.As(err, &limited) {
		return false
	}
	p.RetryAfter = limited.RetryAfter
	return true
}

// refreshesLimited matches a session's spent refreshes and says when they
// come back.
func refreshesLimited(err error, p *problem.Error) bool {
	var limited app.RefreshesLimitedError
	if !errors.As(err, &limited) {
		return false
	}
	p.RetryAfter = limited.RetryAfter
	return true
}
