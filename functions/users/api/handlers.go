package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/password"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/token"
)

type profileJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func profile(u account.User) profileJSON {
	return profileJSON{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

type tokenPairJSON struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
}

func (a *API) health(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok", "version": a.Version})
}

func (a *API) jwks(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	resp := &httpapi.Response{Status: http.StatusOK, Body: a.JWKS}
	return resp.Set("Content-Type", "application/jwk-set+json").Set("Cache-Control", "public, max-age=300"), nil
}

func (a *API) register(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, err := account.NewRegistration(in.Email, in.Password, in.Name)
	if err != nil {
		return nil, problemFor(err)
	}
	hash, err := password.Hash(reg.Password, a.Hashing)
	if err != nil {
		return nil, err
	}
	now := a.Now().UTC().Truncate(time.Millisecond)
	u := account.User{ID: a.NewID(), Email: reg.Email, Name: reg.Name, CreatedAt: now, UpdatedAt: now}
	if err := a.Store.CreateUser(ctx, u, hash); err != nil {
		return nil, problemFor(err)
	}
	a.Metrics.Add(MetricRegistered, 1)
	r.Log.InfoContext(ctx, "user registered", slog.String(logging.KeyUserID, u.ID))
	return httpapi.JSON(http.StatusCreated, struct {
		ID        string    `json:"id"`
		Email     string    `json:"email"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"createdAt"`
	}{u.ID, u.Email, u.Name, u.CreatedAt})
}

var errBadCredentials = problem.New(problem.Unauthenticated, "The email or password is incorrect.").WithSlug("invalid-credentials")

func (a *API) login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	email := account.NormalizeEmail(in.Email)
	var bad []problem.FieldError
	if email == "" {
		bad = append(bad, problem.FieldError{Field: "email", Message: "must be a valid email address"})
	}
	// Bounded before hashing: argon2id's cost grows with the input.
	if in.Password == "" || len(in.Password) > 4*account.MaxPasswordLength {
		bad = append(bad, problem.FieldError{Field: "password", Message: "is required (at most 128 characters)"})
	}
	if len(bad) > 0 {
		return nil, problem.Validation(bad...)
	}
	now := a.Now()
	st, err := a.Store.LoginState(ctx, email, now)
	if err != nil {
		return nil, err
	}
	if st.Failures >= a.LoginLimit.Failures {
		a.Metrics.Add(MetricLoginLocked, 1)
		return nil, tooManyAttempts(st.WindowEnds.Sub(now))
	}
	// Unknown emails verify against a dummy hash, so both failures cost the
	// same time and give the same answer.
	hash := password.DummyHash
	if st.Found {
		hash = st.Credentials.PasswordHash
	}
	ok, err := password.Verify(hash, in.Password)
	if err != nil {
		return nil, err
	}
	if !ok || !st.Found {
		if err := a.Store.RecordLoginFailure(ctx, email, now, a.LoginLimit.Window); err != nil {
			return nil, err
		}
		a.Metrics.Add(MetricLoginFailure, 1)
		r.Log.WarnContext(ctx, "login failed", slog.Int("failuresInWindow", st.Failures+1))
		return nil, errBadCredentials
	}
	u := st.Credentials
	if st.Failures > 0 {
		if err := a.Store.ClearLoginFailures(ctx, email); err != nil {
			return nil, err
		}
	}
	a.upgradeHash(ctx, r, u, in.Password)
	refresh, err := account.NewRefreshToken(u.ID)
	if err != nil {
		return nil, err
	}
	resp, err := a.tokenPair(ctx, u.User, refresh)
	if err != nil {
		return nil, err
	}
	if err := a.Store.CreateSession(ctx, refresh, u.SessionEpoch, now); err != nil {
		return nil, err
	}
	a.Metrics.Add(MetricLoginSuccess, 1)
	r.Log.InfoContext(ctx, "login succeeded", slog.String(logging.KeyUserID, u.ID))
	return resp, nil
}

