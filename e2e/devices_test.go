//go:build integration

package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
)

// Account takeover paths a careful attacker had, as a client can show
// them closed: device identities from the mailbox, device tokens that are
// spent and revoked, reset links a password change ends, and reuse
// detection only for tokens of the session. Every client plays from an
// address of its own (the owner from the test's, the attacker from
// another).

// attacker is a client of its own address guessing passwords.
type attacker struct{ address string }

func newAttacker() attacker { return attacker{address: newAddress()} }

// login sends a login from the attacker's address.
func (a attacker) login(t *testing.T, email, password string) *apitest.Response {
	t.Helper()
	return call(t, "POST", "/v1/auth/login", map[string]string{"email": email, "password": password}, "X-Forwarded-For", a.address)
}

// throttle guesses until the account has to wait (429) long enough for
// the test's next calls to meet the wait on a busy machine: past the free
// attempts each counted guess doubles the wait (1 s, 2 s, 4 s, 8 s), so
// after each wait too short it guesses again, until a 429 asks for at
// least minWait. A wait of a second would end under the test's feet.
func (a attacker) throttle(t *testing.T, email string) {
	t.Helper()
	const minWait = 5 // seconds
	for {
		r := a.login(t, email, "a guess of the attacker")
		if r.StatusCode != 429 {
			r.Problem(t, 401, "")
			continue
		}
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil {
			t.Fatalf("429 with Retry-After %q", r.Header.Get("Retry-After"))
		}
		if secs >= minWait {
			return
		}
		time.Sleep(time.Duration(secs) * time.Second)
	}
}

// deviceOf reads the device token of a proof of the mailbox (200).
func deviceOf(t *testing.T, r *apitest.Response) string {
	t.Helper()
	var body tokenPair
	r.Expect(t, 200).JSON(t, &body)
	if !strings.HasPrefix(body.DeviceToken, "dv1.") {
		t.Fatalf("%s answered %s, want a device token", r.Request.URL.Path, r.Body)
	}
	return body.DeviceToken
}

// loginWith logs u in from the test's address with device (none for "")
// and returns the answer.
func loginWith(t *testing.T, u user, device string) *apitest.Response {
	t.Helper()
	body := map[string]string{"email": u.Email, "password": u.Password}
	if device != "" {
		body["deviceToken"] = device
	}
	return call(t, "POST", "/v1/auth/login", body)
}

// resetPassword has u's owner ask for a reset link, read it from the
// mailbox and set password with it; it returns the device token the
// confirmation hands out.
func resetPassword(t *testing.T, u *user, password string) string {
	t.Helper()
	call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": u.Email}).Expect(t, 202)
	tok := linkToken(t, awaitMail(t, u.Email, resetSubject), "/reset-password")
	device := deviceOf(t, call(t, "POST", "/v1/auth/password-reset/confirm", map[string]string{"token": tok, "newPassword": password}))
	u.Password = password
	return device
}

// TestMailboxProofLetsTheOwnerInDuringAnAttack: an attacker keeps the
// account's login bucket throttled; the owner, on a device without a
// device token, proves the mailbox (a confirmed reset, or the
// verification of a new account), gets a device token, and logs in with
// it at once while everyone without it still waits.
func TestMailboxProofLetsTheOwnerInDuringAnAttack(t *testing.T) {
	t.Parallel()
	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		u, mallory := signUp(t, "mailbox-reset"), newAttacker()
		mallory.throttle(t, u.Email)
		loginWith(t, u, "").Problem(t, 429, "") // the owner, like anyone, waits
		device := resetPassword(t, &u, "the owner's fresh passphrase")
		// The reset cleared the account's bucket; the attack goes on.
		mallory.throttle(t, u.Email)
		loginWith(t, u, "").Problem(t, 429, "")
		var pair tokenPair
		loginWith(t, u, device).Expect(t, 200).JSON(t, &pair)
		u.Access = pair.AccessToken
		call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)
	})
	t.Run("verification", func(t *testing.T) {
		t.Parallel()
		u, mallory := register(t, "mailbox-verify"), newAttacker()
		mallory.throttle(t, u.Email)
		device := verifyEmailAt(t, u.Email)
		// The attack goes on: the account's wait may have ended while the
		// email was on its way.
		mallory.throttle(t, u.Email)
		loginWith(t, u, "").Problem(t, 429, "")
		loginWith(t, u, device).Expect(t, 200)
	})
}

