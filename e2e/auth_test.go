//go:build integration

package e2e

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	email := uniqueEmail(t, "Reg")
	r := call(t, "POST", "/v1/auth/register", map[string]string{"email": "  " + strings.ToUpper(email[:3]) + email[3:], "password": "correct horse battery staple", "name": " Ada Lovelace "}).Expect(t, 201)
	var body map[string]any
	r.JSON(t, &body)
	if body["email"] != strings.ToLower(email) || body["name"] != "Ada Lovelace" || body["id"] == "" || body["createdAt"] == "" || body["emailVerified"] != false {
		t.Fatalf("register body = %v", body)
	}
	if len(body) != 5 {
		t.Fatalf("register body has fields beyond id, email, name, emailVerified, createdAt: %v", body)
	}

	t.Run("email taken, case-insensitively", func(t *testing.T) {
		call(t, "POST", "/v1/auth/register", map[string]string{"email": strings.ToUpper(email), "password": "another long password", "name": "Imposter"}).Problem(t, 409, "email-taken")
	})
	for _, tc := range []struct {
		name   string
		body   any
		fields []string
	}{
		{"bad email and short password and no name", map[string]string{"email": "not-an-email", "password": "short", "name": ""}, []string{"email", "password", "name"}},
		{"display-name address", map[string]string{"email": "Eve <eve@example.com>", "password": "correct horse battery staple", "name": "Eve"}, []string{"email"}},
		{"password over 128 characters", map[string]string{"email": "long@example.com", "password": strings.Repeat("p", 129), "name": "Long"}, []string{"password"}},
		{"unknown field", map[string]any{"email": "x@example.com", "password": "correct horse battery staple", "name": "X", "role": "admin"}, []string{"role"}},
		{"wrong type", map[string]any{"email": 42, "password": "correct horse battery staple", "name": "X"}, []string{"email"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := call(t, "POST", "/v1/auth/register", tc.body).Problem(t, 400, "")
			for _, f := range tc.fields {
				if !slices.Contains(p.Fields(), f) {
					t.Errorf("problem does not name field %q: %+v", f, p.Errors)
				}
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		call(t, "POST", "/v1/auth/register", `{"email":`).Problem(t, 400, "")
		call(t, "POST", "/v1/auth/register", `[1,2]`).Problem(t, 400, "")
		call(t, "POST", "/v1/auth/register", "email=a", "Content-Type", "application/x-www-form-urlencoded").Problem(t, 415, "")
		call(t, "POST", "/v1/auth/register", `{"email":"`+strings.Repeat("a", 70<<10)+`"}`).Problem(t, 413, "")
	})
}

func TestLoginTokensAndJWKS(t *testing.T) {
	t.Parallel()
	u := signUp(t, "login")
	header := jwtHeader(t, u.Access)
	if header["alg"] != "ES256" || header["typ"] != "at+jwt" || header["kid"] == "" {
		t.Fatalf("access token header = %v", header)
	}
	claims := jwtClaims(t, u.Access)
	for _, c := range []string{"iss", "aud", "sub", "exp", "iat", "jti", "email", "name"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("access token lacks claim %q", c)
		}
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 900 {
		t.Errorf("token lifetime %v s, want 900", exp-iat)
	}

	r := call(t, "GET", "/.well-known/jwks.json", nil).Expect(t, 200)
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age") {
		t.Errorf("JWKS Cache-Control = %q", cc)
	}
	var jwks struct {
		Keys []map[string]string `json:"keys"`
	}
	r.JSON(t, &jwks)
	kids := map[string]bool{}
	for _, k := range jwks.Keys {
		if k["kty"] != "EC" || k["crv"] != "P-256" || k["alg"] != "ES256" || k["d"] != "" {
			t.Fatalf("JWKS key %v", k)
		}
		kids[k["kid"]] = true
	}
	if len(jwks.Keys) != 2 || !kids[header["kid"].(string)] {
		t.Fatalf("JWKS has %d keys %v; want both signing keys including %v", len(jwks.Keys), kids, header["kid"])
	}
}

