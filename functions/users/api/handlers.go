package api

import (
	"net/http"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/web"
)

// userJSON is the caller's profile, and without updatedAt the answer to a
// registration.
type userJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"emailVerified"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt,omitzero"` // every stored user has one
}

// user answers u, unless err.
func user(w http.ResponseWriter, status int, u account.User, err error) error {
	return answer(w, status, userJSON{ID: u.ID, Email: u.Email, Name: account.ShownName(u.Name), EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}, err)
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
	u.UpdatedAt = time.Time{} // not in a registration's answer
	return user(w, http.StatusCreated, u, err)
}

func (a *API) login(w http.ResponseWriter, r *http.Request, in app.LoginCommand) error {
	in.Source = r.RemoteAddr // API Gateway's source IP (web.Request)
	pair, err := a.Service.Login(r.Context(), in)
	return answer(w, http.StatusOK, pair, err)
}

// refreshBody is the body of refresh and logout.
type refreshBody struct {
	RefreshToken string `json:"refreshToken"`
}

func (a *API) refresh(w http.ResponseWriter, r *http.Request, in refreshBody) error {
	pair, err := a.Service.Refresh(r.Context(), in.RefreshToken)
	return answer(w, http.StatusOK, pair, err)
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, in refreshBody) error {
	return noContent(w, a.Service.Logout(r.Context(), web.Caller(r).UserID, in.RefreshToken))
}
