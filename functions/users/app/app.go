// Package app is the users service's application layer: one method of
// Service per use case (register, verify the email, log in, refresh, log
// out, read and rename the profile, change or reset the password). It joins the domain (account,
// password) to the stores and the token issuer, and counts and logs what
// happened. It knows nothing of HTTP: handlers decode a request, call one
// use case and render its result or its error.
package app

import (
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/token"
)

// Metric names of the users service.
const (
	MetricRegistered      = "UsersRegistered"
	MetricLoginSuccess    = "LoginsSucceeded"
	MetricLoginFailure    = "LoginsFailed"
	MetricLoginLocked     = "LoginsLocked"
	MetricTokenReuse      = "RefreshTokenReuse"
	MetricPasswordChanged = "PasswordsChanged"
	MetricEmailVerified   = "EmailsVerified"
	MetricLinksIssued     = "LinksIssued"
	MetricLinksLimited    = "LinkRequestsLimited"
	MetricPasswordsReset  = "PasswordsReset"
	MetricLinksRefused    = "LinkTokensRefused"
)

// LoginLimit bounds failed password checks per account: after Failures
// failures within Window, further attempts fail with TooManyAttemptsError
// until the window ends.
type LoginLimit struct {
	Failures int
	Window   time.Duration
}

// DefaultLoginLimit allows five failures per fifteen minutes.
var DefaultLoginLimit = LoginLimit{Failures: 5, Window: 15 * time.Minute}

// DefaultLinksPerHour is how many verification or reset emails one
// recipient may be sent per hour, beyond the one registration sends.
const DefaultLinksPerHour = 5

// Config wires the service.
type Config struct {
	Accounts   Accounts
	Sessions   Sessions
	Attempts   LoginAttempts
	Links      Links
	Sealer     Sealer        // seals the tokens of mailed links for the notification service
	Issuer     *token.Issuer // signs the access tokens of logins and refreshes
	Hashing    password.Params
	LoginLimit LoginLimit
	// LinksPerHour caps the verification and reset emails per recipient
	// (0: DefaultLinksPerHour).
	LinksPerHour int
	Metrics      *metrics.Recorder // optional
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
	if cfg.LoginLimit.Failures == 0 {
		cfg.LoginLimit = DefaultLoginLimit
	}
	if cfg.LinksPerHour == 0 {
		cfg.LinksPerHour = DefaultLinksPerHour
	}
	if cfg.Hashing.KeyLen == 0 {
		cfg.Hashing = password.Default
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg}
}

// now is the service's clock, in the millisecond precision stored times keep.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }
