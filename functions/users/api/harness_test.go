package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/httpapi"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

const (
	testIssuer   = "https://users.shop.test"
	testAudience = "shop-api"
	testVersion  = "v1.2.3-test"
)

var (
	signingKeyOnce sync.Once
	signingKey     *ecdsa.PrivateKey
)

func testSigner(t testing.TB) *token.ECDSASigner {
	t.Helper()
	signingKeyOnce.Do(func() {
		signingKey = apitest.NewKey()
	})
	s, err := token.NewECDSASigner(signingKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is one API wired through the real use cases to an in-memory
// store, a fixed clock and an in-memory signing key.
type fixture struct {
	t        *testing.T
	mem      *apptest.MemStore
	store    *apptest.FakeStore
	sealer   *apptest.Sealer
	clock    *apptest.Clock
	ids      apptest.IDs
	handler  *httpapi.Router
	svc      *app.Service
	issuer   *token.Issuer
	verifier *token.Verifier
	jwks     []byte
	keyID    string
	logs     *syncBuffer

	mu        sync.Mutex
	sensitive []string // plain passwords and raw refresh tokens seen
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	signer := testSigner(t)
	jwks, err := token.JWKS([]token.PublicKey{signer.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		t:      t,
		mem:    apptest.NewMemStore(),
		clock:  apptest.NewClock(),
		sealer: &apptest.Sealer{},
		logs:   &syncBuffer{},
		jwks:   jwks,
		keyID:  signer.KeyID(),
	}
	f.store = apptest.NewFakeStore(f.mem)
	f.verifier = token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, f.clock.Now)
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.issuer = token.NewIssuer(signer, testIssuer, testAudience, token.DefaultTTL, f.clock.Now)
	svc := app.New(app.Config{
		Accounts: f.store,
		Sessions: f.store,
		Attempts: f.store,
		Links:    f.store,
		Requests: f.store,
		Sealer:   f.sealer,
		Issuer:   f.issuer,
		Hashing:  apptest.CheapHashing,
		Log:      log,
		NewID:    f.ids.Next,
		Now:      f.clock.Now,
		// The fixture's clock stands still: every request falls in the same
		// second. TestCostlyRoutesAreLimitedPerSecond sets the real limit.
		SourceRequestsPerSecond: 1 << 20,
	})
	f.svc = svc
	f.handler = api.NewHandler(log, api.Config{
		Service:  svc,
		Verifier: f.verifier,
		JWKS:     jwks,
		Version:  testVersion,
	})
	t.Cleanup(f.checkLogs)
	return f
}

func (f *fixture) remember(secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sensitive = append(f.sensitive, secret)
}

// checkLogs fails the test if a password, a refresh token or a stored hash
// was ever logged.
func (f *fixture) checkLogs() {
	logs := f.logs.String()
	f.mu.Lock()
	secrets := append(append([]string(nil), f.sensitive...), f.mem.Secrets()...)
	f.mu.Unlock()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			f.t.Errorf("logs contain the secret %q:\n%s", s, logs)
		}
	}
	if strings.Contains(logs, "argon2") {
		f.t.Errorf("logs contain a password hash:\n%s", logs)
	}
}

// caller is a principal to call protected routes as.
func caller(id, email, name string) *principal.Principal {
	return &principal.Principal{UserID: id, Email: email, Name: name}
}

// event builds the API Gateway REST API event of a request to routeKey,
// with bearer as its access token ("" for none).
func event(routeKey, body, bearer string) events.APIGatewayProxyRequest {
	return apitest.Request{Route: routeKey, Body: body, Bearer: bearer}.Event()
}

