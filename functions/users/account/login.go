package account

import (
	"time"

	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
)

// LoginAttempt is a validated request to log in: an email that may be
// registered and a password worth checking against a hash.
type LoginAttempt struct {
	Email    string // normalised, see NormalizeEmail
	Password string
	// DeviceHash is the hash of the device token presented, "" for none.
	DeviceHash string
}

// NewLoginAttempt validates and normalises login input. It does not apply
// the rules of new passwords: a password set under older rules must still
// log in.
func NewLoginAttempt(email, password, device string) (LoginAttempt, error) {
	a := LoginAttempt{Email: NormalizeEmail(email), Password: password}
	if t, ok := ParseDeviceToken(device); ok {
		a.DeviceHash = t.Hash()
	}
	if err := invalid(problem.FieldError{Field: "email", Message: unless(a.Email != "", "must be a valid email address")},
		problem.FieldError{Field: "password", Message: unless(Presentable(password), "is required (at most 128 characters)")},
		problem.FieldError{Field: "deviceToken", Message: unless(a.DeviceHash != "" || device == "", "must be a device token a login returned")}); err != nil {
		return LoginAttempt{}, err
	}
	return a, nil
}

// CheckPasswordChange validates a request to replace a password: the
// current password must be presentable and the new one must pass
// CheckPassword.
func CheckPasswordChange(current, next string) error {
	return invalid(problem.FieldError{Field: "currentPassword", Message: unless(Presentable(current), "is required")},
		problem.FieldError{Field: "newPassword", Message: CheckPassword(next)})
}

// Presentable reports whether a password presented for checking is worth
// hashing: not empty, and bounded in bytes before hashing because
// argon2id's cost grows with the input. The bound leaves room for any
// password of MaxPasswordLength characters.
func Presentable(password string) bool {
	return password != "" && len(password) <= 4*MaxPasswordLength
}

// NewName trims and NFC-normalises a display name and checks its length
// and characters (text.Name): text.Clean's allow-list, which keeps out
// controls, format characters (bidi overrides, zero-width joiners), line
// separators, private-use and unassigned code points, all of which let a
// name hide or disguise itself in emails and UIs, or be refused on its way
// there; whatever shows a stored name applies the rule again (ShownName).
// It returns "" and a validation *problem.Error naming the field name for
// a name the rule refuses.
func NewName(s string) (string, error) {
	name, ok := text.Name(s)
	return name, invalid(problem.FieldError{Field: "name", Message: unless(ok, NameRule)})
}

// LoginState is what a login attempt needs to know before checking a
// password: the user registered under the email, if any, and the buckets
// the attempt counts against.
type LoginState struct {
	Credentials Credentials // zero if the email is not registered
	Found       bool
	Account     Bucket   // the email's bucket
	Source      Failures // the source address's failures
	Device      *Device  // the presented device token's device, if it is one of this email
}

// Take counts one attempt of email at now against the guard bucket, with
// its throttle: the device's for a device of the account, else the
// account's. It returns what the attempt writes, and the guard's Limited
// error when the attempt must wait.
func (s LoginState) Take(email string, now time.Time) (AttemptTake, error) {
	was, throttle, device := s.Account, AccountThrottle, ""
	if s.Device != nil {
		was, throttle, device = s.Device.Bucket, DeviceThrottle, s.Device.Hash
	}
	guard, err := throttle.Take(was, now)
	return AttemptTake{Email: email, Device: device, GuardWas: was, Guard: guard, GuardForget: now.Add(throttle.Forget)}, err
}

// AttemptTake is what counting one login attempt writes: the guard bucket
// (the device's when Device is set, else the account's), from what was
// read to what it becomes.
type AttemptTake struct {
	Email, Device   string // Device: the device token's hash
	GuardWas, Guard Bucket
	GuardForget     time.Time // when the bucket, left alone, starts over
}

// LoginCompletion is what a successful login writes at once: the session
// of the new refresh token, the device token handed out (which replaces
// the presented one, if any), and, without a presented device, the
// account's bucket cleared (it was the guard).
type LoginCompletion struct {
	Refresh   RefreshToken
	Epoch     int64
	Email     string
	NewDevice DeviceToken
	OldDevice string // hash of the presented device token; "" for none
}
