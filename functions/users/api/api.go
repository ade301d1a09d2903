// Package api is the users service's HTTP API: registration, login, token
// refresh and logout, the JWKS, and the caller's profile and password.
package api

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/token"
)

// Store is the persistence the API needs; *store.Store implements it.
type Store interface {
	CreateUser(ctx context.Context, u account.User, passwordHash string) error
	User(ctx context.Context, id string) (account.Credentials, error)
	UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error)
	ChangePassword(ctx context.Context, id, oldHash, newHash string, now time.Time) error
	RehashPassword(ctx context.Context, id, oldHash, newHash string) error
	LoginState(ctx context.Context, email string, now time.Time) (store.LoginState, error)
	LoginFailures(ctx context.Context, email string, now time.Time) (int, time.Time, error)
	RecordLoginFailure(ctx context.Context, email string, now time.Time, window time.Duration) error
	ClearLoginFailures(ctx context.Context, email string) error
	CreateSession(ctx context.Context, t account.RefreshToken, epoch int64, now time.Time) error
	Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error)
	RotateSession(ctx context.Context, presented, next account.RefreshToken, epoch int64, now time.Time) error
	RevokeSession(ctx context.Context, userID, familyID string) error
}

var _ Store = (*store.Store)(nil)

// LoginLimit bounds failed password checks per account: after Failures
// failures within Window, further attempts get 429 until the window ends.
type LoginLimit struct {
	Failures int
	Window   time.Duration
}

// DefaultLoginLimit allows five failures per fifteen minutes.
var DefaultLoginLimit = LoginLimit{Failures: 5, Window: 15 * time.Minute}

// Config wires the API.
type Config struct {
	Store      Store
	Issuer     *token.Issuer
	Verifier   httpapi.TokenVerifier // checks the access tokens of protected routes
	JWKS       []byte                // the public signing keys, rendered once at cold start
	Hashing    password.Params
	LoginLimit LoginLimit
	Version    string
	Metrics    *metrics.Recorder // optional
	NewID      func() string
	Now        func() time.Time
}

// Metric names of the users service.
const (
	MetricRegistered    = "UsersRegistered"
	MetricLoginSuccess  = "LoginsSucceeded"
	MetricLoginFailure  = "LoginsFailed"
	MetricLoginLocked   = "LoginsLocked"
	MetricTokenReuse    = "RefreshTokenReuse"
	MetricPasswordReset = "PasswordsChanged"
)

// API serves the users routes.
type API struct{ Config }

// New returns the API; zero fields of cfg get their defaults.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LoginLimit.Failures == 0 {
		cfg.LoginLimit = DefaultLoginLimit
	}
	if cfg.Hashing.KeyLen == 0 {
		cfg.Hashing = password.Default
	}
	return &API{cfg}
}

// Routes registers the API's routes on r.
func (a *API) Routes(r *httpapi.Router) {
	r.Public("GET /v1/health", a.health)
	r.Public("GET /.well-known/jwks.json", a.jwks)
	r.Public("POST /v1/auth/register", a.register)
	r.Public("POST /v1/auth/login", a.login)
	r.Public("POST /v1/auth/refresh", a.refresh)
	r.Protected("POST /v1/auth/logout", a.logout)
	r.Protected("GET /v1/users/me", a.me)
	r.Protected("PATCH /v1/users/me", a.updateMe)
	r.Protected("POST /v1/users/me/password", a.changePassword)
}

// NewHandler returns the Lambda handler serving the API.
func NewHandler(log *slog.Logger, cfg Config) *httpapi.Router {
	r := httpapi.NewRouter(log, cfg.Verifier).WithMetrics(cfg.Metrics)
	New(cfg).Routes(r)
	return r
}

// problemFor maps the users domain's errors to client-facing problems. It is
// the only place where that mapping happens.
func problemFor(err error) error {
	var invalid account.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &invalid):
		fields := make([]problem.FieldError, len(invalid))
		for i, f := range invalid {
			fields[i] = problem.FieldError{Field: f.Field, Message: f.Message}
		}
		return problem.Validation(fields...)
	case errors.Is(err, account.ErrEmailTaken):
		return problem.New(problem.Conflict, "An account with this email already exists.").WithSlug("email-taken")
	case errors.Is(err, account.ErrNotFound):
		return problem.New(problem.NotFound, "The user does not exist.")
	case errors.Is(err, account.ErrSessionInvalid), errors.Is(err, account.ErrTokenReused):
		return problem.New(problem.Unauthenticated, "The refresh token is invalid, expired or revoked.").WithSlug("invalid-refresh-token").WithCause(err)
	case errors.Is(err, account.ErrStaleWrite):
		return problem.New(problem.Conflict, "The account changed while the request was processed; retry it.")
	default:
		return err
	}
}
