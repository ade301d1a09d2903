package app

import (
	"context"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
)

// Store is the users table as the use cases see it: the store of the
// users table (store.Store) and the tests' apptest.MemStore implement it,
// and one conformance suite holds both to it.
type Store interface {
	// Users and their credentials.

	// CreateUser stores a new user with the hash of its password, its
	// pending verification link and the event that mails it, at once.
	// Returns account.ErrEmailTaken if another user has the email.
	CreateUser(ctx context.Context, u account.User, passwordHash string, verify account.PendingLink, ev events.AccountEvent) error
	// User returns the user with the given id, or account.ErrNotFound.
	User(ctx context.Context, id string) (account.Credentials, error)
	// UserByEmail returns the user registered under email, or
	// account.ErrNotFound, taking about as long either way.
	UserByEmail(ctx context.Context, email string) (account.Credentials, error)
	// UpdateName renames the user and returns it, or account.ErrNotFound.
	UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error)
	// ChangePassword replaces u's hash if it is still u.PasswordHash, ends
	// every session and device of the user (raising the session epoch),
	// deletes a pending reset link and writes revoke, counted against
	// budget. Returns account.ErrStaleWrite if the hash changed,
	// account.Limited if the budget is spent.
	ChangePassword(ctx context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error
	// RehashPassword replaces the hash if it is still oldHash, keeping the
	// sessions. Returns account.ErrStaleWrite otherwise.
	RehashPassword(ctx context.Context, id, oldHash, newHash string) error

	// The one pending link per purpose a user may use, and the events
	// that mail them.

	// IssueLink counts one request against limit and, when link is not
	// nil, makes it the user's pending link of purpose p (replacing any)
	// and stores ev to mail it, all at once. Returns account.Limited
	// when the limit is reached, writing nothing.
	IssueLink(ctx context.Context, p account.Purpose, link *account.PendingLink, ev *events.AccountEvent, limit account.Limit, now time.Time) error
	// PendingLink returns the user's pending link of purpose p with the
	// user, or account.ErrLinkInvalid if there is neither.
	PendingLink(ctx context.Context, p account.Purpose, userID string) (account.PendingLink, account.Credentials, error)
	// VerifyEmail uses up the verification link, which must still be
	// link, marks the user's email verified and stores the device of
	// device, at once. Returns account.ErrLinkInvalid if the link was used
	// or replaced meanwhile.
	VerifyEmail(ctx context.Context, link account.PendingLink, device account.DeviceGrant, now time.Time) error
	// ResetPassword uses up the reset link, which must still be link, and
	// sets u's password hash, marks its email verified, ends every session
	// (raising the session epoch), writes revoke and stores the device of
	// device, at once. Returns account.ErrLinkInvalid if the link was used
	// or replaced meanwhile, account.ErrStaleWrite if the user changed.
	ResetPassword(ctx context.Context, link account.PendingLink, u account.Credentials, newHash string, device account.DeviceGrant, now time.Time, revoke revocation.Entry) error
	// CancelRegistration uses up the verification link, which must still
	// be link, and deletes u, which must still be unverified, with its
	// email's claim (the address is free again), its pending reset link
	// and its failed login count, at once. Returns account.ErrLinkInvalid
	// if the link was used or replaced meanwhile, or the email verified.
	CancelRegistration(ctx context.Context, link account.PendingLink, u account.Credentials, now time.Time) error

	// Requests counted against limits.

	// CountRequest counts one request against limit. Returns
	// account.Limited when the limit is reached, counting nothing.
	CountRequest(ctx context.Context, limit account.Limit, now time.Time) error

	// Refresh token families.

	// Session returns the family of t and its user, or
	// account.ErrSessionInvalid if either is missing.
	Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error)
	// RotateSession makes next the family's current token if presented
	// still is and the user's epoch is still epoch, and stores the
	// family's refresh count. Returns account.ErrTokenReused if presented
	// was spent meanwhile and account.ErrSessionInvalid for any other
	// failed check.
	RotateSession(ctx context.Context, presented, next account.RefreshToken, epoch int64, count account.RefreshCount, now time.Time) error
	// RevokeSession ends a family of userID and, with revoke, writes it
	// (ending the family's access tokens) counted against budget (none
	// when budget.Max is 0), at once. Returns account.ErrSessionInvalid if
	// the user has no such family, account.ErrSessionEnded if it ended
	// already and account.Limited if the budget is spent, each
	// writing nothing.
	RevokeSession(ctx context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error

	// Login attempts, counted in buckets (account.Throttle), and
	// successful logins.

	// LoginState reads the user registered under email, if any, the
	// email's bucket, the source address's failures (none when source is
	// ""), and the device of the presented token's hash if it is one of
	// email's (deviceHash "" for none), whether or not it still counts
	// (account.Device.Counts).
	LoginState(ctx context.Context, email, source, deviceHash string, now time.Time) (account.LoginState, error)
	// TakeAttempt writes the buckets after one more attempt, on condition
	// that they are still as read; account.ErrStaleWrite otherwise.
	TakeAttempt(ctx context.Context, t account.AttemptTake, now time.Time) error
	// CompleteLogin stores a successful login's session and device token,
	// and clears the account's bucket when no device was presented, at once, if the user's
	// session epoch is still c.Epoch. Returns account.ErrStaleWrite
	// otherwise (a password reset or change came between), writing
	// nothing.
	CompleteLogin(ctx context.Context, c account.LoginCompletion, now time.Time) error
	// CountSourceFailure counts a failed login against the source
	// address, atomically (the failures start over forget after the last
	// one); first says the caller read none.
	CountSourceFailure(ctx context.Context, source string, first bool, forget time.Duration, now time.Time) error
	// ClearAttempts forgets the attempts counted against email.
	ClearAttempts(ctx context.Context, email string) error
}

// Sealer encrypts a link token for the notification service alone;
// *sealed.Sealer implements it.
type Sealer interface {
	Seal(ctx context.Context, secret []byte, ec map[string]string) ([]byte, error)
}
