package authz_test

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/authorizer/authz"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

const (
	userID  = "01HZX3YQ7A8B9C0D1E2F3G4H5J"
	refresh = "Bearer rt1." + userID + ".AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // a refresh token, not an access token
)

// issuedAt is the fixed clock the tokens are minted on.
var issuedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// issue mints an access token of sub with auth's key, at issuedAt, the way
// the users service does.
func issue(t testing.TB, auth *apitest.Auth, sub token.Subject) string {
	t.Helper()
	raw, _, err := auth.Issuer(token.DefaultTTL, func() time.Time { return issuedAt }).Issue(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// newAuthorizer returns an authorizer trusting only auth's key, whose
// clock reads issuedAt+offset, and the buffer it logs to.
func newAuthorizer(auth *apitest.Auth, offset time.Duration) (*authz.Authorizer, *bytes.Buffer) {
	v := token.NewVerifier([]token.PublicKey{auth.Signer().PublicKey()}, apitest.TokenIssuer, apitest.TokenAudience,
		func() time.Time { return issuedAt.Add(offset) })
	var logs bytes.Buffer
	return authz.New(v, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), &logs
}

//go:embed testdata/request.json
var requestFixture []byte

const stageARN = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/v1"

// request is the authorizer event of a request to routeKey carrying the
// Authorization header value authorization ("" for none).
func request(routeKey, authorization string) events.APIGatewayCustomAuthorizerRequestTypeRequest {
	var ev events.APIGatewayCustomAuthorizerRequestTypeRequest
	if err := json.Unmarshal(requestFixture, &ev); err != nil {
		panic(err)
	}
	method, resource, _ := strings.Cut(routeKey, " ")
	ev.HTTPMethod, ev.Resource, ev.Path = method, resource, resource
	ev.MethodArn = stageARN + "/" + method + resource
	if authorization != "" {
		ev.Headers["Authorization"] = authorization
	}
	return ev
}

// TestHandleAllows checks the whole answer: the policy, and the context
// that shared/principal's tests read back after API Gateway's JSON round
// trip.
func TestHandleAllows(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	sub := token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada Lovelace", SessionID: "s1"}
	raw := issue(t, auth, sub)
	tests := []struct {
		name   string
		header string
		offset time.Duration // verifier clock minus issue time
		edit   func(*events.APIGatewayCustomAuthorizerRequestTypeRequest)
	}{
		{name: "fresh token", header: "Bearer " + raw},
		{name: "lower-case scheme", header: "bearer " + raw},
		{name: "upper-case scheme", header: "BEARER " + raw},
		{name: "near expiry", header: "Bearer " + raw, offset: token.DefaultTTL - time.Second},
		{name: "after expiry, within leeway", header: "Bearer " + raw, offset: token.DefaultTTL + token.Leeway - time.Second},
		{name: "clock slightly behind the issuer", header: "Bearer " + raw, offset: -token.Leeway + time.Second},
		{name: "header name in lower case", edit: func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) {
			ev.Headers["authorization"] = "Bearer " + raw
		}},
	}
	want := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: userID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{{
			Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stageARN + "/*"},
		}}},
		Context: map[string]any{"sub": userID, "email": "ada@example.com", "name": "Ada Lovelace", "email_verified": "false",
			"exp": strconv.FormatInt(issuedAt.Add(token.DefaultTTL+token.Leeway).Unix(), 10)},
	}
	for _, tt := range tests {
		a, _ := newAuthorizer(auth, tt.offset)
		ev := request("GET /v1/users/me", tt.header)
		if tt.edit != nil {
			tt.edit(&ev)
		}
		if resp, err := a.Handle(context.Background(), ev); err != nil || !reflect.DeepEqual(resp, want) {
			t.Errorf("%s: Handle = %+v, %v; want %+v", tt.name, resp, err, want)
		}
	}
}

