package app

import (
	"context"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

// Accounts keeps users and their credentials.
type Accounts interface {
	// CreateUser stores a new user with the hash of its password. Returns
	// account.ErrEmailTaken if another user has the email.
	CreateUser(ctx context.Context, u account.User, passwordHash string) error
	// User returns the user with the given id, or account.ErrNotFound.
	User(ctx context.Context, id string) (account.Credentials, error)
	// UpdateName renames the user and returns it, or account.ErrNotFound.
	UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error)
	// ChangePassword replaces the hash if it is still oldHash and ends every
	// session of the user. Returns account.ErrStaleWrite otherwise.
	ChangePassword(ctx context.Context, id, oldHash, newHash string, now time.Time) error
	// RehashPassword replaces the hash if it is still oldHash, keeping the
	// sessions. Returns account.ErrStaleWrite otherwise.
	RehashPassword(ctx context.Context, id, oldHash, newHash string) error
}

// Sessions keeps refresh token families.
type Sessions interface {
	// CreateSession starts a family whose current token is t.
	CreateSession(ctx context.Context, t account.RefreshToken, epoch int64, now time.Time) error
	// Session returns the family of t and its user, or
	// account.ErrSessionInvalid if either is missing.
	Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error)
	// RotateSession makes next the family's current token if presented
	// still is and the user's epoch is still epoch. Returns
	// account.ErrTokenReused if presented was spent meanwhile and
	// account.ErrSessionInvalid for any other failed check.
	RotateSession(ctx context.Context, presented, next account.RefreshToken, epoch int64, now time.Time) error
	// RevokeSession ends a family of userID. Returns
	// account.ErrSessionInvalid if the user has no such family.
	RevokeSession(ctx context.Context, userID, familyID string) error
}

// LoginAttempts counts failed password checks per email.
type LoginAttempts interface {
	// LoginState reads the user registered under email, if any, with the
	// failures counted against email at now.
	LoginState(ctx context.Context, email string, now time.Time) (account.LoginState, error)
	// LoginFailures returns the failures counted against email at now and
	// when their window ends.
	LoginFailures(ctx context.Context, email string, now time.Time) (int, time.Time, error)
	// RecordLoginFailure counts one failure against email, opening a window
	// of the given length if none is open.
	RecordLoginFailure(ctx context.Context, email string, now time.Time, window time.Duration) error
	// ClearLoginFailures forgets the failures counted against email.
	ClearLoginFailures(ctx context.Context, email string) error
}
