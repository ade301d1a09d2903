package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app/apptest"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
)

// TestProblems pins what each error of the users service tells the
// client: the status, the problem type, the detail and Retry-After. (That
// a wrong password and an unknown email are the one error is app's
// TestLoginBadCredentials.)
func TestProblems(t *testing.T) {
	gone := &principal.Principal{UserID: "01HZX3YQ7A8B9C0D1E2F3G4H5J", Email: "gone@example.com"}
	wrongLogin := map[string]string{"email": apptest.AdaEmail, "password": "not the right password"}
	tests := []struct {
		name       string
		req        func(h *harness) *apitest.Response
		status     int
		slug       string
		detail     string
		retryAfter string
	}{
		{"validation", func(h *harness) *apitest.Response { return h.do("POST /v1/auth/register", nil, `{}`) },
			400, "validation", "The request has invalid fields.", ""},
		{"email taken", func(h *harness) *apitest.Response {
			h.ada()
			return h.do("POST /v1/auth/register", nil, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword, "name": "Twin"})
		}, 409, "email-taken", "An account with this email already exists.", ""},
		{"unknown user", func(h *harness) *apitest.Response { return h.do("GET /v1/users/me", gone, nil) },
			404, "not-found", "The user does not exist.", ""},
		{"invalid refresh token", func(h *harness) *apitest.Response {
			return h.do("POST /v1/auth/refresh", nil, `{"refreshToken":"garbage"}`)
		},
			401, "invalid-refresh-token", "The refresh token is invalid, expired or revoked.", ""},
		{"reused refresh token", func(h *harness) *apitest.Response {
			_, pair := h.ada()
			h.do("POST /v1/auth/refresh", nil, map[string]any{"refreshToken": pair["refreshToken"]})
			return h.do("POST /v1/auth/refresh", nil, map[string]any{"refreshToken": pair["refreshToken"]})
		}, 401, "invalid-refresh-token", "The refresh token is invalid, expired or revoked.", ""},
		{"stale write", func(h *harness) *apitest.Response {
			ada, _ := h.ada()
			h.Mem.Watch("ChangePassword", account.ErrStaleWrite)
			return h.do("POST /v1/users/me/password", ada, map[string]string{"currentPassword": apptest.AdaPassword, "newPassword": "a brand new passphrase"})
		}, 409, "conflict", "The account changed while the request was processed; retry it.", ""},
		{"bad credentials", func(h *harness) *apitest.Response { return h.do("POST /v1/auth/login", nil, wrongLogin) },
			401, "invalid-credentials", "The email or password is incorrect.", ""},
		{"wrong current password", func(h *harness) *apitest.Response {
			ada, _ := h.ada()
			return h.do("POST /v1/users/me/password", ada, map[string]string{"currentPassword": "not my password", "newPassword": "a brand new passphrase"})
		}, 401, "invalid-credentials", "The current password is incorrect.", ""},
		{"invalid link", func(h *harness) *apitest.Response {
			return h.do("POST /v1/auth/verify-email", nil, `{"token":"ev1.garbage"}`)
		},
			400, "invalid-token", "The link is invalid, has expired or was already used. Ask for a new one.", ""},
		{"too many attempts", func(h *harness) *apitest.Response {
			h.ada()
			for range account.AccountThrottle.Free + 1 {
				h.do("POST /v1/auth/login", nil, wrongLogin)
			}
			return h.do("POST /v1/auth/login", nil, map[string]string{"email": apptest.AdaEmail, "password": apptest.AdaPassword})
		}, 429, "too-many-attempts", "Too many password attempts. Wait for the time Retry-After gives, or log in from a device that logged in before.", "1"},
		{"too many requests from the address", func(h *harness) *apitest.Response {
			h.Mem.Watch("CountRequest", account.Limited(time.Hour))
			return h.do("POST /v1/auth/verify-email", nil, `{"token":"x"}`)
		}, 429, "too-many-requests", "Too many requests from this address. Try again after the time Retry-After gives.", "3600"},
		{"too many refreshes of a session", func(h *harness) *apitest.Response {
			_, pair := h.ada()
			for range account.DefaultRefreshesPerHour {
				pair = want(h.t, h.do("POST /v1/auth/refresh", nil, map[string]any{"refreshToken": pair["refreshToken"]}), 200)
			}
			return h.do("POST /v1/auth/refresh", nil, map[string]any{"refreshToken": pair["refreshToken"]})
		}, 429, "too-many-requests", "This session was refreshed too often this hour. Try again after the time Retry-After gives.", "3600"},
		{"too many logouts", func(h *harness) *apitest.Response {
			ada, pair := h.ada()
			h.Mem.Watch("RevokeSession", account.Limited(time.Minute))
			return h.do("POST /v1/auth/logout", ada, map[string]any{"refreshToken": pair["refreshToken"]})
		}, 429, "too-many-requests", "Too many logouts and password changes for this account this hour. Try again after the time Retry-After gives.", "60"},
		{"too many emails", func(h *harness) *apitest.Response {
			h.Mem.Watch("IssueLink", account.Limited(time.Minute))
			return h.do("POST /v1/auth/password-reset", nil, `{"email":"nobody@example.com"}`)
		}, 429, "too-many-requests", "Too many emails of this kind were asked for this address. Try again later.", "60"},
		{"account mail paused", func(h *harness) *apitest.Response {
			h.Svc.AccountMailPaused = true
			return h.do("POST /v1/auth/password-reset", nil, `{"email":"nobody@example.com"}`)
		}, 503, "account-mail-paused", "Registration, verification and password reset emails are paused for now. Try again after the time Retry-After gives.", "3600"},
		{"account mail past the hour's cap", func(h *harness) *apitest.Response {
			h.Svc.AccountMailPerHour = 1
			h.ada()
			return h.do("POST /v1/auth/register", nil, `{"email":"grace@example.com","password":"a long enough password","name":"Grace"}`)
		}, 503, "account-mail-limit", "The shop has sent as many registration and verification emails this hour as it may. Try again after the time Retry-After gives.", "3600"},
		{"internal", func(h *harness) *apitest.Response {
			ada, _ := h.ada()
			h.Mem.Watch("User", errors.New("dynamodb: ProvisionedThroughputExceededException on arn:aws:dynamodb:eu-west-1:1234:table/users"))
			return h.do("GET /v1/users/me", ada, nil)
		}, 500, "internal", "An internal error occurred. Quote the X-Request-Id header when reporting it.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			resp := tt.req(h)
			if p := resp.Problem(t, tt.status, tt.slug); p.Detail != tt.detail {
				t.Errorf("detail %q, want %q", p.Detail, tt.detail)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
			}
			if tt.status == 500 && (strings.Contains(resp.Body, "arn:aws") || strings.Count(h.Logs(), "ProvisionedThroughputExceededException") != 1) {
				t.Errorf("the cause is in the body, or not logged once: %s\n%s", resp.Body, h.Logs())
			}
		})
	}
}

