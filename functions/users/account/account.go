// Package account is the users service's domain: who a user is, what makes
// an email, a name and a password acceptable, and the errors the service's
// store and handlers speak in. It imports nothing from AWS.
package account

import (
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/serverless-shop/backend/shared/mailaddr"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
	"github.com/serverless-shop/backend/shared/token"
)

// Length limits of passwords, in characters (Unicode code points), and of
// emails, in bytes as RFC 5321 counts them. A name's is text.MaxNameLength.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 128
	MaxEmailLength    = 254
)

// Errors of the users domain.
var (
	ErrNotFound       = errors.New("account: not found")
	ErrEmailTaken     = errors.New("account: email already registered")
	ErrStaleWrite     = errors.New("account: changed concurrently")
	ErrSessionInvalid = errors.New("account: refresh token invalid, expired or revoked")
	ErrTokenReused    = errors.New("account: spent refresh token presented again")
	// ErrSessionEnded means the session was revoked already: revoking it
	// again has nothing to do.
	ErrSessionEnded = errors.New("account: session already ended")
)

// User is a registered user. The password hash is held apart, in Credentials,
// so a User can be rendered anywhere without leaking it.
type User struct {
	ID            string
	Email         string // normalised, see NormalizeEmail
	Name          string
	EmailVerified bool // the owner proved they read Email, through a link mailed to it
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Role is token.RoleStaff for staff, "" for a customer: every account
	// is one until an operator makes it staff (cmd/staff), never the API.
	Role string
}

// IsStaff reports whether the account is staff.
func (u User) IsStaff() bool { return u.Role == token.RoleStaff }

// Credentials is what login needs to know about a user.
type Credentials struct {
	User
	PasswordHash string
	SessionEpoch int64 // bumped by a password change, which ends every session
}

// NormalizeEmail trims, NFC-normalises and lower-cases an address so that
// uniqueness and login compare addresses as they look, and writes a domain
// of letters, marks, numbers and hyphens in the one spelling IDNA gives
// all of its spellings (mailaddr.Canonical: "ada@xn--bcher-kva.example"
// and "ada@BÜCHER.example" are both "ada@bücher.example"), so that one
// mailbox cannot hold two accounts. It returns "" for
// anything that is not a bare addr-spec of dot-atoms with a dot in the
// domain ("Name <a@b>", comments, quoted local parts and domain literals
// such as "[192.0.2.1]" are refused), or that holds a space of any kind or
// a character outside text.Clean's allow-list. api/openapi.yaml states the
// same rule as a pattern (internal/contract checks that they agree).
func NormalizeEmail(s string) string {
	s = text.NFC(strings.TrimSpace(s))
	if s == "" || len(s) > MaxEmailLength || !text.Clean(s) || strings.ContainsFunc(s, unicode.IsSpace) {
		return ""
	}
	a, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if err != nil || a.Name != "" || a.Address != s || at < 1 || !strings.Contains(domain, ".") || strings.HasSuffix(s, ".") || strings.HasPrefix(domain, "[") {
		return ""
	}
	// The domain in mailaddr.Canonical's spelling when each of its labels is
	// one CheckNewEmail takes and IDNA maps it, else as it is (which
	// registration then refuses, and no login finds): a domain that
	// CheckNewEmail refuses is never mapped into one it takes.
	domain = strings.ToLower(domain)
	if c, ok := mailaddr.Canonical(domain); ok && domainLabels(domain) {
		domain = c
	}
	return strings.ToLower(s[:at+1]) + domain
}

// Why CheckNewEmail refuses an address, as validation messages.
const (
	EmailLocalPartRule = "must have only ASCII characters before the @: the mail provider cannot deliver to others"
	EmailDomainRule    = "must have a domain of letters, digits and inner hyphens that IDNA can write in ASCII: the mail provider cannot deliver to others"
	// The domain in Punycode is longer than in Unicode.
	EmailASCIILengthRule = "must be at most 254 characters once its domain is written in ASCII (Punycode): the mail provider cannot deliver to longer ones"
)

