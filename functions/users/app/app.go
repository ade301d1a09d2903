// Package app is the users service's application layer: one method of
// Service per use case (register, log in, refresh, log out, read and rename
// the profile, change the password). It joins the domain (account,
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
	MetricRegistered    = "UsersRegistered"
	MetricLoginSuccess  = "LoginsSucceeded"
	MetricLoginFailure  = "LoginsFailed"
	MetricLoginLocked   = "LoginsLocked"
	MetricTokenReuse    = "RefreshTokenReuse"
	MetricPasswordReset = "PasswordsChanged"
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

// Config wires the service.
type Config struct {
	Accounts   Accounts
	Sessions   Sessions
	Attempts   LoginAttempts
	Issuer     *token.Issuer // signs the access tokens of logins and refreshes
	Hashing    password.Params
	LoginLimit LoginLimit
	Metrics    *metrics.Recorder // optional
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
	if cfg.Hashing.KeyLen == 0 {
		cfg.Hashing = password.Default
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg}
}