// tokenFor is an access token of p, issued now on the fixture's clock, in
// the session apitest.SessionID.
func (f *fixture) tokenFor(p principal.Principal) string {
	f.t.Helper()
	raw, _, err := f.issuer.Issue(context.Background(), token.Subject{
		UserID: p.UserID, Email: p.Email, Name: p.Name, EmailVerified: p.EmailVerified, SessionID: apitest.SessionID,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

// response is what the handler answered.
type response struct {
	status  int
	headers map[string]string
	body    []byte
}

// do sends a request, with an access token of as unless it is nil, and
// checks what every response must satisfy.
func (f *fixture) do(routeKey string, as *principal.Principal, body string) response {
	f.t.Helper()
	bearer := ""
	if as != nil {
		bearer = f.tokenFor(*as)
	}
	return f.send(event(routeKey, body, bearer))
}

func (f *fixture) send(ev events.APIGatewayProxyRequest) response {
	f.t.Helper()
	route := ev.HTTPMethod + " " + ev.Resource
	out, err := f.handler.Handle(context.Background(), ev)
	if err != nil {
		f.t.Fatalf("%s: Handle returned error %v", route, err)
	}
	return f.answer(route, out)
}

// answer checks what the handler answered to a request to route, and
// remembers the refresh token it may carry.
func (f *fixture) answer(route string, out events.APIGatewayProxyResponse) response {
	f.t.Helper()
	r := response{status: out.StatusCode, headers: out.Headers, body: []byte(out.Body)}
	f.checkResponse(route, r)
	var pair struct {
		RefreshToken string `json:"refreshToken"`
	}
	if json.Unmarshal(r.body, &pair) == nil && pair.RefreshToken != "" {
		f.remember(pair.RefreshToken)
	}
	return r
}

func (f *fixture) checkResponse(route string, r response) {
	f.t.Helper()
	if strings.Contains(strings.ToLower(string(r.body)), "argon2") {
		f.t.Errorf("%s: response body contains a password hash: %s", route, r.body)
	}
	for _, s := range f.mem.Secrets() {
		if s != "" && bytes.Contains(r.body, []byte(s)) {
			f.t.Errorf("%s: response body contains the stored hash %q: %s", route, s, r.body)
		}
	}
	apitest.CheckAnswer(f.t, route, events.APIGatewayProxyResponse{StatusCode: r.status, Headers: r.headers, Body: string(r.body)})
}

// problem checks that r is a problem of status and slug and returns it.
func (r response) problem(t *testing.T, status int, slug string) problemDoc {
	t.Helper()
	return problemDoc{apitest.WantProblem(t, events.APIGatewayProxyResponse{StatusCode: r.status, Headers: r.headers, Body: string(r.body)}, status, slug)}
}

// problemDoc is a problem answer of the users API.
type problemDoc struct{ apitest.Problem }

// fields lists the fields of a validation problem, sorted.
func (p problemDoc) fields() []string {
	out := p.Fields()
	sort.Strings(out)
	return out
}

// object decodes a JSON object response after checking its status.
func (r response) object(t *testing.T, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.headers["Content-Type"]; ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// keysOf returns the sorted keys of m.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// register creates a user through the API and returns its id.
func (f *fixture) register(email, pass, name string) string {
	f.t.Helper()
	f.remember(pass)
	r := f.do("POST /v1/auth/register", nil, jsonBody(f.t, map[string]string{"email": email, "password": pass, "name": name}))
	m := r.object(f.t, http.StatusCreated)
	id, _ := m["id"].(string)
	if id == "" {
		f.t.Fatalf("register: no id in %s", r.body)
	}
	return id
}

// tokenPair is the body of a successful login or refresh.
type tokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	DeviceToken  string `json:"deviceToken"` // from a login only
}

func (f *fixture) loginResponse(email, pass string) response {
	f.t.Helper()
	f.remember(pass)
	return f.do("POST /v1/auth/login", nil, jsonBody(f.t, map[string]string{"email": email, "password": pass}))
}

// login logs in and returns the token pair, failing the test otherwise.
func (f *fixture) login(email, pass string) tokenPair {
	f.t.Helper()
	return f.loginWithDevice(email, pass, "")
}

// loginWithDevice logs in presenting a device token ("" for none) and
// returns the token pair with the next device token.
func (f *fixture) loginWithDevice(email, pass, device string) tokenPair {
	f.t.Helper()
	f.remember(pass)
	body := map[string]string{"email": email, "password": pass}
	if device != "" {
		body["deviceToken"] = device
	}
	p := f.pair(f.do("POST /v1/auth/login", nil, jsonBody(f.t, body)))
	if _, ok := account.ParseDeviceToken(p.DeviceToken); !ok {
		f.t.Errorf("login returned device token %q", p.DeviceToken)
	}
	f.remember(p.DeviceToken)
	return p
}

func (f *fixture) refreshResponse(refresh string) response {
	f.t.Helper()
	return f.do("POST /v1/auth/refresh", nil, jsonBody(f.t, map[string]string{"refreshToken": refresh}))
}

// pair decodes and checks a token pair response.
func (f *fixture) pair(r response) tokenPair {
	f.t.Helper()
	m := r.object(f.t, http.StatusOK)
	keys := strings.Join(keysOf(m), ",")
	if keys != "accessToken,expiresIn,refreshToken,tokenType" && keys != "accessToken,deviceToken,expiresIn,refreshToken,tokenType" {
		f.t.Errorf("token pair has keys %s", keys)
	}
	var p tokenPair
	if err := json.Unmarshal(r.body, &p); err != nil {
		f.t.Fatal(err)
	}
	if p.TokenType != "Bearer" || p.ExpiresIn != 900 {
		f.t.Errorf("tokenType %q expiresIn %d, want Bearer 900", p.TokenType, p.ExpiresIn)
	}
	if _, err := account.ParseRefreshToken(p.RefreshToken); err != nil {
		f.t.Errorf("refresh token %q does not parse: %v", p.RefreshToken, err)
	}
	return p
}

// ada registers Ada and returns her id and the principal of her requests.
func (f *fixture) ada() (string, *principal.Principal) {
	f.t.Helper()
	id := f.register(apptest.AdaEmail, apptest.AdaPassword, apptest.AdaName)
	return id, caller(id, apptest.AdaEmail, apptest.AdaName)
}