// upgradeHash rehashes a just-verified password whose hash uses outdated
// parameters. A failure only postpones the upgrade to the next login.
func (a *API) upgradeHash(ctx context.Context, r *httpapi.Request, u account.Credentials, plain string) {
	if !password.NeedsRehash(u.PasswordHash, a.Hashing) {
		return
	}
	hash, err := password.Hash(plain, a.Hashing)
	if err == nil {
		err = a.Store.RehashPassword(ctx, u.ID, u.PasswordHash, hash)
	}
	if err != nil && !errors.Is(err, account.ErrStaleWrite) {
		r.Log.WarnContext(ctx, "password rehash failed", slog.String(logging.KeyError, err.Error()))
	}
}

func tooManyAttempts(wait time.Duration) error {
	e := problem.New(problem.TooManyRequests, "Too many failed attempts for this account. Try again later.").WithSlug("too-many-attempts")
	e.RetryAfter = max(wait, time.Second)
	return e
}

// tokenPair signs an access token for u and returns it with refresh.
func (a *API) tokenPair(ctx context.Context, u account.User, refresh account.RefreshToken) (*httpapi.Response, error) {
	access, _, err := a.Issuer.Issue(ctx, token.Subject{UserID: u.ID, Email: u.Email, Name: u.Name})
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, tokenPairJSON{
		AccessToken: access, RefreshToken: refresh.Raw, TokenType: "Bearer", ExpiresIn: int(a.Issuer.TTL().Seconds()),
	})
}

func (a *API) refresh(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	presented, err := account.ParseRefreshToken(in.RefreshToken)
	if err != nil {
		return nil, problemFor(err)
	}
	now := a.Now()
	sess, user, err := a.Store.Session(ctx, presented)
	if err == nil {
		err = sess.Check(presented, user.SessionEpoch, now)
	}
	if err != nil {
		return nil, a.refusePresented(ctx, r, presented, err)
	}
	next, err := account.Rotate(presented)
	if err != nil {
		return nil, err
	}
	// Sign before rotating: if signing fails, the presented token stays good.
	resp, err := a.tokenPair(ctx, user.User, next)
	if err != nil {
		return nil, err
	}
	if err := a.Store.RotateSession(ctx, presented, next, user.SessionEpoch, now); err != nil {
		return nil, a.refusePresented(ctx, r, presented, err)
	}
	return resp, nil
}

// refusePresented answers a refresh that failed with err. A spent token
// presented again means it leaked or the client is confused; either way the
// whole family is revoked (RFC 9700, section 4.14.2).
func (a *API) refusePresented(ctx context.Context, r *httpapi.Request, t account.RefreshToken, err error) error {
	if errors.Is(err, account.ErrTokenReused) {
		a.Metrics.Add(MetricTokenReuse, 1)
		r.Log.WarnContext(ctx, "refresh token reuse detected; revoking its family",
			slog.String(logging.KeyUserID, t.UserID), slog.String("familyId", t.FamilyID))
		if rerr := a.Store.RevokeSession(ctx, t.UserID, t.FamilyID); rerr != nil && !errors.Is(rerr, account.ErrSessionInvalid) {
			return rerr
		}
	}
	return problemFor(err)
}

func (a *API) logout(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	t, err := account.ParseRefreshToken(in.RefreshToken)
	if err == nil && t.UserID != r.Caller().UserID {
		err = account.ErrSessionInvalid // someone else's token: not yours to revoke
	}
	if err == nil {
		err = a.Store.RevokeSession(ctx, t.UserID, t.FamilyID)
	}
	if err != nil {
		return nil, problemFor(err)
	}
	r.Log.InfoContext(ctx, "logged out", slog.String("familyId", t.FamilyID))
	return httpapi.NoContent(), nil
}

func (a *API) me(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	u, err := a.Store.User(ctx, r.Caller().UserID)
	if err != nil {
		return nil, problemFor(err)
	}
	return httpapi.JSON(http.StatusOK, profile(u.User))
}