func jwtPart(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func jwtHeader(t *testing.T, token string) map[string]any { return jwtPart(t, token, 0) }
func jwtClaims(t *testing.T, token string) map[string]any { return jwtPart(t, token, 1) }

// TestLoginIsThrottledWithoutLockingTheOwnerOut: failures look alike;
// past the free attempts each must wait longer (429 with Retry-After),
// whatever the password; the owner's own device still gets in at once.
func TestLoginIsThrottledWithoutLockingTheOwnerOut(t *testing.T) {
	t.Parallel()
	u := signUp(t, "throttle")
	wrong := call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "wrong password entirely"})
	unknown := call(t, "POST", "/v1/auth/login", map[string]string{"email": "nobody-" + u.Email, "password": "wrong password entirely"})
	// The two answers are the same document but for the request's own id.
	pw, pu := wrong.Problem(t, 401, ""), unknown.Problem(t, 401, "")
	same := func(r *apitest.Response, id string) string { return strings.Replace(r.Body, id, "", 1) }
	if pw.Type != pu.Type || pw.Detail != pu.Detail || same(wrong, pw.RequestID) != same(unknown, pu.RequestID) {
		t.Fatalf("wrong password and unknown email differ:\n%s\n%s", wrong.Body, unknown.Body)
	}
	// Five free attempts, and one more that starts the first wait.
	for range 5 {
		call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "still wrong password"}).Problem(t, 401, "")
	}
	// guess guesses wrong until a guess is made to wait (429) and returns
	// the wait, which must be at most bound seconds. On a busy machine a
	// call can outlast a wait of a second: a guess that got through (401)
	// is one more failure, and the wait after it twice as long.
	guess := func(bound int) time.Duration {
		t.Helper()
		for ; ; bound *= 2 {
			r := call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "still wrong password"})
			if r.StatusCode == 401 && bound < 64 {
				continue
			}
			r.Problem(t, 429, "")
			secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
			if err != nil || secs < 1 || secs > bound {
				t.Fatalf("Retry-After = %q, want 1 to %d seconds", r.Header.Get("Retry-After"), bound)
			}
			return time.Duration(secs) * time.Second
		}
	}
	retryAfter := func(r *apitest.Response) time.Duration {
		t.Helper()
		r.Problem(t, 429, "")
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || secs < 1 {
			t.Fatalf("Retry-After = %q, want whole seconds", r.Header.Get("Retry-After"))
		}
		return time.Duration(secs) * time.Second
	}
	// The first wait is a second (Retry-After 1 or 2); waits double. The
	// owner's password waits too: tried once the wait left is long enough
	// that the call cannot outlast it.
	for wait, bound := guess(2), 2; wait < 5*time.Second; wait = guess(bound) {
		time.Sleep(wait)
		bound *= 2
	}
	retryAfter(call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}))
	// The owner, from the device that logged in before: in at once.
	u.login(t)
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)
	// A malformed device token is refused, not ignored.
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password, "deviceToken": "dv1.nope"}).Problem(t, 400, "")
	// Everyone else waits, longer after each attempt.
	wait := retryAfter(call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}))
	time.Sleep(wait) // the wait the API asked for is the behaviour under test
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "wrong once more"}).Problem(t, 401, "")
	// The next attempt waits again, twice as long (longer still after a
	// guess that outlasted the wait: guess).
	if next := guess(2*int(wait/time.Second) + 2); next <= wait {
		t.Fatalf("the wait after the next failure is %s, want longer than the %s before", next, wait)
	}
}

