//go:build integration

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// user is a registered, logged-in test user.
type user struct {
	ID, Email, Name, Password string
	Access, Refresh           string
	Device                    string // the device token of the last login
}

func (u user) bearer() []string { return []string{"Authorization", "Bearer " + u.Access} }

type tokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	DeviceToken  string `json:"deviceToken"`
}

// signUp registers a new user, verifies the email (which hands the
// device a device token) and logs them in from that device.
func signUp(t *testing.T, tag string) user {
	t.Helper()
	u := register(t, tag)
	u.Device = verifyEmailAt(t, u.Email)
	u.login(t)
	return u
}

// register creates an account, its email not verified yet.
func register(t *testing.T, tag string) user {
	t.Helper()
	u := user{Email: uniqueEmail(t, tag), Name: "Test " + tag, Password: "correct horse battery staple"}
	var reg struct {
		ID, Email, Name string
		EmailVerified   bool
	}
	call(t, "POST", "/v1/auth/register", map[string]string{"email": u.Email, "password": u.Password, "name": u.Name}).Expect(t, 201).JSON(t, &reg)
	if reg.EmailVerified {
		t.Fatalf("a new account says its email is verified: %+v", reg)
	}
	u.ID = reg.ID
	return u
}

// verifyEmailAt does what the account's owner does: reads the
// verification email sent to addr (the address as SES was given it: an
// account's email, but with a Unicode domain in Punycode) from the mailbox
// and sends its link's token back. It returns the device token the
// verification hands out.
func verifyEmailAt(t *testing.T, addr string) string {
	t.Helper()
	tok := linkToken(t, awaitMail(t, addr, verificationSubject), "/verify-email")
	return deviceOf(t, call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": tok}))
}

// login logs u in, from the device of its last login if any, and keeps
// its tokens.
func (u *user) login(t *testing.T) {
	t.Helper()
	var tok tokenPair
	loginWith(t, *u, u.Device).Expect(t, 200).JSON(t, &tok)
	if tok.DeviceToken == "" || tok.DeviceToken == u.Device {
		t.Fatalf("login returned device token %q after %q", tok.DeviceToken, u.Device)
	}
	u.Access, u.Refresh, u.Device = tok.AccessToken, tok.RefreshToken, tok.DeviceToken
}

// Subjects of the account emails.
const (
	verificationSubject = "Confirm your email address"
	resetSubject        = "Reset your password"
)

// linkToken reads the token of the link to path on the app in an email's
// text part, checking that the link is {AppBaseUrl}{path}?token=<token>.
func linkToken(t *testing.T, m testcloud.Mail, path string) string {
	t.Helper()
	prefix := output(t, "AppBaseUrl") + path + "?token="
	for _, field := range strings.Fields(m.Text) {
		if tok, ok := strings.CutPrefix(field, prefix); ok {
			raw, err := url.QueryUnescape(tok)
			if err != nil || raw == "" {
				t.Fatalf("link %q: token %q: %v", field, tok, err)
			}
			return raw
		}
	}
	t.Fatalf("no %s... link in the email %q:\n%s", prefix, m.Subject, m.Text)
	return ""
}

type orderLine struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unitPrice"`
	LineTotal int64  `json:"lineTotal"`
}

type orderDoc struct {
	ID        string      `json:"id"`
	Status    string      `json:"status"`
	Items     []orderLine `json:"items"`
	Total     int64       `json:"total"`
	Currency  string      `json:"currency"`
	CreatedAt time.Time   `json:"createdAt"`
	UpdatedAt time.Time   `json:"updatedAt"`
}

// TestJourney is the walking skeleton's path: register, log in, order, read
// the order back, receive the confirmation email, and be refused without a
// token.
func TestJourney(t *testing.T) {
	var health struct{ Status, Version string }
	call(t, "GET", "/v1/health", nil).Expect(t, 200).JSON(t, &health)
	if health.Status != "ok" || health.Version == "" {
		t.Fatalf("health = %+v", health)
	}

	u := signUp(t, "journey")
	var me struct{ ID, Email, Name string }
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200).JSON(t, &me)
	if me.ID != u.ID || me.Email != u.Email || me.Name != u.Name {
		t.Fatalf("me = %+v, want %s %s %s", me, u.ID, u.Email, u.Name)
	}

	created := call(t, "POST", "/v1/orders", map[string]any{"items": []map[string]any{
		{"sku": "COF-ESP-250", "quantity": 2},
		{"sku": "BRW-V60-02", "quantity": 1},
	}}, u.bearer()...)
	created.Expect(t, 201)
	var o orderDoc
	created.JSON(t, &o)
	if o.Status != "PENDING" || o.Total != 2*1290+2400 || o.Currency != "USD" || len(o.Items) != 2 {
		t.Fatalf("created order = %+v", o)
	}
	if loc := created.Header.Get("Location"); loc != "/v1/orders/"+o.ID {
		t.Fatalf("Location = %q", loc)
	}

	var got orderDoc
	call(t, "GET", "/v1/orders/"+o.ID, nil, u.bearer()...).Expect(t, 200).JSON(t, &got)
	if got.ID != o.ID || got.Total != o.Total || got.Items[0].SKU != "COF-ESP-250" || got.Items[0].LineTotal != 2580 {
		t.Fatalf("read back %+v, want %+v", got, o)
	}

	mail := awaitMail(t, u.Email, o.ID)
	for _, want := range []string{o.ID, "$49.80", "Espresso Blend, 250 g", "$25.80"} {
		if !strings.Contains(mail.Text, want) || !strings.Contains(mail.HTML, want) {
			t.Errorf("confirmation email lacks %q:\n%s", want, mail.Text)
		}
	}

	call(t, "GET", "/v1/orders/"+o.ID, nil).Expect(t, http.StatusUnauthorized)
}

// awaitMail waits for the email to addr whose subject mentions needle.
func awaitMail(t *testing.T, addr, needle string) testcloud.Mail {
	t.Helper()
	var got []testcloud.Mail
	testcloud.Eventually(t, time.Minute, "email to "+addr+" about "+needle, func() bool {
		got = testcloud.MailTo(t, addr, needle)
		return len(got) > 0
	})
	return got[0]
}

// awaitNewVerification waits for a verification email to addr whose link's
// token is not old, and returns that token.
func awaitNewVerification(t *testing.T, addr, old string) string {
	t.Helper()
	var tok string
	testcloud.Eventually(t, time.Minute, "a new verification email to "+addr, func() bool {
		for _, m := range testcloud.MailTo(t, addr, verificationSubject) {
			if got := linkToken(t, m, "/verify-email"); got != old {
				tok = got
			}
		}
		return tok != ""
	})
	return tok
}

// awaitEventsSettled waits until the order events queue holds nothing:
// every event relayed so far has been handled, so no email of it is still
// on its way. Counting emails after this finds any duplicate.
func awaitEventsSettled(t *testing.T) {
	t.Helper()
	testcloud.AwaitDrained(t, sqs.NewFromConfig(stack.aws), output(t, "OrderEventsQueueUrl"), 2*time.Minute)
}

// mailsTo waits for the events queue to settle and returns the emails to
// addr whose subject mentions needle.
func mailsTo(t *testing.T, addr, needle string) []testcloud.Mail {
	t.Helper()
	awaitEventsSettled(t)
	return testcloud.MailTo(t, addr, needle)
}
