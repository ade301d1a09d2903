package api_test

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
	"github.com/serverless-shop/backend/shared/web"
)

// Placeholders a fuzzed request may carry, replaced before it is sent by
// secrets of the harness's account, which are random in every run: a seed
// can hold a working refresh token or emailed link without knowing it.
const (
	phRefresh = "$REFRESH" // Ada's refresh token
	phVerify  = "$VERIFY"  // the token of her email verification link
	phReset   = "$RESET"   // the token of her password reset link
	phDevice  = "$DEVICE"  // the device token her login handed out
)

// userRouteSeeds are a body per route that the route accepts (see
// TestFuzzUsersRouteSeedsSucceed), taken from the handler tests. They name
// only the fields each route has now; a new optional field keeps them
// valid.
var userRouteSeeds = map[string]string{
	"GET /.well-known/jwks.json":           ``,
	"GET /v1/health":                       ``,
	"GET /v1/users/me":                     ``,
	"POST /v1/auth/cancel-registration":    `{"token":"` + phVerify + `"}`,
	"PATCH /v1/users/me":                   `{"name":"Ada K."}`,
	"POST /v1/auth/login":                  `{"email":"ada@example.com","password":"correct horse battery staple"}`,
	"POST /v1/auth/logout":                 `{"refreshToken":"` + phRefresh + `"}`,
	"POST /v1/auth/password-reset":         `{"email":"ada@example.com"}`,
	"POST /v1/auth/password-reset/confirm": `{"token":"` + phReset + `","newPassword":"a brand new passphrase"}`,
	"POST /v1/auth/refresh":                `{"refreshToken":"` + phRefresh + `"}`,
	"POST /v1/auth/register":               `{"email":"grace@example.com","password":"a long enough password","name":"Grace Hopper"}`,
	"POST /v1/auth/verify-email":           `{"token":"` + phVerify + `"}`,
	"POST /v1/auth/verify-email/resend":    ``,
	"POST /v1/users/me/password":           `{"currentPassword":"correct horse battery staple","newPassword":"a brand new passphrase"}`,
}

// invalidRequests are variations sent to every route as seeds: a bit of
// everything a client can get wrong.
var invalidRequests = []apitest.FuzzRequest{
	{Body: `{}`},
	{Body: `{"email":"ada@example.com","email":7}`, Query: "email=ada@example.com"},
	{Body: `{"email":"ada@example.com","EMAIL":"grace@example.com","Password":"x"}`},
	{Body: `{"name":"Ada","id":"01HZX3YQ7A8B9C0D1E2F3G0002","createdAt":"2025-01-01T00:00:00Z"}`},
	{Body: `{"name":null}`, Headers: "Content-Type: application/merge-patch+json"},
	{Body: `{"refreshToken":"rt1.` + apptest.FirstID + `.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`},
	{Body: `{"refreshToken":"` + phRefresh + `x","token":"` + phVerify + `"}`},
	{Body: `{"token":"ev1.` + apptest.FirstID + `.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","newPassword":""}`},
	{Body: `{"token":"` + phVerify + `","newPassword":"a brand new passphrase"}`},
	{Body: `[{"email":"ada@example.com"}]`, Headers: "X-Request-Id: " + strings.Repeat("r", 129)},
	{Body: `{"email":"ada@example.com"} {}`, Headers: "Content-Type: application/json; charset=\"utf-8"},
	{Body: `{"password":"` + strings.Repeat("p", 2000) + `"}`},
	{Body: `{"email":"` + strings.Repeat("a", 70<<10) + `"}`},
	{Body: `{"name":"\u0000\u202e","currentPassword":1e400}`},
	{Body: `{"email":`, Flags: apitest.FlagNoCT},
	{Body: `{"email":"ada@example.com","password":"correct horse battery staple"}`, Headers: "Content-Type: text/plain"},
	{Body: `{"email":"ada@example.com","password":"correct horse battery staple","deviceToken":"` + phDevice + `"}`},
	{Body: `{"email":"ada@example.com","password":"not her password","deviceToken":"dv1.` + strings.Repeat("A", 43) + `"}`},
	{Body: `{"email":"ada@example.com","password":"correct horse battery staple","deviceToken":["` + phDevice + `"]}`},
	{Body: "\xff\xfe", Flags: apitest.FlagBase64Flag},
	{Body: `{"refreshToken":"` + phRefresh + `"}`, Flags: apitest.FlagNoBearer},
	{Headers: "Authorization: Bearer " + phRefresh + "\nX-Request-Id: client-request-0001"},
	{Headers: "authorization: Basic YWRhOnB3\nIf-None-Match: *"},
}

// fuzzHarness is a harness with Ada registered and logged in, and a
// password reset link mailed to her: the secrets that stand in for the
// placeholders. The setup goes around the harness's leak checks, for a
// fuzzed request may carry these secrets anywhere, and be echoed.
type fuzzHarness struct {
	*harness
	bearer string
	fill   *strings.Replacer
}

