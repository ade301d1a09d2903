package api

import (
	"net/http"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/web"
)

// registeredJSON is the answer to a registration: the profile but for
// updatedAt.
type registeredJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"emailVerified"`
	CreatedAt     time.Time `json:"createdAt"`
}

type profileJSON struct {
	registeredJSON
	UpdatedAt time.Time `json:"updatedAt"`
}

func registered(u account.User) registeredJSON {
	return registeredJSON{ID: u.ID, Email: u.Email, Name: account.ShownName(u.Name), EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC()}
}

// profile answers the caller's profile, unless err.
func profile(w http.ResponseWriter, u account.User, err error) error {
	return answer(w, http.StatusOK, profileJSON{registered(u), u.UpdatedAt.UTC()}, err)
}

type tokenPairJSON struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	DeviceToken  string `json:"deviceToken,omitempty"` // from a login only
}

// tokenPair answers p, unless err.
func tokenPair(w http.ResponseWriter, p app.TokenPair, err error) error {
	return answer(w, http.StatusOK, tokenPairJSON{
		AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "Bearer", ExpiresIn: int(p.ExpiresIn.Seconds()),
		DeviceToken: p.DeviceToken,
	}, err)
}

func (a *API) health(w http.ResponseWriter, _ *http.Request) error {
	return web.JSON(w, http.StatusOK, map[string]string{"status": "ok", "version": a.Version})
}

func (a *API) jwks(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(a.JWKS) // a client gone away is no error of the handler's
	return nil
}

// answer is the JSON answer v with status, unless the use case failed
// with err.
func answer(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return web.JSON(w, status, v)
}

// noContent is the answer of a use case that has nothing to say, unless
// it failed with err.
func noContent(w http.ResponseWriter, err error) error {
	if err == nil {
		w.WriteHeader(http.StatusNoContent)
	}
	return err
}

func (a *API) register(w http.ResponseWriter, r *http.Request, in app.RegisterCommand) error {
	u, err := a.Service.Register(r.Context(), in)
	return answer(w, http.StatusCreated, registered(u), err)
}

func (a *API) login(w http.ResponseWriter, r *http.Request, in app.LoginCommand) error {
	in.Source = web.SourceIP(r)
	pair, err := a.Service.Login(r.Context(), in)
	return tokenPair(w, pair, err)
}

// refreshBody is the body of refresh and logout.
type refreshBody struct {
	RefreshToken string `json:"refreshToken"`
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request, in refreshBody) error {
	pair, err := a.Service.Refresh(r.Context(), in.RefreshToken)
	return tokenPair(w, pair, err)
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, in refreshBody) error {
	return noContent(w, a.Service.Logout(r.Context(), web.Caller(r).UserID, in.RefreshToken))
}
