package authz_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-shop/backend/functions/authorizer/authz"
	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

const (
	issuer   = "https://users.shop.example"
	audience = "shop-api"
	userID   = "01HZX3YQ7A8B9C0D1E2F3G4H5J"
)

// issuedAt is the fixed clock the tokens are minted on.
var issuedAt = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// keys holds a signing key the verifier trusts and one it does not.
type keys struct {
	trusted, stranger *ecdsa.PrivateKey
	trustedPub        token.PublicKey
}

var (
	keysOnce sync.Once
	testKeys keys
)

func getKeys(t testing.TB) keys {
	t.Helper()
	keysOnce.Do(func() {
		testKeys.trusted, testKeys.stranger = apitest.NewKey(), apitest.NewKey()
		testKeys.trustedPub = token.NewPublicKey(&testKeys.trusted.PublicKey)
	})
	return testKeys
}

// issue mints an access token the way the users service does.
func issue(t testing.TB, key *ecdsa.PrivateKey, sub token.Subject) string {
	t.Helper()
	signer, err := token.NewECDSASigner(key)
	if err != nil {
		t.Fatal(err)
	}
	iss := token.NewIssuer(signer, issuer, audience, token.DefaultTTL, func() time.Time { return issuedAt })
	raw, _, err := iss.Issue(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// craft signs arbitrary claims and headers with key, to build tokens the
// issuer would never mint.
func craft(t testing.TB, key *ecdsa.PrivateKey, header map[string]any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	for k, v := range header {
		tok.Header[k] = v
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": issuer, "sub": userID, "aud": audience,
		"iat": issuedAt.Unix(), "nbf": issuedAt.Unix(), "exp": issuedAt.Add(token.DefaultTTL).Unix(),
		"jti": "abc123", "email": "ada@example.com", "name": "Ada",
	}

}

func with(c jwt.MapClaims, change func(jwt.MapClaims)) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	change(out)
	return out
}

// newAuthorizer returns an authorizer trusting only the trusted key, whose
// clock reads issuedAt+offset, and the buffer it logs to.
func newAuthorizer(t testing.TB, offset time.Duration) (*authz.Authorizer, *bytes.Buffer) {
	t.Helper()
	k := getKeys(t)
	v := token.NewVerifier([]token.PublicKey{k.trustedPub}, issuer, audience, func() time.Time { return issuedAt.Add(offset) })
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return authz.New(v, log), &logs
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

// allowsAPI reports whether resp allows every route of the stage, and only
// that.
func allowsAPI(resp events.APIGatewayCustomAuthorizerResponse) bool {
	want := events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: []events.IAMPolicyStatement{{
		Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{stageARN + "/*"},
	}}}
	return reflect.DeepEqual(resp.PolicyDocument, want)
}

func TestHandleAllows(t *testing.T) {
	k := getKeys(t)
	sub := token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada Lovelace", SessionID: "s1"}
	raw := issue(t, k.trusted, sub)
	exp := issuedAt.Add(token.DefaultTTL)
	tests := []struct {
		name   string
		header string
		offset time.Duration // verifier clock minus issue time
	}{
		{"fresh token", "Bearer " + raw, 0},
		{"lower-case scheme", "bearer " + raw, 0},
		{"upper-case scheme", "BEARER " + raw, 0},
		{"near expiry", "Bearer " + raw, token.DefaultTTL - time.Second},
		{"after expiry, within leeway", "Bearer " + raw, token.DefaultTTL + token.Leeway - time.Second},
		{"clock slightly behind the issuer", "Bearer " + raw, -token.Leeway + time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAuthorizer(t, tt.offset)
			resp, err := a.Handle(context.Background(), request("GET /v1/users/me", tt.header))
			if err != nil {
				t.Fatalf("Handle returned error %v", err)
			}
			if !allowsAPI(resp) || resp.PrincipalID != userID {
				t.Fatalf("Handle = %+v, want the whole API allowed for %s", resp, userID)
			}
			want := map[string]any{
				"sub":            userID,
				"email":          "ada@example.com",
				"name":           "Ada Lovelace",
				"email_verified": "false",
				"exp":            strconv.FormatInt(exp.Add(token.Leeway).Unix(), 10),
			}
			if !reflect.DeepEqual(resp.Context, want) {
				t.Errorf("Context = %v, want %v", resp.Context, want)
			}
		})
	}
}

