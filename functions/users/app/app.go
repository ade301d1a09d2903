// Package app is the users service's application layer: one method of
// Service per use case (register, verify the email, log in, refresh, log
// out, read and rename the profile, change or reset the password). It joins the domain (account,
// password) to the stores and the token issuer, and counts and logs what
// happened. It knows nothing of HTTP: handlers decode a request, call one
// use case and render its result or its error.
package app

import (
	"cmp"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/token"
)

// Metric names of the users service.
const (
	MetricRegistered      = "UsersRegistered"
	MetricLoginSuccess    = "LoginsSucceeded"
	MetricLoginFailure    = "LoginsFailed"
	MetricLoginThrottled  = "LoginsThrottled"
	MetricRequestsLimited = "RequestsLimited"
	MetricTokenReuse      = "RefreshTokenReuse"
	MetricPasswordChanged = "PasswordsChanged"
	MetricEmailVerified   = "EmailsVerified"
	MetricLinksIssued     = "LinksIssued"
	MetricLinksLimited    = "LinkRequestsLimited"
	MetricPasswordsReset  = "PasswordsReset"
	MetricLinksRefused    = "LinkTokensRefused"
	// MetricRegistrationsCancelled counts registrations undone through
	// the verification email's cancel link: each is an address someone
	// registered without owning it.
	MetricRegistrationsCancelled = "RegistrationsCancelled"
	// MetricRevocationsLimited counts logouts, password changes and reuse
	// detections past the user's revocations of the hour.
	MetricRevocationsLimited = "RevocationsLimited"
	// MetricRefreshesLimited counts refreshes past a session's hourly limit.
	MetricRefreshesLimited = "RefreshesLimited"
)

// DefaultLinksPerHour is how many verification or reset emails one
// recipient may be sent per hour, beyond the one registration sends.
const DefaultLinksPerHour = 5

// DefaultSourceRequestsPerHour is how many requests one address may send
// per hour to the public routes that cost a password hash, a KMS call or an
// email (register, email verification, password reset and its
// confirmation), all together: enough for 1,000 people behind one address
// (a carrier-grade NAT) each registering, verifying and resetting a
// password in the same hour.
const DefaultSourceRequestsPerHour = 3000

// DefaultSourceRequestsPerSecond is how many requests one address may send
// per second to the same routes and login, all together: ten times what
// 1,000 people behind one address send at a launch's peak (each signing up,
// verifying and logging in within ten minutes).
const DefaultSourceRequestsPerSecond = 10

// DefaultRevocationsPerHour is how many revocations of access tokens
// (logouts, password changes, reuse detections) one user may cause per
// hour. Each writes an entry every verifier of tokens reads, so a user
// must not be able to write them at will; an honest user seldom ends more
// than a couple of sessions an hour. A password reset, the owner's way
// back into an account, is not counted (its emails are limited instead).
const DefaultRevocationsPerHour = 10

// Config wires the service.
type Config struct {
	Store   Store
	Sealer  Sealer        // seals the tokens of mailed links for the notification service
	Issuer  *token.Issuer // signs the access tokens of logins and refreshes
	Hashing password.Params
	// SourceThrottle slows down one address trying many passwords, of any
	// accounts (zero: account.SourceThrottle). The account's and device's
	// throttles are account.AccountThrottle and account.DeviceThrottle.
	SourceThrottle account.Throttle
	// LinksPerHour caps the verification and reset emails per recipient
	// (0: DefaultLinksPerHour).
	LinksPerHour int
	// SourceRequestsPerHour caps the requests one address may send to the
	// costly public routes (0: DefaultSourceRequestsPerHour).
	SourceRequestsPerHour int
	// SourceRequestsPerSecond caps the requests one address may send to
	// them and to login each second (0: DefaultSourceRequestsPerSecond).
	SourceRequestsPerSecond int
	// AccountMailPerHour caps the registration and verification emails of
	// all clients together per clock hour (0: AccountMailPerHour of
	// DefaultSesMax24HourSend).
	AccountMailPerHour int
	// AccountMailPaused refuses registration, verification resends and
	// password reset requests (the account-mail-paused problem): the operators' brake
	// when SES reports too many bounces or complaints.
	AccountMailPaused bool
	Metrics           *metrics.Recorder // optional
	// Log receives the use cases' lines. They are logged with the request's
	// context, so the correlation id stored there is on every line.
	Log   *slog.Logger
	NewID func() string
	Now   func() time.Time
}

// Service runs the users use cases.
type Service struct{ Config }

// New returns the service; zero fields of cfg other than the stores and
// the issuer get their defaults.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.SourceThrottle = cmp.Or(cfg.SourceThrottle, account.SourceThrottle)
	cfg.LinksPerHour = cmp.Or(cfg.LinksPerHour, DefaultLinksPerHour)
	cfg.SourceRequestsPerHour = cmp.Or(cfg.SourceRequestsPerHour, DefaultSourceRequestsPerHour)
	cfg.SourceRequestsPerSecond = cmp.Or(cfg.SourceRequestsPerSecond, DefaultSourceRequestsPerSecond)
	cfg.AccountMailPerHour = cmp.Or(cfg.AccountMailPerHour, AccountMailPerHour(DefaultSesMax24HourSend))
	cfg.Hashing = cmp.Or(cfg.Hashing, password.Default)
	cfg.Log = cmp.Or(cfg.Log, slog.New(slog.DiscardHandler))
	return &Service{cfg}
}

// now is the service's clock, in the millisecond precision stored times keep.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }
