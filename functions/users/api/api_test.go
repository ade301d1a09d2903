package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

const (
	testVersion = "v1.2.3-test"
	address     = "198.51.100.7" // the client's address, as API Gateway saw it
)

// harness is the API wired through the real use cases to an in-memory
// store, a settable clock and a test signing key (apptest.Env), and a
// client of it. No answer and no log line may hold a password hash, a
// stored token hash, or a password or refresh token the test sent or was
// sent (checked on every answer and at the end).
type harness struct {
	*apitest.Client
	*apptest.Env
	t      *testing.T
	server *web.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{Env: apptest.NewEnv(t), t: t}
	h.server = api.NewHandler(h.Log, api.Config{Service: h.Svc, Verifier: h.Verifier, JWKS: []byte(h.Auth.JWKS(t)), Version: testVersion, Metrics: h.Metrics})
	h.Client = &apitest.Client{Handler: h.server}
	return h
}

// request is a request to route ("POST /v1/auth/login") from address with
// body (nil: none; a string as it is; anything else as JSON), as the
// caller when not nil.
func (h *harness) request(route string, as *principal.Principal, body any) *http.Request {
	method, path, _ := strings.Cut(route, " ")
	req := apitest.NewRequest(method, path, body)
	req.RemoteAddr = address
	if as != nil {
		req.Header.Set("Authorization", "Bearer "+h.Auth.TokenAt(h.t, *as, h.Clock.Now()))
	}
	return req
}

// do sends the request and returns the answer, having checked it
// (apitest.Client.Do, and for leaks), and remembers a refresh token or a
// device token it carries as secrets.
func (h *harness) do(route string, as *principal.Principal, body any) *apitest.Response {
	h.t.Helper()
	return h.send(h.request(route, as, body))
}

func (h *harness) send(req *http.Request) *apitest.Response {
	h.t.Helper()
	resp := h.Do(h.t, req)
	h.CheckLeaks("the answer to "+req.Method+" "+req.URL.Path, resp.Body)
	var v struct{ RefreshToken, DeviceToken string }
	if json.Unmarshal([]byte(resp.Body), &v) == nil {
		h.Remember(v.RefreshToken, v.DeviceToken)
	}
	return resp
}

// want checks the status of an answer that is no problem, and decodes
// its JSON body (if any) into a map.
func want(t *testing.T, resp *apitest.Response, status int) map[string]any {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, resp.Body)
	}
	var m map[string]any
	if resp.Body != "" {
		resp.JSON(t, &m)
	}
	return m
}

// ada registers Ada and logs her in; it returns her principal and the
// token pair of the login.
func (h *harness) ada() (*principal.Principal, map[string]any) {
	h.t.Helper()
	h.Remember(apptest.AdaPassword)
	m := want(h.t, h.do("POST /v1/auth/register", nil, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword, "name": apptest.AdaName}), http.StatusCreated)
	pair := want(h.t, h.do("POST /v1/auth/login", nil, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword}), http.StatusOK)
	return &principal.Principal{UserID: m["id"].(string), Email: apptest.AdaEmail, Name: apptest.AdaName}, pair
}

// lastLink is the token of the newest link queued for mailing, read as the
// notification service would.
func (h *harness) lastLink() string {
	h.t.Helper()
	out := h.Mem.Outbox()
	if len(out) == 0 {
		h.t.Fatal("no link was queued")
	}
	link := apptest.Token(h.t, out[len(out)-1])
	h.Remember(link)
	return link
}

// keys lists the keys of m, sorted, comma-separated.
func keys(m map[string]any) string { return strings.Join(slices.Sorted(maps.Keys(m)), ",") }

