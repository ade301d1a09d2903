package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

func TestHealth(t *testing.T) {
	f := newFixture(t)
	r := f.do("GET /v1/health", nil, "")
	m := r.object(t, http.StatusOK)
	if len(m) != 2 || m["status"] != "ok" || m["version"] != testVersion {
		t.Errorf("health body %s, want status ok and version %s", r.body, testVersion)
	}
	if got := r.headers["Cache-Control"]; got != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", got)
	}
}

func TestJWKS(t *testing.T) {
	f := newFixture(t)
	r := f.do("GET /.well-known/jwks.json", nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", r.status, r.body)
	}
	if got := r.headers["Content-Type"]; got != "application/jwk-set+json" {
		t.Errorf("Content-Type %q, want application/jwk-set+json", got)
	}
	if got := r.headers["Cache-Control"]; !strings.HasPrefix(got, "public") || !strings.Contains(got, "max-age=") {
		t.Errorf("Cache-Control %q, want public with a max-age", got)
	}
	if string(r.body) != string(f.jwks) {
		t.Errorf("body %s, want the configured JWKS %s", r.body, f.jwks)
	}
	keys, err := token.ParseJWKS(r.body)
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	if len(keys) != 1 || keys[0].ID != f.keyID {
		t.Fatalf("keys %+v, want the signing key %s", keys, f.keyID)
	}
	// The published key verifies the tokens the API issues.
	f.ada()
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)
	v := token.NewVerifier(keys, testIssuer, testAudience, f.clock.Now)
	if _, err := v.Verify(login.AccessToken); err != nil {
		t.Errorf("an issued token does not verify with the JWKS: %v", err)
	}
	for _, private := range []string{`"d"`, "PRIVATE"} {
		if strings.Contains(string(r.body), private) {
			t.Errorf("JWKS contains %s: %s", private, r.body)
		}
	}
}

func TestUnknownRoute(t *testing.T) {
	f := newFixture(t)
	for _, route := range []string{"GET /v1/nowhere", "DELETE /v1/orders", "$default"} {
		f.do(route, nil, "").problem(t, http.StatusNotFound, "not-found")
	}
}

// TestMethodNotAllowed checks the answer to a method a path of the service
// does not have: 405 with Allow naming the path's methods, after the
// token check where the path's methods are all protected.
func TestMethodNotAllowed(t *testing.T) {
	f := newFixture(t)
	_, ada := f.ada()
	tests := []struct {
		route string
		as    *principal.Principal
		allow string
	}{
		{"GET /v1/auth/login", nil, "POST"},
		{"OPTIONS /v1/health", nil, "GET"},
		{"PUT /.well-known/jwks.json", nil, "GET"},
		{"DELETE /v1/users/me", ada, "GET, PATCH"},
		{"GET /v1/auth/logout", ada, "POST"},
	}
	for _, tt := range tests {
		r := f.do(tt.route, tt.as, "")
		r.problem(t, http.StatusMethodNotAllowed, "method-not-allowed")
		if got := r.headers["Allow"]; got != tt.allow {
			t.Errorf("%s: Allow %q, want %q", tt.route, got, tt.allow)
		}
	}
	f.do("DELETE /v1/users/me", nil, "").problem(t, http.StatusUnauthorized, "invalid-token")
}

