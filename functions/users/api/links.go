package api

import (
	"net/http"

	"github.com/serverless-shop/backend/shared/web"
)

// tokenBody is the body of verify-email and cancel-registration: a
// verification link's token.
type tokenBody struct {
	Token string `json:"token"`
}

func (a *API) verifyEmail(w http.ResponseWriter, r *http.Request, in tokenBody) error {
	device, err := a.Service.VerifyEmail(r.Context(), in.Token)
	return proved(w, device, err)
}

// cancelRegistration takes a verification link's token from the reader
// of the email who did not register: the unverified account is deleted.
func (a *API) cancelRegistration(w http.ResponseWriter, r *http.Request, in tokenBody) error {
	return noContent(w, a.Service.CancelRegistration(r.Context(), in.Token))
}

func (a *API) resendVerification(w http.ResponseWriter, r *http.Request) error {
	return accepted(w, a.Service.ResendVerification(r.Context(), web.Caller(r).UserID))
}

type passwordResetBody struct {
	Email string `json:"email"`
}

func (a *API) requestPasswordReset(w http.ResponseWriter, r *http.Request, in passwordResetBody) error {
	return accepted(w, a.Service.RequestPasswordReset(r.Context(), in.Email))
}

type resetPasswordBody struct {
	Token       string `json:"token"`
	NewPassword string `json:"newPassword"`
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request, in resetPasswordBody) error {
	device, err := a.Service.ResetPassword(r.Context(), in.Token, in.NewPassword)
	return proved(w, device, err)
}

// proved is the answer to a proof of the mailbox, unless err: the device
// token the client keeps for its next login on the account.
func proved(w http.ResponseWriter, deviceToken string, err error) error {
	return answer(w, http.StatusOK, map[string]string{"deviceToken": deviceToken}, err)
}

// accepted is the answer to a request for an email, unless err: the same
// body whatever happens next, or whether anything does.
func accepted(w http.ResponseWriter, err error) error {
	return answer(w, http.StatusAccepted, map[string]string{"status": "accepted"}, err)
}
