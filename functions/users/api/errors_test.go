package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/revocation"
)

// TestProblemDetails pins what each error of the users domain tells the
// client: the status, the problem type and the detail.
func TestProblemDetails(t *testing.T) {
	tests := []struct {
		name   string
		req    func(f *fixture) response
		status int
		slug   string
		detail string
	}{
		{"validation", func(f *fixture) response {
			return f.do("POST /v1/auth/register", nil, `{}`)
		}, http.StatusBadRequest, "validation", "The request has invalid fields."},
		{"email taken", func(f *fixture) response {
			f.ada()
			return f.do("POST /v1/auth/register", nil, jsonBody(f.t, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword, "name": "Twin"}))
		}, http.StatusConflict, "email-taken", "An account with this email already exists."},
		{"unknown user", func(f *fixture) response {
			return f.do("GET /v1/users/me", caller("01HZX3YQ7A8B9C0D1E2F3G4H5J", "gone@example.com", "Gone"), "")
		}, http.StatusNotFound, "not-found", "The user does not exist."},
		{"invalid refresh token", func(f *fixture) response {
			return f.refreshResponse("garbage")
		}, http.StatusUnauthorized, "invalid-refresh-token", "The refresh token is invalid, expired or revoked."},
		{"reused refresh token", func(f *fixture) response {
			f.ada()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			f.pair(f.refreshResponse(login.RefreshToken))
			return f.refreshResponse(login.RefreshToken)
		}, http.StatusUnauthorized, "invalid-refresh-token", "The refresh token is invalid, expired or revoked."},
		{"stale write", func(f *fixture) response {
			_, ada := f.ada()
			f.store.ChangePasswordFn = func(context.Context, account.Credentials, string, time.Time, revocation.Entry, account.Limit) error {
				return account.ErrStaleWrite
			}
			return f.do("POST /v1/users/me/password", ada, changePasswordBody(f.t, apptest.AdaPassword, "a brand new passphrase"))
		}, http.StatusConflict, "conflict", "The account changed while the request was processed; retry it."},
		{"bad credentials", func(f *fixture) response {
			f.ada()
			return f.loginResponse(apptest.AdaEmail, "not the right password")
		}, http.StatusUnauthorized, "invalid-credentials", "The email or password is incorrect."},
		{"wrong current password", func(f *fixture) response {
			_, ada := f.ada()
			return f.do("POST /v1/users/me/password", ada, changePasswordBody(f.t, "not my password", "a brand new passphrase"))
		}, http.StatusUnauthorized, "invalid-credentials", "The current password is incorrect."},
		{"too many attempts", func(f *fixture) response {
			f.ada()
			for range account.AccountThrottle.Free + 1 {
				f.loginResponse(apptest.AdaEmail, "not the right password")
			}
			return f.loginResponse(apptest.AdaEmail, apptest.AdaPassword)
		}, http.StatusTooManyRequests, "too-many-attempts", "Too many password attempts. Wait for the time Retry-After gives, or log in from a device that logged in before."},
		{"too many logouts", func(f *fixture) response {
			_, ada := f.ada()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			f.store.RevokeSessionFn = func(context.Context, string, string, *revocation.Entry, account.Limit) error {
				return account.LimitedError{RetryAfter: time.Minute}
			}
			return f.do("POST /v1/auth/logout", ada, `{"refreshToken":"`+login.RefreshToken+`"}`)
		}, http.StatusTooManyRequests, "too-many-requests", "Too many logouts and password changes for this account this hour. Try again after the time Retry-After gives."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := tt.req(f).problem(t, tt.status, tt.slug)
			if p.Detail != tt.detail {
				t.Errorf("detail %q, want %q", p.Detail, tt.detail)
			}
		})
	}
}
