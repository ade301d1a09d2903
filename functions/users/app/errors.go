package app

import (
	"errors"
	"fmt"
	"time"
)

// Errors of the use cases, besides the domain's own.
var (
	// ErrBadCredentials means a login named an unknown email or a wrong
	// password; which of the two is deliberately not said.
	ErrBadCredentials = errors.New("app: email or password incorrect")
	// ErrWrongPassword means the current password given to change it is wrong.
	ErrWrongPassword = errors.New("app: current password incorrect")
)

// TooManyAttemptsError means the account's failed password checks reached
// the login limit; RetryAfter says when the window ends (at least a second).
type TooManyAttemptsError struct {
	RetryAfter time.Duration
}

func (e TooManyAttemptsError) Error() string {
	return fmt.Sprintf("app: too many failed attempts; retry after %s", e.RetryAfter)
}

// tooManyAttempts is the error of a limit whose window ends at ends.
func tooManyAttempts(ends, now time.Time) error {
	// At least a second: a window ending now must still tell the client to
	// wait, and a zero RetryAfter sends no Retry-After at all.
	return TooManyAttemptsError{RetryAfter: max(ends.Sub(now), time.Second)}
}
