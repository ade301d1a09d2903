package api_test

import (
	"net/http"
	"testing"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/shared/events"
)

// lastLink is the token of the newest link queued for mailing, read as the
// notification service would.
func (f *fixture) lastLink() string {
	f.t.Helper()
	out := f.mem.Outbox()
	if len(out) == 0 {
		f.t.Fatal("no link was queued")
	}
	return apptest.Token(f.t, out[len(out)-1])
}

func TestVerifyEmailRoute(t *testing.T) {
	f := newFixture(t)
	_, ada := f.ada()
	token := f.lastLink()
	f.remember(token)
	// The client that proved the mailbox gets a device token of the account.
	m := f.do("POST /v1/auth/verify-email", nil, jsonBody(t, map[string]string{"token": token})).object(t, http.StatusOK)
	device, _ := m["deviceToken"].(string)
	if _, ok := account.ParseDeviceToken(device); !ok || len(m) != 1 {
		t.Fatalf("verify answered %v, want only a device token", m)
	}
	f.remember(device)
	if m := f.do("GET /v1/users/me", ada, "").object(t, http.StatusOK); m["emailVerified"] != true {
		t.Fatalf("profile after verifying: %v", m)
	}
	p := f.do("POST /v1/auth/verify-email", nil, jsonBody(t, map[string]string{"token": token})).problem(t, http.StatusBadRequest, "invalid-token")
	if p.Detail == "" {
		t.Error("invalid-token without a detail")
	}
	for name, body := range map[string]string{
		"unknown field": `{"token":"x","user":"y"}`,
		"not a string":  `{"token":7}`,
		"no token":      `{}`,
	} {
		r := f.do("POST /v1/auth/verify-email", nil, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", name, r.status, r.body)
		}
	}
}

func TestCancelRegistrationRoute(t *testing.T) {
	f := newFixture(t)
	f.ada()
	token := f.lastLink()
	f.remember(token)
	for name, body := range map[string]string{
		"unknown field": `{"token":"` + token + `","email":"ada@example.com"}`,
		"not a string":  `{"token":7}`,
		"no token":      `{}`,
		"garbage":       `{"token":"ev1.nope"}`,
	} {
		if r := f.do("POST /v1/auth/cancel-registration", nil, body); r.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", name, r.status, r.body)
		}
	}
	r := f.do("POST /v1/auth/cancel-registration", nil, jsonBody(t, map[string]string{"token": token}))
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	f.do("POST /v1/auth/cancel-registration", nil, jsonBody(t, map[string]string{"token": token})).problem(t, http.StatusBadRequest, "invalid-token")
	f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusUnauthorized, "invalid-credentials")
	// The address is free.
	f.do("POST /v1/auth/register", nil, `{"email":"ada@example.com","password":"another long passphrase","name":"Ada"}`).object(t, http.StatusCreated)
}

// TestAccountMailRoutesPaused: while account mail is paused the routes that
// mail an account email answer 503 account-mail-paused with Retry-After,
// before they count the request against its address.
func TestAccountMailRoutesPaused(t *testing.T) {
	f := newFixture(t)
	_, ada := f.ada()
	f.svc.AccountMailPaused = true
	for route, body := range map[string]string{
		"POST /v1/auth/register":            `{"email":"grace@example.com","password":"a long enough password","name":"Grace"}`,
		"POST /v1/auth/password-reset":      `{"email":"ada@example.com"}`,
		"POST /v1/auth/verify-email/resend": ``,
	} {
		r := f.do(route, ada, body)
		r.problem(t, http.StatusServiceUnavailable, "account-mail-paused")
		if got := r.headers["Retry-After"]; got != "3600" {
			t.Errorf("%s: Retry-After %q, want 3600", route, got)
		}
	}
	// Past the cap of the hour: 503 account-mail-limit.
	f.svc.AccountMailPaused = false
	f.svc.AccountMailPerHour = 1 // the registration of Ada spent it
	r := f.do("POST /v1/auth/register", nil, `{"email":"grace@example.com","password":"a long enough password","name":"Grace"}`)
	r.problem(t, http.StatusServiceUnavailable, "account-mail-limit")
	if r.headers["Retry-After"] == "" {
		t.Error("account-mail-limit without Retry-After")
	}
}

func TestResendVerificationRoute(t *testing.T) {
	f := newFixture(t)
	_, ada := f.ada()
	f.send(event("POST /v1/auth/verify-email/resend", "", "")).problem(t, http.StatusUnauthorized, "invalid-token")
	for range 5 {
		if m := f.do("POST /v1/auth/verify-email/resend", ada, "").object(t, http.StatusAccepted); m["status"] != "accepted" {
			t.Fatalf("resend answer %v", m)
		}
	}
	r := f.do("POST /v1/auth/verify-email/resend", ada, "")
	r.problem(t, http.StatusTooManyRequests, "too-many-requests")
	if r.headers["Retry-After"] == "" {
		t.Error("429 without Retry-After")
	}
	if n := len(f.mem.Outbox()); n != 6 {
		t.Errorf("%d emails queued, want 6 (registration and 5 resends)", n)
	}
}

func TestPasswordResetRoutes(t *testing.T) {
	f := newFixture(t)
	f.ada()
	known := f.do("POST /v1/auth/password-reset", nil, `{"email":"ada@example.com"}`)
	unknown := f.do("POST /v1/auth/password-reset", nil, `{"email":"nobody@example.com"}`)
	known.object(t, http.StatusAccepted)
	if unknown.status != known.status || string(unknown.body) != string(known.body) {
		t.Fatalf("answers differ: %d %s vs %d %s", known.status, known.body, unknown.status, unknown.body)
	}
	if ev := f.mem.Outbox(); ev[len(ev)-1].Type != events.AccountPasswordResetRequested {
		t.Fatalf("queued %+v, want the reset email last", ev[len(ev)-1])
	}
	token := f.lastLink()
	f.remember(token)
	f.do("POST /v1/auth/password-reset", nil, `{"email":"not an email"}`).problem(t, http.StatusBadRequest, "validation")

	weak := f.do("POST /v1/auth/password-reset/confirm", nil, jsonBody(t, map[string]string{"token": token, "newPassword": "short"})).problem(t, http.StatusBadRequest, "validation")
	if got := weak.fields(); len(got) != 1 || got[0] != "newPassword" {
		t.Fatalf("weak password fields %v", got)
	}
	const fresh = "a completely new passphrase"
	f.remember(fresh)
	m := f.do("POST /v1/auth/password-reset/confirm", nil, jsonBody(t, map[string]string{"token": token, "newPassword": fresh})).object(t, http.StatusOK)
	device, _ := m["deviceToken"].(string)
	if _, ok := account.ParseDeviceToken(device); !ok || len(m) != 1 {
		t.Fatalf("confirm answered %v, want only a device token", m)
	}
	f.remember(device)
	f.do("POST /v1/auth/password-reset/confirm", nil, jsonBody(t, map[string]string{"token": token, "newPassword": fresh})).problem(t, http.StatusBadRequest, "invalid-token")
	f.loginResponse(apptest.AdaEmail, apptest.AdaPassword).problem(t, http.StatusUnauthorized, "invalid-credentials")
	f.login(apptest.AdaEmail, fresh)
}
