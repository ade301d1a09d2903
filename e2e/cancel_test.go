//go:build integration

package e2e

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
)

// phishingName is what an attacker registers a victim's address with, to
// have the shop mail it, DKIM-signed, to someone who never registered.
const phishingName = "Your order is on hold: pay at https://evil.example within 24h"

// TestCancelRegistration plays issue 23's attacker: a victim's address
// registered with a name that is a phishing message. The verification
// email carries none of it, and carries a second link with which the
// victim cancels the registration: the account is deleted (the
// registrant can no longer log in or refresh), the address is free, and
// the token is spent. Once an account is verified, nothing cancels it.
func TestCancelRegistration(t *testing.T) {
	t.Parallel()
	victim := uniqueEmail(t, "victim")
	attacker := user{Email: victim, Name: phishingName, Password: "attacker horse battery staple"}
	call(t, "POST", "/v1/auth/register", map[string]string{"email": victim, "password": attacker.Password, "name": phishingName}).Expect(t, 201)
	attacker.login(t)

	mail := awaitMail(t, victim, verificationSubject)
	all := mail.Subject + "\n" + mail.Text + "\n" + mail.HTML
	for _, text := range []string{phishingName, "evil.example", "Your order is on hold", "within 24h"} {
		if strings.Contains(all, text) {
			t.Errorf("the verification email to an unproved address carries the registrant's text %q:\n%s", text, mail.Text)
		}
	}
	verify := linkToken(t, mail, "/verify-email")
	cancel := linkToken(t, mail, "/cancel-registration")
	if cancel != verify {
		t.Errorf("the cancel link's token is not the verification link's")
	}
	if !strings.Contains(mail.Text, "If you did not create an account with this address") {
		t.Errorf("the verification email does not say what the cancel link is for:\n%s", mail.Text)
	}

	call(t, "POST", "/v1/auth/cancel-registration", map[string]string{"token": cancel}).Expect(t, 204)
	call(t, "POST", "/v1/auth/cancel-registration", map[string]string{"token": cancel}).Problem(t, 400, "invalid-token")
	call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": verify}).Problem(t, 400, "invalid-token")
	// The cancelled account cannot log in, with or without its device
	// token, nor refresh its session.
	call(t, "POST", "/v1/auth/login", map[string]string{"email": victim, "password": attacker.Password}).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/login", map[string]string{"email": victim, "password": attacker.Password, "deviceToken": attacker.Device}).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": attacker.Refresh}).Problem(t, 401, "")

	// The address is free: its owner registers it, verifies it, and then
	// the cancel link of the owner's own email no longer works.
	owner := user{Email: victim, Name: "Victim", Password: "owner horse battery staple"}
	var reg struct{ ID string }
	call(t, "POST", "/v1/auth/register", map[string]string{"email": victim, "password": owner.Password, "name": owner.Name}).Expect(t, 201).JSON(t, &reg)
	ownerToken := awaitNewVerification(t, victim, verify)
	call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": ownerToken}).Expect(t, 200)
	call(t, "POST", "/v1/auth/cancel-registration", map[string]string{"token": ownerToken}).Problem(t, 400, "invalid-token")
	owner.login(t)
	var me struct {
		ID            string
		EmailVerified bool
	}
	call(t, "GET", "/v1/users/me", nil, owner.bearer()...).Expect(t, 200).JSON(t, &me)
	if me.ID != reg.ID || !me.EmailVerified {
		t.Fatalf("after the refused cancel the owner's account is %+v, want %s verified", me, reg.ID)
	}
}

// TestCancelRegistrationRefuses: hostile bodies get a 4xx problem and
// cancel nothing; every token the route refuses is refused as verify-email
// refuses it.
func TestCancelRegistrationRefuses(t *testing.T) {
	t.Parallel()
	u := register(t, "cancelno")
	token := linkToken(t, awaitMail(t, u.Email, verificationSubject), "/cancel-registration")
	invalidToken := map[string]any{
		"garbage":         map[string]string{"token": "not-a-token"},
		"empty":           map[string]string{"token": ""},
		"a reset token":   map[string]string{"token": "pr1" + strings.TrimPrefix(token, "ev1")},
		"altered":         map[string]string{"token": token[:len(token)-1] + flip(token[len(token)-1])},
		"another account": map[string]string{"token": "ev1.01ZZZZZZZZZZZZZZZZZZZZZZZZ" + token[len("ev1.")+26:]},
	}
	for name, body := range invalidToken {
		if p := call(t, "POST", "/v1/auth/cancel-registration", body).Problem(t, 400, ""); !strings.HasSuffix(p.Type, "#invalid-token") {
			t.Errorf("%s: problem type %q, want invalid-token", name, p.Type)
		}
	}
	for name, c := range map[string]struct {
		body   any
		status int
	}{
		"a number":        {map[string]any{"token": 42}, 400},
		"no token":        {map[string]any{}, 400},
		"an unknown key":  {map[string]any{"token": token, "email": u.Email}, 400},
		"an array":        {[]string{token}, 400},
		"not JSON":        {"token=" + token, 400},
		"trailing data":   {`{"token":"` + token + `"} {}`, 400},
		"null":            {"null", 400},
		"a huge token":    {map[string]string{"token": strings.Repeat("A", 70000)}, 413},
		"text/plain body": {nil, 415},
	} {
		t.Run(name, func(t *testing.T) { // each from an address of its own (clientAddress)
			var r *apitest.Response
			if c.status == 415 {
				r = call(t, "POST", "/v1/auth/cancel-registration", `{"token":"`+token+`"}`, "Content-Type", "text/plain")
			} else {
				r = call(t, "POST", "/v1/auth/cancel-registration", c.body)
			}
			r.Problem(t, c.status, "")
		})
	}
	// None of that cancelled anything: the token still verifies.
	u.login(t)
	call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": token}).Expect(t, 200)
}