// CheckNewEmail reports why an address that NormalizeEmail returned cannot
// be registered, or "". A new account's address must be one the shop can
// mail, and SES takes ASCII addresses only (no SMTPUTF8):
//   - the local part (before the last @) must be ASCII, since Punycode is
//     not permitted there;
//   - the domain must be labels of letters, marks and numbers with hyphens
//     only between them and no mark first, as IDNA 2008's labels are, that
//     IDNA's lookup converts to ASCII (mailaddr.Domain; its UTS 46
//     processing alone would also take some symbols, emoji among them).
//
// So mailaddr.ToASCII, which the notification function writes every
// recipient with, converts whatever registration stored; the stored
// address stays in Unicode. Login and password reset do not apply it: an
// account registered before it may have a local part beyond ASCII and must
// still find its account. api/openapi.yaml says the same as EmailInput's
// pattern and x-idna extension (internal/contract checks that they agree).
func CheckNewEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	local, domain := email[:max(at, 0)], email[at+1:]
	if strings.ContainsFunc(local, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return EmailLocalPartRule
	}
	if _, err := mailaddr.Domain(domain); err != nil || !domainLabels(domain) {
		return EmailDomainRule
	}
	if a, err := mailaddr.ToASCII(email); err != nil || len(a) > MaxEmailLength {
		return EmailASCIILengthRule
	}
	return ""
}

// domainLabels reports whether each label of domain is letters, marks,
// numbers and hyphens, with neither a hyphen at either end nor a mark
// first.
func domainLabels(domain string) bool {
	for label := range strings.SplitSeq(domain, ".") {
		first, _ := utf8.DecodeRuneInString(label)
		last, _ := utf8.DecodeLastRuneInString(label)
		if label == "" || first == '-' || last == '-' || unicode.IsMark(first) ||
			strings.ContainsFunc(label, func(r rune) bool { return r != '-' && !unicode.In(r, unicode.L, unicode.M, unicode.N) }) {
			return false
		}
	}
	return true
}

// ShownName is the stored name as the service shows it (the profile, the
// access token's name claim, and so the order emails): the name if it
// passes today's rules (text.Name, as NewName's), or "" when it was stored
// under older ones and does not.
func ShownName(stored string) string {
	name, _ := text.Name(stored)
	return name
}

// NameRule says what a valid name is, for validation messages.
var NameRule = fmt.Sprintf("must be 1 to %d visible characters: letters, marks, digits, punctuation, symbols and spaces", text.MaxNameLength)

// CheckPassword reports what is wrong with a new password, or "".
// Length is the only rule (NIST SP 800-63B): no composition rules.
func CheckPassword(p string) string {
	switch n := utf8.RuneCountInString(p); {
	case !utf8.ValidString(p):
		return "must be valid UTF-8"
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case n > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d characters", MaxPasswordLength)
	}
	return ""
}

// Registration is a validated request to create an account.
type Registration struct {
	Email    string
	Name     string
	Password string
}

// NewRegistration validates and normalises the registration input. The
// email must be one NormalizeEmail takes and CheckNewEmail passes.
func NewRegistration(email, password, name string) (Registration, error) {
	name, ok := text.Name(name)
	r := Registration{Email: NormalizeEmail(email), Name: name, Password: password}
	emailRule := "must be a valid email address"
	if r.Email != "" {
		emailRule = CheckNewEmail(r.Email)
	}
	if err := invalid(problem.FieldError{Field: "email", Message: emailRule}, problem.FieldError{Field: "password", Message: CheckPassword(password)},
		problem.FieldError{Field: "name", Message: unless(ok, NameRule)}); err != nil {
		return Registration{}, err
	}
	return r, nil
}

// invalid is the validation error of the fields that have a message (a
// check's, "" when the field passed it), nil when none has one.
func invalid(fields ...problem.FieldError) error {
	fields = slices.DeleteFunc(fields, func(f problem.FieldError) bool { return f.Message == "" })
	if len(fields) == 0 {
		return nil
	}
	return problem.Validation(fields...)
}

// unless is the message msg of a check that passes when ok: "" when ok.
func unless(ok bool, msg string) string {
	if ok {
		return ""
	}
	return msg
}

// Limit caps how often something may happen for one key: at most Max times
// in each fixed Window.
type Limit struct {
	Key    string
	Max    int
	Window time.Duration
}

// Limited is the error of a reached Limit: too many requests, until its
// window ends after retryAfter (at least a second). The use case that
// counted it says what was limited (its problem's detail).
func Limited(retryAfter time.Duration) error {
	return &problem.Error{Kind: problem.TooManyRequests, RetryAfter: max(retryAfter, time.Second)}
}
