package account

import "time"

// LoginAttempt is a validated request to log in: an email that may be
// registered and a password worth checking against a hash.
type LoginAttempt struct {
	Email    string // normalised, see NormalizeEmail
	Password string
}

// NewLoginAttempt validates and normalises login input. It does not apply
// the rules of new passwords: a password set under older rules must still
// log in.
func NewLoginAttempt(email, password string) (LoginAttempt, error) {
	var errs ValidationError
	a := LoginAttempt{Email: NormalizeEmail(email), Password: password}
	if a.Email == "" {
		errs = append(errs, FieldError{"email", "must be a valid email address"})
	}
	if !Presentable(password) {
		errs = append(errs, FieldError{"password", "is required (at most 128 characters)"})
	}
	if len(errs) > 0 {
		return LoginAttempt{}, errs
	}
	return a, nil
}

// PasswordChange is a validated request to replace a password.
type PasswordChange struct {
	Current string
	New     string
}

// NewPasswordChange validates a password change: the current password must
// be presentable and the new one must pass CheckPassword.
func NewPasswordChange(current, next string) (PasswordChange, error) {
	var errs ValidationError
	if !Presentable(current) {
		errs = append(errs, FieldError{"currentPassword", "is required"})
	}
	if msg := CheckPassword(next); msg != "" {
		errs = append(errs, FieldError{"newPassword", msg})
	}
	if len(errs) > 0 {
		return PasswordChange{}, errs
	}
	return PasswordChange{Current: current, New: next}, nil
}

// Presentable reports whether a password presented for checking is worth
// hashing: not empty, and bounded in bytes before hashing because
// argon2id's cost grows with the input. The bound leaves room for any
// password of MaxPasswordLength characters.
func Presentable(password string) bool {
	return password != "" && len(password) <= 4*MaxPasswordLength
}

// NewName normalises a display name, or returns a ValidationError naming
// the field name.
func NewName(s string) (string, error) {
	name, ok := NormalizeName(s)
	if !ok {
		return "", ValidationError{{"name", NameRule}}
	}
	return name, nil
}

// LoginState is what a login attempt needs to know before checking a
// password: the user registered under the email, if any, and the failed
// attempts counted against the email.
type LoginState struct {
	Credentials Credentials // zero if the email is not registered
	Found       bool
	Failures    int       // failed attempts in the current window
	WindowEnds  time.Time // when the failure count resets
}
