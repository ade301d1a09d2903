//go:build integration

package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// TestVerifiedBeforeOrdering walks a new customer through verification:
// the order before it is refused and mails nothing; the link from the
// mailbox verifies the email once; the next access token says so and
// orders.
func TestVerifiedBeforeOrdering(t *testing.T) {
	t.Parallel()
	u := register(t, "verify")
	u.login(t)
	if claims := jwtClaims(t, u.Access); claims["email_verified"] != false {
		t.Fatalf("access token of an unverified account says email_verified=%v", claims["email_verified"])
	}
	var me struct{ EmailVerified bool }
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200).JSON(t, &me)
	if me.EmailVerified {
		t.Fatal("GET /v1/users/me says verified before the link was used")
	}

	call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), append(u.bearer(), "Idempotency-Key", "unverified-1")...).Problem(t, 403, "email-unverified")
	var page struct{ Items []orderDoc }
	call(t, "GET", "/v1/orders", nil, u.bearer()...).Expect(t, 200).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("the refused order was stored: %+v", page.Items)
	}

	mail := awaitMail(t, u.Email, verificationSubject)
	if !strings.Contains(mail.HTML, output(t, "AppBaseUrl")+"/verify-email?token=") || strings.Contains(mail.Text, u.Name) {
		t.Errorf("verification email lacks the link, or shows the name the registrant chose:\n%s", mail.Text)
	}
	token := linkToken(t, mail, "/verify-email")
	deviceOf(t, call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": token}))
	call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": token}).Problem(t, 400, "invalid-token")

	// The access token from before still says unverified; a refreshed one
	// does not.
	call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), u.bearer()...).Problem(t, 403, "")
	var pair tokenPair
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Expect(t, 200).JSON(t, &pair)
	u.Access, u.Refresh = pair.AccessToken, pair.RefreshToken
	if claims := jwtClaims(t, u.Access); claims["email_verified"] != true {
		t.Fatalf("refreshed access token says email_verified=%v", claims["email_verified"])
	}
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200).JSON(t, &me)
	if !me.EmailVerified {
		t.Fatal("GET /v1/users/me does not say verified")
	}
	var o orderDoc
	call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
	awaitMail(t, u.Email, o.ID+" confirmed")
	// The refused order mailed nothing: the only order email is this one.
	if n := len(mailsTo(t, u.Email, "Order ")); n != 1 {
		t.Fatalf("%d order emails, want 1", n)
	}
}

func TestVerificationLinks(t *testing.T) {
	t.Parallel()
	u := register(t, "relink")
	u.login(t)
	first := linkToken(t, awaitMail(t, u.Email, verificationSubject), "/verify-email")

	for name, body := range map[string]any{
		"garbage":         map[string]string{"token": "not-a-token"},
		"a reset token":   map[string]string{"token": "pr1" + strings.TrimPrefix(first, "ev1")},
		"altered":         map[string]string{"token": first[:len(first)-1] + flip(first[len(first)-1])},
		"another account": map[string]string{"token": "ev1.01ZZZZZZZZZZZZZZZZZZZZZZZZ" + first[len("ev1.")+26:]},
	} {
		if p := call(t, "POST", "/v1/auth/verify-email", body).Problem(t, 400, ""); !strings.HasSuffix(p.Type, "#invalid-token") {
			t.Errorf("%s: problem type %q, want invalid-token", name, p.Type)
		}
	}
	call(t, "POST", "/v1/auth/verify-email", map[string]any{"token": 42}).Problem(t, 400, "")
	call(t, "POST", "/v1/auth/verify-email/resend", nil).Problem(t, 401, "")

	// A resend mails a new link, which replaces the first.
	call(t, "POST", "/v1/auth/verify-email/resend", nil, u.bearer()...).Expect(t, 202)
	second := awaitNewVerification(t, u.Email, first)
	call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": first}).Problem(t, 400, "")
	deviceOf(t, call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": second}))

	// Verified: a resend sends nothing; past 5 an hour the address is limited.
	for range 5 {
		call(t, "POST", "/v1/auth/verify-email/resend", nil, u.bearer()...).Expect(t, 202)
	}
	if n := len(mailsTo(t, u.Email, verificationSubject)); n != 2 {
		t.Fatalf("%d verification emails, want 2 (registration and the one resend)", n)
	}
	other := register(t, "relimit")
	other.login(t)
	for range 5 {
		call(t, "POST", "/v1/auth/verify-email/resend", nil, other.bearer()...).Expect(t, 202)
	}
	r := call(t, "POST", "/v1/auth/verify-email/resend", nil, other.bearer()...)
	if p := r.Problem(t, 429, ""); !strings.HasSuffix(p.Type, "#too-many-requests") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth resend: %s, Retry-After %q", r.Body, r.Header.Get("Retry-After"))
	}
}