// TestBadBodies sends a body that is no JSON object to every route that
// takes one: each refuses it before any use case runs.
func TestBadBodies(t *testing.T) {
	h := newHarness(t)
	ada := &principal.Principal{UserID: apptest.FirstID, Email: apptest.AdaEmail}
	for _, rt := range h.server.Routes() {
		if strings.HasPrefix(rt.Pattern, "GET ") || rt.Pattern == "POST /v1/auth/verify-email/resend" {
			continue
		}
		h.do(rt.Pattern, ada, `[]`).Problem(t, 400, "invalid-request")
	}
	if len(h.Mem.Outbox()) != 0 || len(h.Mem.Secrets()) != 0 {
		t.Error("a refused body reached a use case")
	}
}

// TestUpdateMeRejects: PATCH /v1/users/me names every field it refuses
// in one answer, and writes nothing. (A field given twice is web's strict
// decoding, tested there; which names are refused, account's.)
func TestUpdateMeRejects(t *testing.T) {
	tests := []struct {
		body   string
		fields []string // "field: message"
	}{
		{`{}`, []string{"name: is required"}},
		{`{"id":"x","email":"x","createdAt":"x","updatedAt":"x","role":"admin","name":"Ada"}`,
			[]string{"createdAt: is read-only", "email: is read-only", "id: is read-only", "role: is not a writable field", "updatedAt: is read-only"}},
		{`{"role":"admin","name":""}`, []string{"role: is not a writable field", "name: " + account.NameRule}},
		{`{"role":"admin"}`, []string{"role: is not a writable field"}},
		{`{"name":7}`, []string{"name: must be a string"}},
		{`{"Name":"Ada"}`, []string{"Name: is not a writable field"}},
	}
	for _, tt := range tests {
		h := newHarness(t)
		ada, _ := h.ada()
		p := h.do("PATCH /v1/users/me", ada, tt.body).Problem(t, 400, "validation")
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field+": "+e.Message)
		}
		if !slices.Equal(got, tt.fields) {
			t.Errorf("%s: fields %q, want %q", tt.body, got, tt.fields)
		}
		if u, _ := h.Mem.User(context.Background(), ada.UserID); u.Name != apptest.AdaName {
			t.Errorf("%s: the name changed to %q", tt.body, u.Name)
		}
	}
}

// That protected routes refuse a request without an access token, and
// that a method a path does not take is a 405 naming the ones it takes,
// is web's (TestServerAnswers); which routes are protected,
// internal/contract's.