func TestHandleContextIsThePrincipal(t *testing.T) {
	// What the authorizer returns, after API Gateway's JSON round trip, is
	// what the services read back as the caller.
	k := getKeys(t)
	sub := token.Subject{UserID: userID, Email: "zoë@example.com", Name: "Zoë \"Z\" Ångström", EmailVerified: true, SessionID: "s1"}
	a, _ := newAuthorizer(t, 0)
	resp, err := a.Handle(context.Background(), request("GET /v1/users/me", "Bearer "+issue(t, k.trusted, sub)))
	if err != nil || !allowsAPI(resp) {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		PrincipalID string         `json:"principalId"`
		Context     map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	if wire.PrincipalID != userID {
		t.Fatalf("wire form %s names principal %q", b, wire.PrincipalID)
	}
	p, err := principal.FromContext(wire.Context, issuedAt)
	if err != nil {
		t.Fatalf("principal.FromContext(%s): %v", b, err)
	}
	want := principal.Principal{UserID: userID, Email: sub.Email, Name: sub.Name, EmailVerified: true, ExpiresAt: issuedAt.Add(token.DefaultTTL + token.Leeway)}
	if p != want {
		t.Errorf("principal = %+v, want %+v", p, want)
	}
	// The services stop honouring a cached decision once the token and its
	// leeway are over.
	if _, err := principal.FromContext(wire.Context, want.ExpiresAt); err == nil {
		t.Errorf("principal still valid at %v", want.ExpiresAt)
	}
}

func TestHandleDenies(t *testing.T) {
	k := getKeys(t)
	sub := token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada", SessionID: "s1"}
	raw := issue(t, k.trusted, sub)
	parts := strings.Split(raw, ".")
	enc := base64.RawURLEncoding

	// The same claims with another subject, under the original signature.
	var payload map[string]any
	if b, err := enc.DecodeString(parts[1]); err != nil || json.Unmarshal(b, &payload) != nil {
		t.Fatalf("cannot decode the payload of %q", raw)
	}
	payload["sub"] = "01HZX3YQ7A8B9C0D1E2F3G4ADM"
	forgedPayload, _ := json.Marshal(payload)
	swappedSub := parts[0] + "." + enc.EncodeToString(forgedPayload) + "." + parts[2]

	sig, _ := enc.DecodeString(parts[2])
	sig[len(sig)/2] ^= 0x01
	flippedSig := parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig)

	at := map[string]any{"typ": token.Type, "kid": k.trustedPub.ID}
	noneHeader := enc.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"` + k.trustedPub.ID + `"}`))
	hsToken := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, validClaims())
		tok.Header["typ"], tok.Header["kid"] = token.Type, k.trustedPub.ID
		// Key confusion: the public key's coordinates used as an HMAC secret.
		pub, _ := k.trusted.PublicKey.Bytes()
		s, err := tok.SignedString(pub)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()

	tests := []struct {
		name   string
		header string
		noAuth bool          // send no Authorization header at all
		offset time.Duration // verifier clock minus issue time
	}{
		{name: "missing header", noAuth: true},
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
		{name: "refresh token", header: "Bearer rt1." + userID + ".AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{name: "opaque string", header: "Bearer d41d8cd98f00b204e9800998ecf8427e"},
		{name: "two parts", header: "Bearer " + parts[0] + "." + parts[1]},
		{name: "four parts", header: "Bearer " + raw + ".x"},
		{name: "empty signature", header: "Bearer " + parts[0] + "." + parts[1] + "."},
		{name: "signature flipped", header: "Bearer " + flippedSig},
		{name: "payload swapped", header: "Bearer " + swappedSub},
		{name: "signature of another token", header: "Bearer " + parts[0] + "." + parts[1] + "." + strings.Split(issue(t, k.trusted, sub), ".")[2]},
		{name: "alg none", header: "Bearer " + noneHeader + "." + parts[1] + "."},
		{name: "HS256 with the public key", header: "Bearer " + hsToken},
		{name: "unknown signing key", header: "Bearer " + issue(t, k.stranger, sub)},
		{name: "stranger key claiming the trusted kid", header: "Bearer " + craft(t, k.stranger, at, validClaims())},
		{name: "not an access token (typ JWT)", header: "Bearer " + craft(t, k.trusted, map[string]any{"typ": "JWT", "kid": k.trustedPub.ID}, validClaims())},
		{name: "no kid", header: "Bearer " + craft(t, k.trusted, map[string]any{"typ": token.Type}, validClaims())},
		{name: "other issuer", header: "Bearer " + craft(t, k.trusted, at, with(validClaims(), func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))},
		{name: "other audience", header: "Bearer " + craft(t, k.trusted, at, with(validClaims(), func(c jwt.MapClaims) { c["aud"] = "other-api" }))},
		{name: "no exp", header: "Bearer " + craft(t, k.trusted, at, with(validClaims(), func(c jwt.MapClaims) { delete(c, "exp") }))},
		{name: "no sub", header: "Bearer " + craft(t, k.trusted, at, with(validClaims(), func(c jwt.MapClaims) { delete(c, "sub") }))},
		{name: "no jti", header: "Bearer " + craft(t, k.trusted, at, with(validClaims(), func(c jwt.MapClaims) { delete(c, "jti") }))},
		{name: "expired", header: "Bearer " + raw, offset: token.DefaultTTL + token.Leeway + time.Second},
		{name: "expired long ago", header: "Bearer " + raw, offset: 30 * 24 * time.Hour},
		{name: "not yet valid", header: "Bearer " + raw, offset: -token.Leeway - time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, logs := newAuthorizer(t, tt.offset)
			ev := request("GET /v1/users/me", tt.header)
			if tt.noAuth {
				ev.Headers = nil
			}
			resp, err := a.Handle(context.Background(), ev)
			if err != authz.ErrUnauthorized || err.Error() != "Unauthorized" {
				t.Fatalf("Handle error = %v; a bad token must be the exact Unauthorized error (401)", err)
			}
			if !reflect.DeepEqual(resp, events.APIGatewayCustomAuthorizerResponse{}) {
				t.Errorf("a denial carries %+v", resp)
			}
			if tt.header != "" && len(tt.header) > len("Bearer ")+10 && strings.Contains(logs.String(), tt.header[len("Bearer "):]) {
				t.Errorf("the presented token was logged: %s", logs.String())
			}
		})
	}
}

func TestHandleIgnoresTheRoute(t *testing.T) {
	// API Gateway caches the decision per Authorization header and reuses it
	// for every route: the answer must depend on the header alone.
	k := getKeys(t)
	raw := issue(t, k.trusted, token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada", SessionID: "s1"})
	routes := []string{"GET /v1/users/me", "DELETE /v1/orders/{id}", "POST /v1/admin/refunds", "GET /"}
	headers := []struct {
		name   string
		header string
	}{
		{"valid", "Bearer " + raw},
		{"tampered", "Bearer " + raw[:len(raw)-2] + "AA"},
		{"missing", ""},
		{"refresh token", "Bearer rt1." + userID + ".AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	}
	a, _ := newAuthorizer(t, 0)
	for _, h := range headers {
		t.Run(h.name, func(t *testing.T) {
			first, firstErr := a.Handle(context.Background(), request(routes[0], h.header))
			for _, route := range routes[1:] {
				ev := request(route, h.header)
				ev.Path = "/elsewhere"
				got, err := a.Handle(context.Background(), ev)
				if err != firstErr || !reflect.DeepEqual(got, first) {
					t.Errorf("route %q: %+v, %v; route %q: %+v, %v", route, got, err, routes[0], first, firstErr)
				}
			}
		})
	}
}

func TestHandleOnlyReadsAuthorization(t *testing.T) {
	// A token elsewhere in the request (query, cookie, other header) is ignored.
	k := getKeys(t)
	raw := issue(t, k.trusted, token.Subject{UserID: userID, SessionID: "s1"})
	ev := request("GET /v1/users/me", "")
	ev.Headers["X-Authorization"] = "Bearer " + raw
	ev.Headers["Cookie"] = "token=" + raw
	ev.QueryStringParameters = map[string]string{"access_token": raw}
	ev.StageVariables = map[string]string{"token": raw}
	a, _ := newAuthorizer(t, 0)
	resp, err := a.Handle(context.Background(), ev)
	if err != authz.ErrUnauthorized {
		t.Errorf("Handle = %+v, %v; want a denial", resp, err)
	}
	// The header's name in another case is the same header.
	ev = request("GET /v1/users/me", "")
	ev.Headers["authorization"] = "Bearer " + raw
	if _, err := a.Handle(context.Background(), ev); err != nil {
		t.Errorf("a lower-case authorization header: %v", err)
	}
}

func TestHandleRefusesAnUnknownMethodARN(t *testing.T) {
	k := getKeys(t)
	raw := issue(t, k.trusted, token.Subject{UserID: userID, SessionID: "s1"})
	a, _ := newAuthorizer(t, 0)
	for _, arn := range []string{"", "*", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5", "arn:aws:execute-api:us-east-1:a1b2c3d4e5/v1/GET/x", "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5//GET/x"} {
		ev := request("GET /v1/users/me", "Bearer "+raw)
		ev.MethodArn = arn
		if resp, err := a.Handle(context.Background(), ev); err != authz.ErrUnauthorized {
			t.Errorf("method ARN %q: Handle = %+v, %v; want a denial", arn, resp, err)
		}
	}
}

func BenchmarkAuthorize(b *testing.B) {
	k := getKeys(b)
	raw := issue(b, k.trusted, token.Subject{UserID: userID, Email: "ada@example.com", Name: "Ada", SessionID: "s1"})
	v := token.NewVerifier([]token.PublicKey{k.trustedPub}, issuer, audience, func() time.Time { return issuedAt })
	a := authz.New(v, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ev := request("GET /v1/users/me", "Bearer "+raw)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Handle(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
}
