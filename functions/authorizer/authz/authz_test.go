package authz_test

import (
	"bytes"
	"context"
	_ "embed"
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
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

const (
	userID  = "01HZX3YQ7A8B9C0D1E2F3G4H5J"
	refresh = "Bearer rt1." + userID + ".AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // a refresh token, not an access token
)

var (
	// issuedAt is the fixed clock the tokens are minted and checked on.
	issuedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	ada      = principal.Principal{UserID: userID, Email: "ada@example.com", Name: "Ada Lovelace"}
)

// newAuthorizer returns an authorizer trusting only auth's key, whose
// clock reads issuedAt, and the buffer it logs to.
func newAuthorizer(auth *apitest.Auth) (*authz.Authorizer, *bytes.Buffer) {
	v := token.NewVerifier([]token.PublicKey{auth.Signer().PublicKey()}, apitest.TokenIssuer, apitest.TokenAudience,
		func() time.Time { return issuedAt })
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
// trip. The header is found in any case; how the bearer token is read and
// verified is shared/token's to test.
func TestHandleAllows(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	raw := auth.TokenAt(t, ada, issuedAt)
	want := events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: userID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{{
			Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stageARN + "/*"},
		}, {
			Action: []string{"execute-api:Invoke"}, Effect: "Deny", Resource: []string{stageARN + "/*/v1/admin", stageARN + "/*/v1/admin/*"},
		}}},
		Context: map[string]any{"sub": userID, "email": "ada@example.com", "name": "Ada Lovelace", "email_verified": "false",
			"exp": strconv.FormatInt(issuedAt.Add(token.DefaultTTL+token.Leeway).Unix(), 10), "role": "customer"},
	}
	a, _ := newAuthorizer(auth)
	for _, name := range []string{"Authorization", "authorization"} {
		ev := request("GET /v1/users/me", "")
		ev.Headers[name] = "Bearer " + raw
		if resp, err := a.Handle(context.Background(), ev); err != nil || !reflect.DeepEqual(resp, want) {
			t.Errorf("%s: Handle = %+v, %v; want %+v", name, resp, err, want)
		}
	}
}

// TestHandleDenies sends what is not a bearer token, a token Verify
// refuses (shared/token's tests hold every way of refusing), and a good
// token with what is not a method ARN.
func TestHandleDenies(t *testing.T) {
	t.Parallel()
	auth := apitest.NewAuth(t)
	raw := auth.TokenAt(t, ada, issuedAt)
	arn := func(arn string) func(*events.APIGatewayCustomAuthorizerRequestTypeRequest) {
		return func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) { ev.MethodArn = arn }
	}
	tests := []struct {
		name   string
		header string
		edit   func(*events.APIGatewayCustomAuthorizerRequestTypeRequest)
	}{
		{name: "no headers", edit: func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) { ev.Headers = nil }},
		{name: "token anywhere but the Authorization header", edit: func(ev *events.APIGatewayCustomAuthorizerRequestTypeRequest) {
			ev.Headers["X-Authorization"] = "Bearer " + raw
			ev.Headers["Cookie"] = "token=" + raw
			ev.QueryStringParameters = map[string]string{"access_token": raw}
			ev.StageVariables = map[string]string{"token": raw}
		}},
		{name: "token without scheme", header: raw},
		{name: "refresh token", header: refresh},
		{name: "unknown signing key", header: "Bearer " + apitest.NewAuth(t).TokenAt(t, ada, issuedAt)},
		// Only API Gateway calls the authorizer, always with a method ARN:
		// anything else is refused rather than allowed.
		{name: "no method ARN", header: "Bearer " + raw, edit: arn("")},
		{name: "method ARN *", header: "Bearer " + raw, edit: arn("*")},
		{name: "method ARN without a stage", header: "Bearer " + raw, edit: arn("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5")},
		{name: "method ARN without an account", header: "Bearer " + raw, edit: arn("arn:aws:execute-api:us-east-1:a1b2c3d4e5/v1/GET/x")},
		{name: "method ARN with an empty stage", header: "Bearer " + raw, edit: arn("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5//GET/x")},
	}
	for _, tt := range tests {
		a, logs := newAuthorizer(auth)
		ev := request("GET /v1/users/me", tt.header)
		if tt.edit != nil {
			tt.edit(&ev)
		}
		resp, err := a.Handle(context.Background(), ev)
		if err != authz.ErrUnauthorized || err.Error() != "Unauthorized" || !reflect.DeepEqual(resp, events.APIGatewayCustomAuthorizerResponse{}) {
			t.Errorf("%s: Handle = %+v, %v; want nothing but the exact Unauthorized error (401)", tt.name, resp, err)
		}
		if strings.Contains(logs.String(), raw) || tt.header != "" && strings.Contains(logs.String(), tt.header) {
			t.Errorf("%s: the presented token was logged: %s", tt.name, logs.String())
		}
	}
}

func TestHandleIgnoresTheRoute(t *testing.T) {
	t.Parallel()
	// API Gateway caches the decision per Authorization header and reuses it
	// for every route: the answer must depend on the header alone.
	auth := apitest.NewAuth(t)
	raw := auth.TokenAt(t, ada, issuedAt)
	routes := []string{"GET /v1/users/me", "DELETE /v1/orders/{id}", "POST /v1/admin/refunds", "GET /"}
	a, _ := newAuthorizer(auth)
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
	raw := auth.TokenAt(b, ada, issuedAt)
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