// TestCostlyRoutesAreLimitedPerAddress: the costly public routes count
// against the client's address (its RemoteAddr: API Gateway's source
// IP, see web.Request), per hour and per second; login counts per second
// only, refresh not at all, and another address has limits of its own.
func TestCostlyRoutesAreLimitedPerAddress(t *testing.T) {
	hourly := []string{"POST /v1/auth/register", "POST /v1/auth/verify-email", "POST /v1/auth/cancel-registration", "POST /v1/auth/password-reset", "POST /v1/auth/password-reset/confirm"}
	for _, tc := range []struct {
		name       string
		limited    []string
		perHour    int
		perSecond  int
		retryAfter string
	}{
		{"per hour", hourly, len(hourly), 1 << 20, "3600"},
		{"per second", append([]string{"POST /v1/auth/login"}, hourly...), 1 << 20, len(hourly) + 1, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.Svc.SourceRequestsPerHour, h.Svc.SourceRequestsPerSecond = tc.perHour, tc.perSecond
			// Invalid requests count too: a flood of them is what the
			// limit is for. (A login counts once it is well formed.)
			body := func(route string) string {
				if route == "POST /v1/auth/login" {
					return `{"email":"nobody@example.com","password":"not the password at all"}`
				}
				return `{}`
			}
			for _, route := range tc.limited {
				if r := h.do(route, nil, body(route)); r.StatusCode != 400 && r.StatusCode != 401 {
					t.Fatalf("%s: %d %s", route, r.StatusCode, r.Body)
				}
			}
			for _, route := range tc.limited {
				r := h.do(route, nil, body(route))
				r.Problem(t, 429, "too-many-requests")
				if got := r.Header.Get("Retry-After"); got != tc.retryAfter {
					t.Errorf("%s: Retry-After %q, want %s", route, got, tc.retryAfter)
				}
			}
			h.do("POST /v1/auth/refresh", nil, `{}`).Problem(t, 401, "invalid-refresh-token")
			other := h.request("POST /v1/auth/register", nil, `{}`)
			other.RemoteAddr = "203.0.113.200"
			h.send(other).Problem(t, 400, "validation")
		})
	}
}

// TestAccountMailRoutesPaused: while account mail is paused the routes
// that mail an account email refuse before they count the request
// against its address.
func TestAccountMailRoutesPaused(t *testing.T) {
	h := newHarness(t)
	ada, _ := h.ada()
	h.Svc.AccountMailPaused = true
	counted := h.Mem.Watch("CountRequest", nil)
	for route, body := range map[string]string{
		"POST /v1/auth/register":            `{"email":"grace@example.com","password":"a long enough password","name":"Grace"}`,
		"POST /v1/auth/password-reset":      `{"email":"ada@example.com"}`,
		"POST /v1/auth/verify-email/resend": ``,
	} {
		var b any
		if body != "" {
			b = body
		}
		h.do(route, ada, b).Problem(t, 503, "account-mail-paused")
	}
	if counted.Load() != 0 {
		t.Errorf("paused routes counted %d requests", counted.Load())
	}
}

// throttled is DynamoDB's answer once the SDK's retries ran out, as the
// SDK returns it.
var throttled = &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "TransactWriteItems",
	Err: &retry.MaxAttemptsError{Attempt: 3, Err: &types.ProvisionedThroughputExceededException{Message: aws.String("Rate of requests exceeds the allowed throughput.")}}}

// TestEveryRouteAnswers503WhenTheTableIsOut sends every route its valid
// request (userRouteSeeds) while every store call fails as DynamoDB does
// when it throttles past the SDK's retries: each route that needs the
// table answers 503 unavailable with Retry-After, never 500.
func TestEveryRouteAnswers503WhenTheTableIsOut(t *testing.T) {
	h := newFuzzHarness(t)
	h.Mem.Before = func(string) error { return throttled }
	for _, route := range usersRouteKeys() {
		resp := h.harness.send(h.request(apitest.FuzzRequest{Route: route, Body: userRouteSeeds[route]}))
		if route == "GET /v1/health" || route == "GET /.well-known/jwks.json" { // these read no table
			want(t, resp, 200)
			continue
		}
		resp.Problem(t, 503, "unavailable")
		if got := resp.Header.Get("Retry-After"); got != "5" {
			t.Errorf("%s: Retry-After %q, want 5", route, got)
		}
	}
}

// TestCallerOnly: the access token decides whose profile it is.
func TestCallerOnly(t *testing.T) {
	h := newHarness(t)
	h.ada()
	bob := want(t, h.do("POST /v1/auth/register", nil, `{"email":"bob@example.com","password":"bob's long password","name":"Bob"}`), 201)
	m := want(t, h.do("GET /v1/users/me", &principal.Principal{UserID: bob["id"].(string), Email: apptest.AdaEmail}, nil), http.StatusOK)
	if m["id"] != bob["id"] || m["email"] != "bob@example.com" {
		t.Errorf("profile %v, want Bob's", m)
	}
}
