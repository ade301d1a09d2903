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

// TooManyAttemptsError means a password check has to wait: the account's,
// the device's or the source address's attempts went past their free ones
// (account.Throttle). RetryAfter says how long (at least a second).
type TooManyAttemptsError struct {
	RetryAfter time.Duration
}

func (e TooManyAttemptsError) Error() string {
	return fmt.Sprintf("app: too many failed attempts; retry after %s", e.RetryAfter)
}