// TestLoginAttemptsSentAtOnceAreCountedOneByOne: twenty wrong guesses at
// once; the free ones and the one starting the first wait reach the
// password check, and later ones only as the waits pass (1 s, 2 s, 4 s...:
// k more need 2^k - 1 seconds); the others are answered 429.
func TestLoginAttemptsSentAtOnceAreCountedOneByOne(t *testing.T) {
	t.Parallel()
	u := signUp(t, "burst")
	const n = 20
	started := time.Now()
	answers := race(n, func() *apitest.Response {
		return call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "a guess sent at once"})
	})
	checked := winners(t, answers, 401, 429)
	took := time.Since(started)
	allowed := 6 + int(math.Log2(took.Seconds()+1))
	if checked > allowed {
		t.Fatalf("%d of %d simultaneous guesses were checked in %v, want at most %d", checked, n, took, allowed)
	}
	t.Logf("%d of %d simultaneous guesses checked in %v", checked, n, took.Round(time.Millisecond))
}

func TestRefreshRotationAndReuseDetection(t *testing.T) {
	t.Parallel()
	u := signUp(t, "refresh")
	var next tokenPair
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Expect(t, 200).JSON(t, &next)
	if next.RefreshToken == u.Refresh || next.AccessToken == "" || next.TokenType != "Bearer" {
		t.Fatalf("refresh did not rotate: %+v", next)
	}
	call(t, "GET", "/v1/users/me", nil, "Authorization", "Bearer "+next.AccessToken).Expect(t, 200)

	// The spent token comes back: the whole family is revoked, including
	// the token that replaced it.
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": next.RefreshToken}).Problem(t, 401, "")

	for _, bad := range []string{"", "garbage", "rt1." + strings.Repeat("A", 26) + ".x.y", u.Access} {
		call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": bad}).Problem(t, 401, "")
	}
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	t.Parallel()
	u := signUp(t, "race")
	const n = 6
	answers := race(n, func() *apitest.Response {
		return call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh})
	})
	if won := winners(t, answers, 200, 401); won != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1", won, n)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	u := signUp(t, "logout")
	other := signUp(t, "logout-other")
	call(t, "POST", "/v1/auth/logout", map[string]string{"refreshToken": other.Refresh}, u.bearer()...).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/logout", map[string]string{"refreshToken": "nonsense"}, u.bearer()...).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/logout", map[string]string{"refreshToken": u.Refresh}, u.bearer()...).Expect(t, 204)
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}).Problem(t, 401, "")
	// The other user's session was untouched by the refused attempt.
	call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": other.Refresh}).Expect(t, 200)
	call(t, "POST", "/v1/auth/logout", map[string]string{"refreshToken": u.Refresh}).Expect(t, http.StatusUnauthorized)
}

func TestProfile(t *testing.T) {
	t.Parallel()
	u := signUp(t, "profile")
	r := call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200)
	for _, secret := range []string{"argon2", "password", "Hash", u.Refresh} {
		if strings.Contains(r.Body, secret) {
			t.Fatalf("profile leaks %q: %s", secret, r.Body)
		}
	}
	var p struct{ ID, Email, Name string }
	call(t, "PATCH", "/v1/users/me", map[string]string{"name": "  New Name  "}, u.bearer()...).Expect(t, 200).JSON(t, &p)
	if p.Name != "New Name" || p.Email != u.Email || p.ID != u.ID {
		t.Fatalf("patched profile = %+v", p)
	}
	prob := call(t, "PATCH", "/v1/users/me", map[string]any{
		"name": "X", "id": "other", "email": "evil@example.com", "role": "admin", "passwordHash": "x", "createdAt": "2020-01-01T00:00:00Z",
	}, u.bearer()...).Problem(t, 400, "")

	for _, f := range []string{"id", "email", "role", "passwordHash", "createdAt"} {
		if !slices.Contains(prob.Fields(), f) {
			t.Errorf("PATCH problem does not name %q: %+v", f, prob.Errors)
		}
	}
	call(t, "PATCH", "/v1/users/me", map[string]any{}, u.bearer()...).Problem(t, 400, "")
	call(t, "PATCH", "/v1/users/me", map[string]any{"name": strings.Repeat("n", 101)}, u.bearer()...).Problem(t, 400, "")
	// Nothing of the rejected request was written.
	call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200).JSON(t, &p)
	if p.Name != "New Name" || p.Email != u.Email {
		t.Fatalf("a rejected PATCH changed the profile: %+v", p)
	}
}