// flip returns another character of the token alphabet.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	u := signUp(t, "reset")
	oldRefresh, oldAccess := u.Refresh, u.Access

	// An unknown address gets the same answer and no email.
	nobody := uniqueEmail(t, "nobody")
	known := call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": strings.ToUpper(u.Email)}).Expect(t, 202)
	unknown := call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": nobody}).Expect(t, 202)
	if known.Body != unknown.Body {
		t.Fatalf("answers differ: %s vs %s", known.Body, unknown.Body)
	}
	call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": "not-an-email"}).Problem(t, 400, "")

	token := linkToken(t, awaitMail(t, u.Email, resetSubject), "/reset-password")
	if n := len(mailsTo(t, nobody, "")); n != 0 {
		t.Fatalf("the unknown address got %d emails", n)
	}

	const newPassword = "a brand new passphrase"
	weak := call(t, "POST", "/v1/auth/password-reset/confirm", map[string]string{"token": token, "newPassword": "short"}).Problem(t, 400, "")
	if !slices.Contains(weak.Fields(), "newPassword") {
		t.Fatalf("weak password: %+v", weak)
	}
	deviceOf(t, call(t, "POST", "/v1/auth/password-reset/confirm", map[string]string{"token": token, "newPassword": newPassword}))
	call(t, "POST", "/v1/auth/password-reset/confirm", map[string]string{"token": token, "newPassword": "yet another passphrase"}).Problem(t, 400, "invalid-token")

	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": oldRefresh}).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}).Problem(t, 401, "")
	u.Password = newPassword
	u.login(t)
	if claims := jwtClaims(t, u.Access); claims["email_verified"] != true {
		t.Fatalf("after the reset the token says email_verified=%v", claims["email_verified"])
	}
	u.Access = oldAccess
	t.Logf("reset: the access token from before was refused after %v", awaitRefused(t, u))
}

// awaitRefused polls a users route and an orders route with u's access
// token until both refuse it, fails the test if that takes over a minute
// (the product's bound), and returns how long it took.
func awaitRefused(t *testing.T, u user) time.Duration {
	t.Helper()
	start := time.Now()
	for _, path := range []string{"/v1/users/me", "/v1/orders"} {
		testcloud.Eventually(t, time.Minute-time.Since(start), "the revoked token refused on "+path, func() bool {
			r := call(t, "GET", path, nil, u.bearer()...)
			if r.StatusCode == http.StatusUnauthorized {
				return true
			}
			r.Expect(t, 200) // anything else is a failure of its own
			return false
		})
	}
	return time.Since(start).Round(100 * time.Millisecond)
}

func TestRevokedAccessTokensStopWorking(t *testing.T) {
	t.Parallel()
	t.Run("logout", func(t *testing.T) {
		t.Parallel()
		u := signUp(t, "logout")
		other := u
		other.login(t) // another session of the same user
		call(t, "POST", "/v1/auth/logout", map[string]string{"refreshToken": u.Refresh}, u.bearer()...).Expect(t, 204)
		t.Logf("logout: refused after %v", awaitRefused(t, u))
		call(t, "GET", "/v1/users/me", nil, other.bearer()...).Expect(t, 200) // the other session lives on
	})
	t.Run("password change", func(t *testing.T) {
		t.Parallel()
		u := signUp(t, "pwchange")
		call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": u.Password, "newPassword": "the next long passphrase"}, u.bearer()...).Expect(t, 204)
		t.Logf("password change: refused after %v", awaitRefused(t, u))
		u.Password = "the next long passphrase"
		u.login(t)
		call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)
	})
}
