package api

import (
	"context"
	"net/http"

	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/httpapi"
)

func (a *API) verifyEmail(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	device, err := a.Service.VerifyEmail(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	return proved(device)
}

// cancelRegistration takes a verification link's token from the reader
// of the email who did not register: the unverified account is deleted.
func (a *API) cancelRegistration(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Token string `json:"token"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := a.Service.CancelRegistration(ctx, in.Token); err != nil {
		return nil, err
	}
	return httpapi.NoContent(), nil
}

func (a *API) resendVerification(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	err := a.Service.ResendVerification(ctx, app.ResendVerificationCommand{UserID: r.Caller().UserID, CorrelationID: r.CorrelationID})
	if err != nil {
		return nil, err
	}
	return accepted()
}

func (a *API) requestPasswordReset(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := a.Service.RequestPasswordReset(ctx, app.PasswordResetCommand{Email: in.Email, CorrelationID: r.CorrelationID}); err != nil {
		return nil, err
	}
	return accepted()
}

func (a *API) resetPassword(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Token       string `json:"token"`
		NewPassword string `json:"newPassword"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	device, err := a.Service.ResetPassword(ctx, app.ResetPasswordCommand{Token: in.Token, NewPassword: in.NewPassword})
	if err != nil {
		return nil, err
	}
	return proved(device)
}

// proved is the answer to a proof of the mailbox: the device token the
// client keeps for its next login on the account.
func proved(deviceToken string) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, map[string]string{"deviceToken": deviceToken})
}

// accepted is the answer to a request for an email: the same body whatever
// happens next, or whether anything does.
func accepted() (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusAccepted, map[string]string{"status": "accepted"})
}