func TestPasswordChangeRevokesSessions(t *testing.T) {
	t.Parallel()
	u := signUp(t, "pwchange")
	var second tokenPair
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}).Expect(t, 200).JSON(t, &second)

	call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": u.Password, "newPassword": "short"}, u.bearer()...).Problem(t, 400, "")
	call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": "not the password", "newPassword": "a brand new passphrase"}, u.bearer()...).Problem(t, 401, "")
	call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": u.Password, "newPassword": "a brand new passphrase"}, u.bearer()...).Expect(t, 204)

	for _, rt := range []string{u.Refresh, second.RefreshToken} {
		call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt}).Problem(t, 401, "")
	}
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}).Problem(t, 401, "")
	call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "a brand new passphrase"}).Expect(t, 200)
}

func TestAuthorizerRefusesBadTokens(t *testing.T) {
	t.Parallel()
	u := signUp(t, "authz")
	parts := strings.Split(u.Access, ".")
	flipped := []byte(parts[2])
	flipped[10] ^= 1
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + "."
	for name, header := range map[string]string{
		"tampered signature": "Bearer " + parts[0] + "." + parts[1] + "." + string(flipped),
		"alg none":           "Bearer " + none,
		"refresh token":      "Bearer " + u.Refresh,
		"garbage":            "Bearer garbage",
		"basic scheme":       "Basic dXNlcjpwYXNz",
		"oversized":          "Bearer " + strings.Repeat("a", 8000),
	} {
		t.Run(name, func(t *testing.T) {
			call(t, "GET", "/v1/users/me", nil, "Authorization", header).Problem(t, http.StatusUnauthorized, "invalid-token")
		})
	}
	call(t, "GET", "/v1/users/me", nil).Problem(t, http.StatusUnauthorized, "invalid-token")
}

// TestGatewayAnswersAreProblems checks the answers the gateway gives before
// any service runs (no token, a bad token, a route the API does not have)
// and the services' answer to a method a path does not have (405 with
// Allow, which conformsToSpec checks). Each is a problem document whose
// requestId is X-Request-Id (expectProblem checks that). Where the gateway
// runs no authorizer (LocalStack's free plan), the 401s come from the
// services, alike.
func TestGatewayAnswersAreProblems(t *testing.T) {
	t.Parallel()
	u := signUp(t, "methods")
	cases := []struct {
		name, method, path string
		headers            []string
		status             int
		slug               string
	}{
		{"no token", "GET", "/v1/orders", nil, 401, "invalid-token"},
		{"bad token", "POST", "/v1/auth/logout", []string{"Authorization", "Bearer not.a.token"}, 401, "invalid-token"},
		{"unknown route", "GET", "/v1/no-such-route", nil, 404, "not-found"},
		{"outside the API version", "GET", "/v2/health", nil, 404, "not-found"},
		{"method a public path does not have", "DELETE", "/v1/health", nil, 405, "method-not-allowed"},
		{"method a path with a parameter does not have", "PUT", "/v1/products/COF-ESP-250", nil, 405, "method-not-allowed"},
		{"OPTIONS", "OPTIONS", "/v1/auth/login", nil, 405, "method-not-allowed"},
		{"method a protected path does not have", "PUT", "/v1/orders/01ZZZZZZZZZZZZZZZZZZZZZZZZ/cancel", u.bearer(), 405, "method-not-allowed"},
		{"method a protected path does not have, no token", "DELETE", "/v1/users/me", nil, 401, "invalid-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			call(t, tc.method, tc.path, nil, tc.headers...).Problem(t, tc.status, tc.slug)
		})
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	r := call(t, "GET", "/v1/health", nil, "X-Request-Id", "client-chosen-id-123")
	if got := r.Header.Get("X-Request-Id"); got != "client-chosen-id-123" {
		t.Fatalf("X-Request-Id = %q, want the client's", got)
	}
	r = call(t, "GET", "/v1/health", nil, "X-Request-Id", "bad id with spaces")
	if got := r.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("unsafe X-Request-Id replaced by %q", got)
	}
}