func newFuzzHarness(t *testing.T) *fuzzHarness {
	t.Helper()
	h := newHarness(t)
	want(t, h.Do(t, h.request("POST /v1/auth/register", nil, `{"email":"`+apptest.AdaEmail+`","password":"`+apptest.AdaPassword+`","name":"`+apptest.AdaName+`"}`)), http.StatusCreated)
	pair := want(t, h.Do(t, h.request("POST /v1/auth/login", nil, `{"email":"`+apptest.AdaEmail+`","password":"`+apptest.AdaPassword+`"}`)), http.StatusOK)
	want(t, h.Do(t, h.request("POST /v1/auth/password-reset", nil, `{"email":"`+apptest.AdaEmail+`"}`)), http.StatusAccepted)
	out := h.Mem.Outbox()
	if len(out) != 2 {
		t.Fatalf("setup queued %d emails, want the verification and the reset", len(out))
	}
	return &fuzzHarness{
		harness: h,
		bearer:  pair["accessToken"].(string),
		fill: strings.NewReplacer(phRefresh, pair["refreshToken"].(string), phVerify, apptest.Token(t, out[0]), phReset, apptest.Token(t, out[1]),
			phDevice, pair["deviceToken"].(string)),
	}
}

// request is r as Ada sends it: with her access token on a protected
// route and the placeholders in every part replaced.
func (h *fuzzHarness) request(r apitest.FuzzRequest) *http.Request {
	if slices.Contains(h.server.Routes(), web.Route{Pattern: r.Route, Protected: true}) {
		r.Bearer = h.bearer
	}
	r.Param, r.Query, r.Headers, r.Body = h.fill.Replace(r.Param), h.fill.Replace(r.Query), h.fill.Replace(r.Headers), h.fill.Replace(r.Body)
	req := r.HTTP()
	req.RemoteAddr = address
	return req
}

// send sends r (request) and returns the answer, having checked what every
// answer to any request must satisfy: the harness's checks for leaked
// secrets, and apitest.Response.CheckFuzz's.
func (h *fuzzHarness) send(r apitest.FuzzRequest) *apitest.Response {
	h.t.Helper()
	resp := h.harness.send(h.request(r))
	resp.CheckFuzz(h.t)
	return resp
}

// usersRouteKeys are the route keys of the API, sorted.
func usersRouteKeys() []string {
	var routes []string
	for _, r := range api.NewHandler(slog.New(slog.DiscardHandler), api.Config{Verifier: token.NewVerifier(nil, "", "", nil)}).Routes() {
		routes = append(routes, r.Pattern)
	}
	slices.Sort(routes)
	return routes
}

// FuzzUsersRoutes sends fuzzed requests (query string, headers and body;
// the users routes have no path parameters) to the users API's routes
// through the real server and use cases, on the in-memory stores, as Ada:
// to the route the input names, or to every route in turn when it names
// none. No answer may be a 5xx (a handler's panic is one: the server
// recovers it as a 500), every answer that is not a success must be a
// problem document of its status (apitest.Response.CheckFuzz), and no
// answer or log line may hold a password hash, a stored token hash or an
// issued refresh token (the harness's checks).
func FuzzUsersRoutes(f *testing.F) {
	routes := usersRouteKeys()
	for _, route := range routes {
		body, ok := userRouteSeeds[route]
		if !ok {
			f.Fatalf("no seed for the route %s", route)
		}
		apitest.AddFuzzSeed(f, apitest.FuzzRequest{Route: route, Body: body})
		for _, r := range invalidRequests {
			r.Route = route
			apitest.AddFuzzSeed(f, r)
		}
	}
	login := userRouteSeeds["POST /v1/auth/login"]
	apitest.AddFuzzSeed(f, apitest.FuzzRequest{Body: login, Flags: apitest.FlagBase64})
	apitest.AddFuzzSeed(f, apitest.FuzzRequest{Route: "POST /v1/auth/login", Body: login, Flags: apitest.FlagBase64})
	apitest.AddFuzzSeed(f, apitest.FuzzRequest{Route: "POST /v1/auth/login", Body: "not base64", Flags: apitest.FlagBase64Flag})
	apitest.AddFuzzSeed(f, apitest.FuzzRequest{Route: "POST /v1/auth/refresh", Body: userRouteSeeds["POST /v1/auth/refresh"], Flags: apitest.FlagNoCT})

	f.Fuzz(func(t *testing.T, route, param, query, headers, body string, flags uint8) {
		if strings.Contains(strings.ToLower(param+query+headers+body), "argon2") {
			// The harness fails any answer or log line that mentions
			// argon2, which an echoed field name or request id may.
			t.Skip()
		}
		h := newFuzzHarness(t)
		targets := routes
		if slices.Contains(routes, route) {
			targets = []string{route}
		}
		for _, route := range targets {
			h.send(apitest.FuzzRequest{Route: route, Param: param, Query: query, Headers: headers, Body: body, Flags: flags})
		}
	})
}

// TestFuzzUsersRouteSeedsSucceed keeps FuzzUsersRoutes' valid seeds valid:
// each is a success of its route.
func TestFuzzUsersRouteSeedsSucceed(t *testing.T) {
	for route, body := range userRouteSeeds {
		t.Run(route, func(t *testing.T) {
			h := newFuzzHarness(t)
			if r := h.send(apitest.FuzzRequest{Route: route, Body: body}); r.StatusCode < 200 || r.StatusCode > 299 {
				t.Errorf("%s answered %d to its seed: %s", route, r.StatusCode, r.Body)
			}
		})
	}
}
