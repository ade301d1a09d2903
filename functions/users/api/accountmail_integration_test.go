//go:build integration

package api_test

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/oklog/ulid/v2"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/sealed"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// handlerWith is the service on the rig's tables and keys with edit applied
// to its configuration, as the template's parameters would set it.
func (r *callsRig) handlerWith(t *testing.T, edit func(*app.Config)) *web.Server {
	t.Helper()
	cfg := app.Config{
		Accounts: r.store(), Sessions: r.store(), Attempts: r.store(), Links: r.store(), Requests: r.store(),
		Sealer: sealed.NewSealer(r.keys, r.linkKey),
		Issuer: token.NewIssuer(kmskeys.SignerFor(r.keys, r.signingKey, r.public[0].ID), apitest.TokenIssuer, apitest.TokenAudience, 15*time.Minute, nil),
		Log:    r.log, NewID: func() string { return ulid.Make().String() },
	}
	edit(&cfg)
	return api.NewHandler(r.log, api.Config{
		Service:  app.New(cfg),
		Verifier: token.NewVerifier(r.public, apitest.TokenIssuer, apitest.TokenAudience, nil),
		JWKS:     r.jwks, Version: testVersion,
	})
}

// items lists every item of the rig's users table, as "PK SK".
func (r *callsRig) items(t *testing.T) []string {
	t.Helper()
	out, err := r.shadowDB.Scan(r.ctx, &dynamodb.ScanInput{TableName: &r.table})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, item := range out.Items {
		var k struct{ PK, SK string }
		if err := attributevalue.UnmarshalMap(item, &k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.PK+" "+k.SK)
	}
	sort.Strings(keys)
	return keys
}

// want503 checks a 503 problem answer of the given type with a
// Retry-After.
func want503(t *testing.T, resp *apitest.Response, slug string) {
	t.Helper()
	if resp.Problem(t, 503, slug); resp.Header.Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", slug)
	}
}

// TestAccountMailCap: registrations and verification resends of all
// clients are capped per clock hour on the real table (the cap set low,
// as a low SesMax24HourSend would); past it they answer 503
// account-mail-limit with Retry-After and store no account and no email.
func TestAccountMailCap(t *testing.T) {
	r := newCallsRig(t)
	if time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)) < 30*time.Second {
		time.Sleep(31 * time.Second) // the requests below fall in one clock hour
	}
	h := r.handlerWith(t, func(c *app.Config) { c.AccountMailPerHour = 2 })
	reg := func(email, address string) *apitest.Response {
		return send(t, h, "POST /v1/auth/register", `{"email":"`+email+`","password":"correct horse battery staple","name":"Cap"}`, "", address)
	}
	if resp := reg("cap-1@example.com", "198.51.100.21"); resp.StatusCode != 201 {
		t.Fatalf("first registration: %d %s", resp.StatusCode, resp.Body)
	}
	login := send(t, h, "POST /v1/auth/login", `{"email":"cap-1@example.com","password":"correct horse battery staple"}`, "", "198.51.100.21")
	var pair struct{ AccessToken string }
	if login.JSON(t, &pair); pair.AccessToken == "" {
		t.Fatalf("login: %d %s", login.StatusCode, login.Body)
	}
	if resp := reg("cap-2@example.com", "198.51.100.22"); resp.StatusCode != 201 {
		t.Fatalf("second registration: %d %s", resp.StatusCode, resp.Body)
	}
	outboxBefore := r.outboxCount(t)
	want503(t, reg("cap-3@example.com", "198.51.100.23"), "account-mail-limit")
	want503(t, send(t, h, "POST /v1/auth/verify-email/resend", "", pair.AccessToken, "198.51.100.21"), "account-mail-limit")
	if _, err := r.store().UserByEmail(r.ctx, "cap-3@example.com"); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("the refused registration was stored: %v", err)
	}
	if n := r.outboxCount(t); n != outboxBefore {
		t.Errorf("%d emails queued past the cap", n-outboxBefore)
	}
	// Password resets are not capped.
	if resp := send(t, h, "POST /v1/auth/password-reset", `{"email":"cap-1@example.com"}`, "", "198.51.100.21"); resp.StatusCode != 202 {
		t.Errorf("password reset past the cap: %d %s", resp.StatusCode, resp.Body)
	}
}

// outboxCount counts the events queued in the rig's users table.
func (r *callsRig) outboxCount(t *testing.T) int {
	t.Helper()
	n := 0
	for _, k := range r.items(t) {
		if strings.HasPrefix(k, store.OutboxPrefix) {
			n++
		}
	}
	return n
}

// TestAccountMailPaused: with account mail paused (AccountMail=paused),
// registration, verification resends and password reset requests answer
// 503 account-mail-paused with Retry-After and write nothing at all, not
// even their address's count; the other routes work on.
func TestAccountMailPaused(t *testing.T) {
	r := newCallsRig(t)
	on := r.handlerWith(t, func(*app.Config) {})
	const body = `{"email":"paused@example.com","password":"correct horse battery staple","name":"Paused"}`
	if resp := send(t, on, "POST /v1/auth/register", body, "", "198.51.100.31"); resp.StatusCode != 201 {
		t.Fatalf("registration: %d %s", resp.StatusCode, resp.Body)
	}
	token := r.linkToken(t, "account.verification_requested", "paused@example.com")

	paused := r.handlerWith(t, func(c *app.Config) { c.AccountMailPaused = true })
	login := send(t, paused, "POST /v1/auth/login", `{"email":"paused@example.com","password":"correct horse battery staple"}`, "", "198.51.100.31")
	var pair struct{ AccessToken string }
	if login.JSON(t, &pair); pair.AccessToken == "" {
		t.Fatalf("login while paused: %d %s", login.StatusCode, login.Body)
	}
	before := r.items(t)
	for _, c := range []struct{ what, route, body, bearer string }{
		{"register", "POST /v1/auth/register", `{"email":"paused-2@example.com","password":"correct horse battery staple","name":"P"}`, ""},
		{"register, invalid", "POST /v1/auth/register", `{"email":"nope"}`, ""},
		{"resend", "POST /v1/auth/verify-email/resend", "", pair.AccessToken},
		{"password reset", "POST /v1/auth/password-reset", `{"email":"paused@example.com"}`, ""},
	} {
		resp := send(t, paused, c.route, c.body, c.bearer, "198.51.100.32")
		want503(t, resp, "account-mail-paused")
		if got := resp.Header.Get("Retry-After"); got != "3600" {
			t.Errorf("%s: Retry-After %q, want 3600", c.what, got)
		}
	}
	if after := r.items(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("paused routes wrote to the table:\nbefore %v\nafter  %v", before, after)
	}
	// Verifying takes no email: it works while paused.
	if resp := send(t, paused, "POST /v1/auth/verify-email", `{"token":"`+token+`"}`, "", "198.51.100.31"); resp.StatusCode != 200 {
		t.Errorf("verify-email while paused: %d %s", resp.StatusCode, resp.Body)
	}
}