// TestHandleDenies sends what is not a bearer token, and a token of each
// kind Verify refuses (shared/token's tests hold every way of refusing).
func TestHandleDenies(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	sub := token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada", SessionID: "s1"}
	raw := issue(t, auth, sub)
	parts := strings.Split(raw, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01

	arn := func(arn string) func(*events.APIGatewayCustomAuthorizerRequestTypeRequest) {
		return func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) { ev.MethodArn = arn }
	}
	tests := []struct {
		name   string
		header string
		offset time.Duration // verifier clock minus issue time
		edit   func(*events.APIGatewayCustomAuthorizerRequestTypeRequest)
	}{
		{name: "no headers", edit: func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) { ev.Headers = nil }},
		{name: "token anywhere but the Authorization header", edit: func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) {
			ev.Headers["X-Authorization"] = "Bearer " + raw
			ev.Headers["Cookie"] = "token=" + raw
			ev.QueryStringParameters = map[string]string{"access_token": raw}
			ev.StageVariables = map[string]string{"token": raw}
		}},
		{name: "empty header", header: ""},
		{name: "token without scheme", header: raw},
		{name: "basic scheme", header: "Basic YWRhOmNvcnJlY3QgaG9yc2U="},
		{name: "other scheme with token", header: "Token " + raw},
		{name: "DPoP scheme", header: "DPoP " + raw},
		{name: "scheme only", header: "Bearer"},
		{name: "scheme and space", header: "Bearer "},
		{name: "scheme glued to token", header: "Bearer" + raw},
		{name: "oversized header", header: "Bearer " + raw + strings.Repeat("A", token.MaxTokenBytes)},
		{name: "oversized garbage", header: "Bearer " + strings.Repeat("a.", 1<<16)},
		{name: "token twice", header: "Bearer " + raw + " " + raw},
		{name: "refresh token", header: refresh},
		{name: "opaque string", header: "Bearer d41d8cd98f00b204e9800998ecf8427e"},
		{name: "two parts", header: "Bearer " + parts[0] + "." + parts[1]},
		{name: "signature flipped", header: "Bearer " + parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)},
		{name: "signature of another token", header: "Bearer " + parts[0] + "." + parts[1] + "." + strings.Split(issue(t, auth, sub), ".")[2]},
		{name: "unknown signing key", header: "Bearer " + issue(t, apitest.NewAuth(t), sub)},
		{name: "expired", header: "Bearer " + raw, offset: token.DefaultTTL + token.Leeway + time.Second},
		{name: "not yet valid", header: "Bearer " + raw, offset: -token.Leeway - time.Minute},
		// Only API Gateway calls the authorizer, always with a method ARN:
		// anything else is refused rather than allowed.
		{name: "no method ARN", header: "Bearer " + raw, edit: arn("")},
		{name: "method ARN *", header: "Bearer " + raw, edit: arn("*")},
		{name: "method ARN without a stage", header: "Bearer " + raw, edit: arn("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5")},
		{name: "method ARN without an account", header: "Bearer " + raw, edit: arn("arn:aws:execute-api:us-east-1:a1b2c3d4e5/v1/GET/x")},
		{name: "method ARN with an empty stage", header: "Bearer " + raw, edit: arn("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5//GET/x")},
	}
	for _, tt := range tests {
		a, logs := newAuthorizer(auth, tt.offset)
		ev := request("GET /v1/users/me", tt.header)
		if tt.edit != nil {
			tt.edit(&ev)
		}
		resp, err := a.Handle(context.Background(), ev)
		if err != authz.ErrUnauthorized || err.Error() != "Unauthorized" || !reflect.DeepEqual(resp, events.APIGatewayCustomAuthorizerResponse{}) {
			t.Errorf("%s: Handle = %+v, %v; want nothing but the exact Unauthorized error (401)", tt.name, resp, err)
		}
		if len(tt.header) > len("Bearer ")+10 && strings.Contains(logs.String(), tt.header[len("Bearer "):]) {
			t.Errorf("%s: the presented token was logged: %s", tt.name, logs.String())
		}
	}
}

func TestHandleIgnoresTheRoute(t *testing.T) {
	t.Parallel()
	// API Gateway caches the decision per Authorization header and reuses it
	// for every route: the answer must depend on the header alone.
	auth := apitest.NewAuth(t)
	raw := issue(t, auth, token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada", SessionID: "s1"})
	routes := []string{"GET /v1/users/me", "DELETE /v1/orders/{id}", "POST /v1/admin/refunds", "GET /"}
	a, _ := newAuthorizer(auth, 0)
	for _, header := range []string{"Bearer " + raw, "Bearer " + raw[:len(raw)-2] + "AA", "", refresh} {
		first, firstErr := a.Handle(context.Background(), request(routes[0], header))
		for _, route := range routes[1:] {
			ev := request(route, header)
			ev.Path = "/elsewhere"
			if got, err := a.Handle(context.Background(), ev); err != firstErr || !reflect.DeepEqual(got, first) {
				t.Errorf("route %q: %+v, %v; route %q: %+v, %v", route, got, err, routes[0], first, firstErr)
			}
		}
	}
}

func BenchmarkAuthorize(b *testing.B) {
	auth := apitest.NewAuth(b)
	raw := issue(b, auth, token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada", SessionID: "s1"})
	a := authz.New(token.NewVerifier([]token.PublicKey{auth.Signer().PublicKey()}, apitest.TokenIssuer, apitest.TokenAudience,
		func() time.Time { return issuedAt }), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ev := request("GET /v1/users/me", "Bearer "+raw)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
