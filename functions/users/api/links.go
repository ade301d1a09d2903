package api

import (
	"net/http"

	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/web"
)

// tokenBody is the body of verify-email and cancel-registration: a
// verification link's token.
type tokenBody struct {
	Token string `json:"token"`
}

func (a *API) verifyEmail(w http.ResponseWriter, r *http.Request, in tokenBody) error {
	device, err := a.Service.VerifyEmail(r.Context(), in.Token)
	if err != nil {
		return err
	}
	return proved(w, device)
}

// cancelRegistration takes a verification link's token from the reader
// of the email who did not register: the unverified account is deleted.
func (a *API) cancelRegistration(w http.ResponseWriter, r *http.Request, in tokenBody) error {
	if err := a.Service.CancelRegistration(r.Context(), in.Token); err != nil {
		return err
	}
	return noContent(w)
}

func (a *API) resendVerification(w http.ResponseWriter, r *http.Request) error {
	err := a.Service.ResendVerification(r.Context(), app.ResendVerificationCommand{UserID: web.Caller(r).UserID, CorrelationID: logging.CorrelationID(r.Context())})
	if err != nil {
		return err
	}
	return accepted(w)
}

type passwordResetBody struct {
	Email string `json:"email"`
}

func (a *API) requestPasswordReset(w http.ResponseWriter, r *http.Request, in passwordResetBody) error {
	if err := a.Service.RequestPasswordReset(r.Context(), app.PasswordResetCommand{Email: in.Email, CorrelationID: logging.CorrelationID(r.Context())}); err != nil {
		return err
	}
	return accepted(w)
}

type resetPasswordBody struct {
	Token       string `json:"token"`
	NewPassword string `json:"newPassword"`
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request, in resetPasswordBody) error {
	device, err := a.Service.ResetPassword(r.Context(), app.ResetPasswordCommand{Token: in.Token, NewPassword: in.NewPassword})
	if err != nil {
		return err
	}
	return proved(w, device)
}

// proved is the answer to a proof of the mailbox: the device token the
// client keeps for its next login on the account.
func proved(w http.ResponseWriter, deviceToken string) error {
	return web.JSON(w, http.StatusOK, map[string]string{"deviceToken": deviceToken})
}

// accepted is the answer to a request for an email: the same body whatever
// happens next, or whether anything does.
func accepted(w http.ResponseWriter) error {
	return web.JSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}
