package api

import (
	"context"
	"net/http"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/httpapi"
)

type profileJSON struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"emailVerified"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

func profile(u account.User) profileJSON {
	return profileJSON{ID: u.ID, Email: u.Email, Name: account.ShownName(u.Name), EmailVerified: u.EmailVerified, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
}

type tokenPairJSON struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	DeviceToken  string `json:"deviceToken,omitempty"` // from a login only
}

func tokenPair(p app.TokenPair) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, tokenPairJSON{
		AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "Bearer", ExpiresIn: int(p.ExpiresIn.Seconds()),
		DeviceToken: p.DeviceToken,
	})
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
	u, err := a.Service.Register(ctx, app.RegisterCommand{Email: in.Email, Password: in.Password, Name: in.Name, CorrelationID: r.CorrelationID})
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, struct {
		ID            string    `json:"id"`
		Email         string    `json:"email"`
		Name          string    `json:"name"`
		EmailVerified bool      `json:"emailVerified"`
		CreatedAt     time.Time `json:"createdAt"`
	}{u.ID, u.Email, u.Name, u.EmailVerified, u.CreatedAt})
}

func (a *API) login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Email       string `json:"email"`
		Password    string `json:"password"`
		DeviceToken string `json:"deviceToken"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	pair, err := a.Service.Login(ctx, app.LoginCommand{
		Email: in.Email, Password: in.Password, DeviceToken: in.DeviceToken, Source: r.SourceIP(),
	})
	if err != nil {
		return nil, err
	}
	return tokenPair(pair)
}

func (a *API) refresh(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	pair, err := a.Service.Refresh(ctx, in.RefreshToken)
	if err != nil {
		return nil, err
	}
	return tokenPair(pair)
}

func (a *API) logout(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		RefreshToken string `json:"refreshToken"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := a.Service.Logout(ctx, app.LogoutCommand{UserID: r.Caller().UserID, RefreshToken: in.RefreshToken}); err != nil {
		return nil, err
	}
	return httpapi.NoContent(), nil
}