// TestJourney takes every route once, as a client does, and checks what
// the API layer adds to the use cases: each route's status, body and
// headers; one access log line per request, and the use cases' metrics
// flushed. (What the use cases do is app's tests'.)
func TestJourney(t *testing.T) {
	h := newHarness(t)
	const fresh, changed = "a completely new passphrase", "another long passphrase"
	h.Remember(fresh, changed)

	if m := want(t, h.do("GET /v1/health", nil, nil), 200); keys(m) != "status,version" || m["status"] != "ok" || m["version"] != testVersion {
		t.Errorf("health %v", m)
	}
	jwks := h.do("GET /.well-known/jwks.json", nil, nil)
	if ks, err := token.ParseJWKS([]byte(jwks.Body)); err != nil || len(ks) != 1 || ks[0].ID != h.Auth.Signer().KeyID() ||
		jwks.Header.Get("Content-Type") != "application/jwk-set+json" || jwks.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("JWKS %v %s: %v", jwks.Header, jwks.Body, err)
	}

	h.Remember(apptest.AdaPassword)
	reg := want(t, h.do("POST /v1/auth/register", nil, map[string]string{"email": " Ada@Example.com", "password": apptest.AdaPassword, "name": apptest.AdaName}), 201)
	if keys(reg) != "createdAt,email,emailVerified,id,name" || reg["email"] != apptest.AdaEmail || reg["emailVerified"] != false || reg["createdAt"] != "2025-03-01T12:00:00Z" {
		t.Errorf("registered %v", reg)
	}
	ada := &principal.Principal{UserID: reg["id"].(string), Email: apptest.AdaEmail, Name: apptest.AdaName}
	if m := want(t, h.do("POST /v1/auth/verify-email", nil, map[string]string{"token": h.lastLink()}), 200); keys(m) != "deviceToken" {
		t.Errorf("verified %v", m)
	}
	pair := want(t, h.do("POST /v1/auth/login", nil, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword}), 200)
	if keys(pair) != "accessToken,deviceToken,expiresIn,refreshToken,tokenType" || pair["tokenType"] != "Bearer" || pair["expiresIn"] != 900.0 {
		t.Errorf("login %v", pair)
	}
	if _, ok := account.ParseDeviceToken(pair["deviceToken"].(string)); !ok {
		t.Errorf("device token %v", pair["deviceToken"])
	}
	pair = want(t, h.do("POST /v1/auth/refresh", nil, map[string]any{"refreshToken": pair["refreshToken"]}), 200)
	if keys(pair) != "accessToken,expiresIn,refreshToken,tokenType" {
		t.Errorf("refresh %v", pair)
	}
	// The access token the API issued is the caller's.
	req := h.request("GET /v1/users/me", nil, nil)
	req.Header.Set("Authorization", "Bearer "+pair["accessToken"].(string))
	if m := want(t, h.send(req), 200); keys(m) != "createdAt,email,emailVerified,id,name,updatedAt" || m["id"] != ada.UserID || m["emailVerified"] != true {
		t.Errorf("profile %v", m)
	}
	h.Clock.Advance(time.Hour)
	if m := want(t, h.do("PATCH /v1/users/me", ada, `{"name":" Ada K. "}`), 200); m["name"] != "Ada K." || m["updatedAt"] != "2025-03-01T13:00:00Z" {
		t.Errorf("renamed %v", m)
	}
	if m := want(t, h.do("POST /v1/auth/verify-email/resend", ada, nil), 202); keys(m) != "status" || m["status"] != "accepted" {
		t.Errorf("resend %v", m)
	}
	known, unknown := h.do("POST /v1/auth/password-reset", nil, `{"email":"ada@example.com"}`), h.do("POST /v1/auth/password-reset", nil, `{"email":"nobody@example.com"}`)
	if want(t, known, 202)["status"] != "accepted" || unknown.StatusCode != known.StatusCode || unknown.Body != known.Body {
		t.Errorf("password reset answers differ: %s, %s", known.Body, unknown.Body)
	}
	if m := want(t, h.do("POST /v1/auth/password-reset/confirm", nil, map[string]string{"token": h.lastLink(), "newPassword": fresh}), 200); keys(m) != "deviceToken" {
		t.Errorf("reset %v", m)
	}
	if r := h.do("POST /v1/users/me/password", ada, map[string]string{"currentPassword": fresh, "newPassword": changed}); want(t, r, 204) != nil {
		t.Errorf("password change answered a body: %s", r.Body)
	}
	pair = want(t, h.do("POST /v1/auth/login", nil, map[string]string{"email": apptest.AdaEmail, "password": changed}), 200)
	if r := h.do("POST /v1/auth/logout", ada, map[string]any{"refreshToken": pair["refreshToken"]}); want(t, r, 204) != nil {
		t.Errorf("logout answered a body: %s", r.Body)
	}
	want(t, h.do("POST /v1/auth/register", nil, `{"email":"grace@example.com","password":"a long enough password","name":"Grace"}`), 201)
	if r := h.do("POST /v1/auth/cancel-registration", nil, map[string]string{"token": h.lastLink()}); want(t, r, 204) != nil {
		t.Errorf("cancel answered a body: %s", r.Body)
	}

	if n := len(h.Lines("request")); n != 17 {
		t.Errorf("%d access log lines, want 17", n)
	}
	if totals := h.Counts(); totals[app.MetricRegistered] != 2 || totals[app.MetricLoginSuccess] != 2 || totals[app.MetricEmailVerified] != 1 {
		t.Errorf("EMF totals %v", totals)
	}
}