func TestStoreFailuresAreInternal(t *testing.T) {
	const cause = "dynamodb: ProvisionedThroughputExceededException on arn:aws:dynamodb:eu-west-1:1234:table/users"
	boom := errors.New(cause)
	tests := []struct {
		name string
		fail func(s *apptest.FakeStore)
		req  func(f *fixture, refresh string, as string) response
	}{
		{"login state", func(s *apptest.FakeStore) {
			s.LoginStateFn = func(context.Context, string, string, string, time.Time) (account.LoginState, error) {
				return account.LoginState{}, boom
			}
		}, func(f *fixture, _, _ string) response { return f.loginResponse(apptest.AdaEmail, apptest.AdaPassword) }},
		{"take attempt", func(s *apptest.FakeStore) {
			s.TakeAttemptFn = func(context.Context, account.AttemptTake, time.Time) error { return boom }
		}, func(f *fixture, _, _ string) response {
			return f.loginResponse(apptest.AdaEmail, "wrong password again")
		}},
		{"complete login", func(s *apptest.FakeStore) {
			s.CompleteLoginFn = func(context.Context, account.LoginCompletion, time.Time) error { return boom }
		}, func(f *fixture, _, _ string) response { return f.loginResponse(apptest.AdaEmail, apptest.AdaPassword) }},
		{"read session", func(s *apptest.FakeStore) {
			s.SessionFn = func(context.Context, account.RefreshToken) (account.Session, account.Credentials, error) {
				return account.Session{}, account.Credentials{}, boom
			}
		}, func(f *fixture, rt, _ string) response { return f.refreshResponse(rt) }},
		{"revoke session", func(s *apptest.FakeStore) {
			s.RevokeSessionFn = func(context.Context, string, string, *revocation.Entry, account.Limit) error { return boom }
		}, func(f *fixture, rt, id string) response {
			return f.do("POST /v1/auth/logout", caller(id, apptest.AdaEmail, apptest.AdaName), jsonBody(f.t, map[string]string{"refreshToken": rt}))
		}},
		{"read user", func(s *apptest.FakeStore) {
			s.UserFn = func(context.Context, string) (account.Credentials, error) { return account.Credentials{}, boom }
		}, func(f *fixture, _, id string) response {
			return f.do("GET /v1/users/me", caller(id, apptest.AdaEmail, apptest.AdaName), "")
		}},
		{"update name", func(s *apptest.FakeStore) {
			s.UpdateNameFn = func(context.Context, string, string, time.Time) (account.User, error) { return account.User{}, boom }
		}, func(f *fixture, _, id string) response {
			return f.do("PATCH /v1/users/me", caller(id, apptest.AdaEmail, apptest.AdaName), `{"name":"Ada"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.ada()
			login := f.login(apptest.AdaEmail, apptest.AdaPassword)
			tt.fail(f.store)
			r := tt.req(f, login.RefreshToken, id)
			p := r.problem(t, http.StatusInternalServerError, "internal")
			if strings.Contains(string(r.body), "arn:aws") || strings.Contains(string(r.body), "Provisioned") || len(p.Errors) != 0 {
				t.Errorf("500 body leaks the cause: %s", r.body)
			}
			if n := strings.Count(f.logs.String(), "ProvisionedThroughputExceededException"); n != 1 {
				t.Errorf("cause logged %d times, want once:\n%s", n, f.logs.String())
			}
		})
	}
}

func TestCorrelationID(t *testing.T) {
	f := newFixture(t)
	ev := event("GET /v1/health", "", "")
	ev.Headers["x-request-id"] = "client-supplied-id-123"
	if got := f.send(ev).headers[httpapi.HeaderRequestID]; got != "client-supplied-id-123" {
		t.Errorf("X-Request-Id %q, want the client's", got)
	}
	ev.Headers["x-request-id"] = "bad id\nwith newline"
	if got := f.send(ev).headers[httpapi.HeaderRequestID]; got != ev.RequestContext.RequestID {
		t.Errorf("X-Request-Id %q, want the gateway's %q", got, ev.RequestContext.RequestID)
	}
}

func TestNoResponseLeaksSecrets(t *testing.T) {
	// One user journey through every route; fixture.send checks each body
	// for password hashes and stored refresh token hashes, and the cleanup
	// checks the logs for passwords and raw refresh tokens.
	f := newFixture(t)
	id, ada := f.ada()
	f.loginResponse(apptest.AdaEmail, "wrong password again")
	f.loginResponse("nobody@example.com", "wrong password again")
	login := f.login(apptest.AdaEmail, apptest.AdaPassword)
	second := f.pair(f.refreshResponse(login.RefreshToken))
	f.refreshResponse(login.RefreshToken) // reuse: revokes the family
	f.do("GET /v1/users/me", ada, "")
	f.do("PATCH /v1/users/me", ada, `{"name":"Ada K."}`)
	f.do("PATCH /v1/users/me", ada, `{"passwordHash":"x"}`)
	f.do("POST /v1/users/me/password", ada, changePasswordBody(t, "wrong password again", "a brand new passphrase"))
	f.remember("a brand new passphrase")
	f.do("POST /v1/users/me/password", ada, changePasswordBody(t, apptest.AdaPassword, "a brand new passphrase"))
	third := f.login(apptest.AdaEmail, "a brand new passphrase")
	f.do("POST /v1/auth/logout", ada, jsonBody(t, map[string]string{"refreshToken": third.RefreshToken}))
	f.do("POST /v1/auth/logout", ada, jsonBody(t, map[string]string{"refreshToken": second.RefreshToken}))
	f.do("POST /v1/auth/register", nil, jsonBody(t, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword, "name": "Twin"}))
	f.do("GET /.well-known/jwks.json", nil, "")
	f.do("GET /v1/health", nil, "")
	if len(f.mem.Secrets()) < 5 {
		t.Fatalf("the journey stored only %d secrets; the leak check saw too little", len(f.mem.Secrets()))
	}
	if stored, _ := f.mem.User(context.Background(), id); stored.Name != "Ada K." {
		t.Errorf("journey went astray: name %q", stored.Name)
	}
}

// TestProtectedRoutesNeedACaller checks every protected route. (A token
// without a user or a session cannot be minted; the token package's
// forgery tests refuse such tokens.)
func TestProtectedRoutesNeedACaller(t *testing.T) {
	var routes []string
	router := newFixture(t).handler
	for _, route := range router.RouteKeys() {
		if router.IsProtected(route) {
			routes = append(routes, route)
		}
	}
	tests := []struct {
		name   string
		bearer func(f *fixture, id string) string
	}{
		{"no access token", func(*fixture, string) string { return "" }},
		{"expired access token", func(f *fixture, id string) string {
			raw := f.tokenFor(*caller(id, apptest.AdaEmail, apptest.AdaName))
			f.clock.Advance(token.DefaultTTL + token.Leeway + time.Second)
			return raw
		}},
		{"token of another key", func(f *fixture, id string) string {
			return apitest.NewAuth(f.t).Token(f.t, *caller(id, apptest.AdaEmail, apptest.AdaName))
		}},
	}
	for _, tt := range tests {
		for _, route := range routes {
			t.Run(tt.name+"/"+route, func(t *testing.T) {
				f := newFixture(t)
				id, _ := f.ada()
				r := f.send(event(route, `{"name":"Mallory"}`, tt.bearer(f, id)))
				r.problem(t, http.StatusUnauthorized, "invalid-token")
				if got := r.headers["WWW-Authenticate"]; got != `Bearer error="invalid_token"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
			})
		}
	}
}