// TestDeviceTokensAreSpentAndRevoked: a device token counts as a device
// for a few attempts only, and not after a password change or reset; an
// attacker who stole one meets the account's waits like anyone else.
func TestDeviceTokensAreSpentAndRevoked(t *testing.T) {
	t.Parallel()
	t.Run("spent by failures", func(t *testing.T) {
		t.Parallel()
		u, mallory := signUp(t, "device-spent"), newAttacker()
		stolen := u.Device
		for range 5 {
			call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "a guess with the stolen token", "deviceToken": stolen}, "X-Forwarded-For", mallory.address).Problem(t, 401, "")
		}
		mallory.throttle(t, u.Email)
		// Even the right password: the token no longer counts as a device.
		loginWith(t, u, stolen).Problem(t, 429, "")
	})
	t.Run("revoked by a password change", func(t *testing.T) {
		t.Parallel()
		u, mallory := signUp(t, "device-change"), newAttacker()
		before := u.Device
		call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": u.Password, "newPassword": "the next long passphrase"}, u.bearer()...).Expect(t, 204)
		u.Password = "the next long passphrase"
		mallory.throttle(t, u.Email)
		loginWith(t, u, before).Problem(t, 429, "")
	})
	t.Run("revoked by a reset", func(t *testing.T) {
		t.Parallel()
		u, mallory := signUp(t, "device-reset"), newAttacker()
		before := u.Device
		device := resetPassword(t, &u, "the owner's fresh passphrase")
		mallory.throttle(t, u.Email)
		loginWith(t, u, before).Problem(t, 429, "")
		loginWith(t, u, device).Expect(t, 200)
	})
}

// TestPasswordChangeEndsPendingResetLinks: a reset link mailed before a
// password change does not undo the change.
func TestPasswordChangeEndsPendingResetLinks(t *testing.T) {
	t.Parallel()
	u := signUp(t, "change-ends-reset")
	call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": u.Email}).Expect(t, 202)
	tok := linkToken(t, awaitMail(t, u.Email, resetSubject), "/reset-password")
	call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": u.Password, "newPassword": "the owner's new passphrase"}, u.bearer()...).Expect(t, 204)
	call(t, "POST", "/v1/auth/password-reset/confirm", map[string]string{"token": tok, "newPassword": "the link reader's passphrase"}).Problem(t, 400, "invalid-token")
	u.Password = "the owner's new passphrase"
	loginWith(t, u, "").Expect(t, 200)
}

// TestMadeUpRefreshTokenCannotEndASession: anyone who reads an access
// token knows its user and session (sub, sid); a refresh token made up
// with them is refused (401) and the session lives on. A spent token of
// the session still ends it (TestRefreshRotationAndReuseDetection).
func TestMadeUpRefreshTokenCannotEndASession(t *testing.T) {
	t.Parallel()
	u := signUp(t, "forged-reuse")
	claims := jwtClaims(t, u.Access)
	sub, _ := claims["sub"].(string)
	sid, _ := claims["sid"].(string)
	if sub == "" || sid == "" {
		t.Fatalf("access token claims %v lack sub or sid", claims)
	}
	for _, secret := range []string{strings.Repeat("A", 43), strings.Repeat("x", 43)} {
		call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": "rt1." + sub + "." + sid + "." + secret}, "X-Forwarded-For", newAddress()).Problem(t, 401, "")
	}
	var next tokenPair
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Expect(t, 200).JSON(t, &next)
	call(t, "GET", "/v1/users/me", nil, "Authorization", "Bearer "+next.AccessToken).Expect(t, 200)
}
