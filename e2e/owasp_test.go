//go:build integration

package e2e

// One test per item of the OWASP API Security Top 10 (2023), against the
// deployed stack, over HTTP and AWS APIs only. Each checks what the other
// files of this package do not check already; docs/security.md maps every
// item to its tests, here and elsewhere.

import (
	"context"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/token"
)

// missingOrderID is a well-formed order id no order has.
const missingOrderID = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"

// ---------------------------------------------------------------- API1

// TestOWASP_API1_ObjectLevelAuthorization: a customer reaches only their
// own orders. Another customer's order id answers exactly as an id nobody
// has (so ids cannot be probed), the refused attempts change nothing, and
// whose orders a request sees is decided by its access token alone.
func TestOWASP_API1_ObjectLevelAuthorization(t *testing.T) {
	t.Parallel()
	owner, intruder := signUp(t, "bola-owner"), signUp(t, "bola-intruder")
	var theirs orderDoc
	call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), owner.bearer()...).Expect(t, 201).JSON(t, &theirs)

	t.Run("another customer's order answers as a missing one", func(t *testing.T) {
		for _, route := range []struct{ method, suffix string }{{"GET", ""}, {"POST", "/cancel"}, {"POST", "/reorder"}} {
			got := call(t, route.method, "/v1/orders/"+theirs.ID+route.suffix, nil, intruder.bearer()...)
			none := call(t, route.method, "/v1/orders/"+missingOrderID+route.suffix, nil, intruder.bearer()...)
			pg, pn := got.Problem(t, 404, ""), none.Problem(t, 404, "")
			if pg.Type != pn.Type || pg.Title != pn.Title || pg.Detail != pn.Detail || len(pg.Errors) != 0 || len(pn.Errors) != 0 {
				t.Errorf("%s %s: another's order answers %s, a missing one %s", route.method, route.suffix, got.Body, none.Body)
			}
			for _, secret := range []string{owner.ID, owner.Email, owner.Name} {
				if strings.Contains(got.Body, secret) {
					t.Errorf("%s %s: the answer names the owner (%q): %s", route.method, route.suffix, secret, got.Body)
				}
			}
		}
	})

	t.Run("the refused attempts changed nothing", func(t *testing.T) {
		var now orderDoc
		call(t, "GET", "/v1/orders/"+theirs.ID, nil, owner.bearer()...).Expect(t, 200).JSON(t, &now)
		if now.Status != "PENDING" || !now.UpdatedAt.Equal(theirs.UpdatedAt) {
			t.Fatalf("the owner's order after the intruder's cancel: %+v, was %+v", now, theirs)
		}
		for who, want := range map[*user][]string{&owner: {theirs.ID}, &intruder: nil} {
			var page struct{ Items []orderDoc }
			call(t, "GET", "/v1/orders", nil, who.bearer()...).Expect(t, 200).JSON(t, &page)
			var ids []string
			for _, o := range page.Items {
				ids = append(ids, o.ID)
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("%s lists orders %v, want %v (the intruder's reorder must place nothing)", who.Email, ids, want)
			}
		}
	})

	t.Run("whose orders is decided by the token alone", func(t *testing.T) {
		for _, q := range []string{"customerId", "userId", "sub", "owner", "email"} {
			value := owner.ID
			if q == "email" {
				value = owner.Email
			}
			var page struct{ Items []orderDoc }
			call(t, "GET", "/v1/orders?"+q+"="+url.QueryEscape(value), nil, intruder.bearer()...).Expect(t, 200).JSON(t, &page)
			if len(page.Items) != 0 {
				t.Fatalf("?%s=<owner> shows the intruder %d orders", q, len(page.Items))
			}
		}
		spoofed := append(intruder.bearer(),
			"X-User-Id", owner.ID, "X-Customer-Id", owner.ID, "X-Forwarded-User", owner.Email,
			"X-Amzn-Oidc-Identity", owner.ID, "X-Principal-Id", owner.ID)
		var page struct{ Items []orderDoc }
		call(t, "GET", "/v1/orders", nil, spoofed...).Expect(t, 200).JSON(t, &page)
		if len(page.Items) != 0 {
			t.Fatalf("identity headers made the owner's orders visible: %+v", page.Items)
		}
		call(t, "GET", "/v1/orders/"+theirs.ID, nil, spoofed...).Problem(t, 404, "")
	})
}

// ---------------------------------------------------------------- API2

// TestOWASP_API2_BrokenAuthentication: the access token checks of the
// gateway's authorizer and of both services, claim by claim. The tokens
// are signed by the deployed signing key itself (kms:Sign with the test's
// credentials: MiniStack, like an administrator on AWS, lets it), so each
// is refused for the one thing the case changes, never for its signature:
// the control, made the same way, is accepted. Other spellings of a good
// token (high s, padding, stray bits) and a day's lifetime are refused in
// TestAbuseTokensAreDecodedStrictly; sessions, refresh tokens and login
// throttling in auth_test.go and account_test.go.
func TestOWASP_API2_BrokenAuthentication(t *testing.T) {
	t.Parallel()
	u := register(t, "authn")
	u.login(t)
	keyA, signingKeys := output(t, "SigningKeyAId"), kms.NewFromConfig(stack.aws)
	public, err := kmskeys.PublicKeys(context.Background(), signingKeys, []string{keyA})
	if err != nil {
		t.Fatalf("signing key: %v", err)
	}
	signer := kmskeys.SignerFor(signingKeys, keyA, public[0].ID)
	now := time.Now().Unix()
	claims := edit(jwtClaims(t, u.Access), map[string]any{"iat": now, "nbf": now, "exp": now + 600, "jti": "owasp-" + strconv.FormatInt(time.Now().UnixNano(), 36)})
	header := map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": signer.KeyID()}
	control := jws(t, signer, header, claims)
	for _, path := range []string{"/v1/users/me", "/v1/orders"} {
		call(t, "GET", path, nil, "Authorization", "Bearer "+control).Expect(t, 200)
	}

	iss, _ := claims["iss"].(string)
	publicPEM, publicJWK := signingKeyForms(t, signer.KeyID())
	attackerAuth := apitest.NewAuth(t) // a P-256 key of the attacker's own, named by its thumbprint
	attacker := attackerAuth.Signer()
	parts := strings.Split(control, ".")
	cases := []struct{ name, token string }{
		{"expired", jws(t, signer, header, edit(claims, map[string]any{"iat": now - 1000, "nbf": now - 1000, "exp": now - 100}))},
		{"not valid yet", jws(t, signer, header, edit(claims, map[string]any{"iat": now + 300, "nbf": now + 300, "exp": now + 900}))},
		{"without expiry", jws(t, signer, header, edit(claims, map[string]any{"exp": nil}))},
		{"another issuer", jws(t, signer, header, edit(claims, map[string]any{"iss": iss + "-elsewhere"}))},
		{"another audience", jws(t, signer, header, edit(claims, map[string]any{"aud": []string{iss + ":admin"}}))},
		{"without audience", jws(t, signer, header, edit(claims, map[string]any{"aud": nil}))},
		{"outside any session", jws(t, signer, header, edit(claims, map[string]any{"sid": nil}))},
		{"not an access token (typ JWT)", jws(t, signer, edit(header, map[string]any{"typ": "JWT"}), claims)},
		{"unknown kid", jws(t, signer, edit(header, map[string]any{"kid": "k1"}), claims)},
		{"critical header it does not understand", jws(t, signer, edit(header, map[string]any{"crit": []string{"exp"}}), claims)},
		{"another algorithm named (ES384)", jws(t, signer, edit(header, map[string]any{"alg": "ES384"}), claims)},
		{"claims changed after signing (email_verified)", parts[0] + "." + segment(t, edit(claims, map[string]any{"email_verified": true})) + "." + parts[2]},
		{"HS256 keyed with the public key (PEM)", hs256(t, edit(header, map[string]any{"alg": "HS256"}), claims, publicPEM)},
		{"HS256 keyed with the public key (JWK)", hs256(t, edit(header, map[string]any{"alg": "HS256"}), claims, publicJWK)},
		{"signed by a key it carries itself (jwk)", jws(t, attacker, map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": attacker.KeyID(), "jwk": jwkOf(t, attackerAuth)}, claims)},
		{"the deployed kid on another key's signature", jws(t, attacker, header, claims)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { refusedEverywhere(t, tc.token) })
	}

	t.Run("a token in the URL or a cookie is not a credential", func(t *testing.T) {
		for _, r := range []*apitest.Response{
			call(t, "GET", "/v1/users/me?access_token="+url.QueryEscape(u.Access), nil),
			call(t, "GET", "/v1/orders?access_token="+url.QueryEscape(u.Access), nil),
			call(t, "GET", "/v1/users/me", nil, "Cookie", "access_token="+u.Access+"; Authorization=Bearer "+u.Access),
			call(t, "GET", "/v1/users/me", nil, "X-Access-Token", u.Access, "X-Amz-Security-Token", u.Access),
		} {
			r.Problem(t, http.StatusUnauthorized, "")
		}
	})

	t.Run("a refresh token moved to another account is refused and harms no one", func(t *testing.T) {
		other := register(t, "authn-other")
		other.login(t)
		rest := strings.SplitN(u.Refresh, ".", 3) // rt1, user id, family and secret
		call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": "rt1." + other.ID + "." + rest[2]}).Problem(t, 401, "")
		for _, who := range []user{u, other} {
			call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": who.Refresh}).Expect(t, 200)
		}
	})
}

// refusedEverywhere checks that a bearer token is refused, 401
// invalid-token, on a route of each service.
func refusedEverywhere(t *testing.T, bearer string) {
	t.Helper()
	for _, path := range []string{"/v1/users/me", "/v1/orders"} {
		call(t, "GET", path, nil, "Authorization", "Bearer "+bearer).Problem(t, http.StatusUnauthorized, "invalid-token")
	}
}

// edit returns a copy of m with changes applied; a nil value removes the key.
func edit(m, changes map[string]any) map[string]any {
	out := maps.Clone(m)
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// segment is one base64url part of a compact JWS.
func segment(t *testing.T, v any) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString([]byte(segmentJSON(t, v)))
}

// jws signs header and claims with s, as the users service does: ES256,
// the signature as R || S with the low s.
func jws(t *testing.T, s token.Signer, header, claims map[string]any) string {
	t.Helper()
	input := segment(t, header) + "." + segment(t, claims)
	digest := sha256.Sum256([]byte(input))
	der, err := s.SignDigest(context.Background(), digest[:])
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if n := elliptic.P256().Params().N; sig.S.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		sig.S.Sub(n, sig.S)
	}
	raw := make([]byte, 64)
	sig.R.FillBytes(raw[:32])
	sig.S.FillBytes(raw[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(raw)
}

// hs256 is the algorithm confusion attack: a MAC keyed with what the
// verifier holds as a public key.
func hs256(t *testing.T, header, claims map[string]any, key []byte) string {
	t.Helper()
	input := segment(t, header) + "." + segment(t, claims)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// signingKeyForms returns the public signing key as PEM (from KMS) and as
// the JWK the API publishes.
func signingKeyForms(t *testing.T, kid string) (pemKey, jwk []byte) {
	t.Helper()
	out, err := kms.NewFromConfig(stack.aws).GetPublicKey(context.Background(), &kms.GetPublicKeyInput{KeyId: aws.String(output(t, "SigningKeyAId"))})
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	pemKey = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: out.PublicKey})
	var set struct{ Keys []map[string]any }
	call(t, "GET", "/.well-known/jwks.json", nil).Expect(t, 200).JSON(t, &set)
	for _, k := range set.Keys {
		if k["kid"] == kid {
			jwk, err = json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			return pemKey, jwk
		}
	}
	t.Fatalf("JWKS lacks kid %s", kid)
	return nil, nil
}

// jwkOf is the public JWK of a's key, as a JWS header "jwk" would carry it.
func jwkOf(t *testing.T, a *apitest.Auth) map[string]any {
	t.Helper()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(a.JWKS(t)), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks %s: %v", a.JWKS(t), err)
	}
	return set.Keys[0]
}

// ---------------------------------------------------------------- API3

// TestOWASP_API3_ObjectPropertyLevelAuthorization: clients write only the
// properties that are theirs to write (mass assignment is refused as a
// whole, with the field named, and nothing of it is stored), and answers
// show only the caller's documented properties (no excessive exposure).
func TestOWASP_API3_ObjectPropertyLevelAuthorization(t *testing.T) {
	t.Parallel()

	t.Run("registration sets no property the server owns", func(t *testing.T) {
		email := uniqueEmail(t, "bopla-reg")
		good := map[string]any{"email": email, "password": "correct horse battery staple", "name": "Mallory"}
		// Eleven registrations in a second: each from an address of its own,
		// or the address's requests of the second (10) would answer first.
		for field, value := range map[string]any{
			"emailVerified": true, "id": "01AAAAAAAAAAAAAAAAAAAAAAAA", "createdAt": "2020-01-01T00:00:00Z",
			"role": "admin", "isAdmin": true, "passwordHash": "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "sessionEpoch": 0,
		} {
			body := edit(good, map[string]any{field: value})
			if p := call(t, "POST", "/v1/auth/register", body, "X-Forwarded-For", newAddress()).Problem(t, 400, ""); !slices.Contains(p.Fields(), field) {
				t.Errorf("register with %q: problem does not name it: %+v", field, p.Errors)
			}
		}
		// The same fields spelt another way: another case, or a key twice.
		for _, raw := range []string{
			fmt.Sprintf(`{"email":%q,"password":"correct horse battery staple","name":"Mallory","EmailVerified":true}`, email),
			fmt.Sprintf(`{"Email":%q,"password":"correct horse battery staple","name":"Mallory"}`, email),
			fmt.Sprintf(`{"email":%q,"password":"correct horse battery staple","name":"Mallory","name":"Admin"}`, email),
		} {
			call(t, "POST", "/v1/auth/register", raw).Problem(t, 400, "")
		}
		// None of them stored the account: it registers now, unverified.
		var reg struct {
			Name          string
			EmailVerified bool
		}
		call(t, "POST", "/v1/auth/register", good).Expect(t, 201).JSON(t, &reg)
		if reg.EmailVerified || reg.Name != "Mallory" {
			t.Fatalf("registered %+v", reg)
		}
	})

	t.Run("the profile's one writable property is the name", func(t *testing.T) {
		u := register(t, "bopla-profile")
		u.login(t)
		for _, tc := range []struct {
			body  any
			field string
		}{
			{map[string]any{"name": "Verified Me", "emailVerified": true}, "emailVerified"},
			{map[string]any{"emailVerified": true}, "emailVerified"},
			{map[string]any{"name": "Verified Me", "updatedAt": "2030-01-01T00:00:00Z"}, "updatedAt"},
			{`{"name":"Verified Me","NAME":"Admin"}`, ""},
			{`{"name":"Verified Me","name":"Admin"}`, ""},
			{`{"Name":"Admin"}`, ""},
		} {
			p := call(t, "PATCH", "/v1/users/me", tc.body, u.bearer()...).Problem(t, 400, "")
			if tc.field != "" && !slices.Contains(p.Fields(), tc.field) {
				t.Errorf("PATCH %v: problem does not name %q: %+v", tc.body, tc.field, p.Errors)
			}
		}
		var me struct {
			Name          string
			EmailVerified bool
		}
		call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200).JSON(t, &me)
		if me.EmailVerified || me.Name != u.Name {
			t.Fatalf("after the refused updates the profile is %+v", me)
		}
	})

	u := signUp(t, "bopla-order")
	other := register(t, "bopla-other")

	t.Run("an order's prices, totals, status and owner come from the server", func(t *testing.T) {
		line := map[string]any{"sku": "COF-ESP-250", "quantity": 1}
		for field, value := range map[string]any{
			"id": missingOrderID, "status": "SHIPPED", "customerId": other.ID, "customer": map[string]any{"email": other.Email},
			"total": 1, "currency": "EUR", "createdAt": "2020-01-01T00:00:00Z",
		} {
			body := map[string]any{"items": []any{line}, field: value}
			if p := call(t, "POST", "/v1/orders", body, u.bearer()...).Problem(t, 400, ""); !slices.Contains(p.Fields(), field) {
				t.Errorf("order with %q: problem does not name it: %+v", field, p.Errors)
			}
		}
		for field, value := range map[string]any{"unitPrice": 1, "lineTotal": 1, "name": "Free coffee", "currency": "EUR"} {
			body := map[string]any{"items": []any{edit(line, map[string]any{field: value})}}
			if p := call(t, "POST", "/v1/orders", body, u.bearer()...).Problem(t, 400, ""); !slices.Contains(p.Fields(), field) {
				t.Errorf("order line with %q: problem does not name it: %+v", field, p.Errors)
			}
		}
		var list struct{ Items []orderDoc }
		call(t, "GET", "/v1/orders", nil, u.bearer()...).Expect(t, 200).JSON(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("refused requests stored %d orders", len(list.Items))
		}

		// Reorder takes no body: whatever one says is not applied.
		var first, again orderDoc
		call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), u.bearer()...).Expect(t, 201).JSON(t, &first)
		override := `{"items":[{"sku":"GRD-HAND-C40","quantity":100}],"total":1,"status":"SHIPPED","customerId":"` + other.ID + `"}`
		call(t, "POST", "/v1/orders/"+first.ID+"/reorder", override, u.bearer()...).Expect(t, 201).JSON(t, &again)
		if again.Status != "PENDING" || again.Total != first.Total || len(again.Items) != 1 || again.Items[0] != first.Items[0] {
			t.Fatalf("reorder with a body placed %+v, want the items of %+v", again, first)
		}
		other.login(t)
		call(t, "GET", "/v1/orders/"+again.ID, nil, other.bearer()...).Problem(t, 404, "")
	})

	t.Run("answers show only the caller's documented properties", func(t *testing.T) {
		var answers []*apitest.Response
		keep := func(r *apitest.Response) *apitest.Response { answers = append(answers, r); return r }
		profile := keep(call(t, "GET", "/v1/users/me", nil, u.bearer()...).Expect(t, 200))
		keep(call(t, "PATCH", "/v1/users/me", map[string]string{"name": "Renamed"}, u.bearer()...).Expect(t, 200))
		placed := keep(call(t, "POST", "/v1/orders", items("TEA-SENCHA-100", 2), u.bearer()...).Expect(t, 201))
		var o orderDoc
		placed.JSON(t, &o)
		keep(call(t, "GET", "/v1/orders/"+o.ID, nil, u.bearer()...).Expect(t, 200))
		list := keep(call(t, "GET", "/v1/orders?limit=100", nil, u.bearer()...).Expect(t, 200))
		keep(call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...).Expect(t, 200))
		pair := keep(call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password, "deviceToken": u.Device}).Expect(t, 200))
		var tokens tokenPair
		pair.JSON(t, &tokens)
		keep(call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": tokens.RefreshToken}).Expect(t, 200))

		wantKeys(t, "profile", []byte(profile.Body), "createdAt", "email", "emailVerified", "id", "name", "updatedAt")
		wantKeys(t, "order", []byte(placed.Body), "createdAt", "currency", "id", "items", "status", "total", "updatedAt")
		var raw struct{ Items []json.RawMessage }
		placed.JSON(t, &raw)
		for _, line := range raw.Items {
			wantKeys(t, "order line", line, "lineTotal", "name", "quantity", "sku", "unitPrice")
		}
		var page struct{ Items []json.RawMessage }
		list.JSON(t, &page)
		for _, item := range page.Items {
			wantKeys(t, "listed order", item, "createdAt", "currency", "id", "items", "status", "total", "updatedAt")
		}
		// The access token is readable by whoever holds it: it carries
		// who the caller is and the session, nothing else.
		claims := jwtClaims(t, tokens.AccessToken)
		wantKeys(t, "access token", []byte(segmentJSON(t, claims)), "aud", "email", "email_verified", "exp", "iat", "iss", "jti", "name", "nbf", "sep", "sid", "sub")

		internals := []string{
			other.Email, other.ID, `"PK"`, `"SK"`, "USER#", "ORDER#", "OUTBOX#", "LINK#", "IDEM#", "$argon2", "passwordHash",
			`"hash"`, "tokenHash", "familyId", "sessionEpoch", "customerId", "arn:aws", output(t, "UsersTableName"), output(t, "OrdersTableName"),
		}
		for _, r := range answers {
			for _, s := range internals {
				if strings.Contains(r.Body, s) {
					t.Errorf("%s %s: the answer shows %q: %s", r.Request.Method, r.Request.URL.Path, s, r.Body)
				}
			}
		}
	})
}

// segmentJSON re-encodes a decoded JSON object.
func segmentJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantKeys checks that a JSON object has exactly the keys want (sorted).
func wantKeys(t *testing.T, what string, body []byte, want ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v: %s", what, err, body)
	}
	got := slices.Sorted(maps.Keys(m))
	if !slices.Equal(got, want) {
		t.Errorf("%s has properties %v, want exactly %v", what, got, want)
	}
}

// ---------------------------------------------------------------- API4

// TestOWASP_API4_ResourceConsumption: what one request may cost is
// bounded (body size, lines of an order, page size) and the deployed
// stage, functions and mailer carry their limits. Per-account, per-address
// and per-customer limits over time are in the tests docs/security.md
// lists.
func TestOWASP_API4_ResourceConsumption(t *testing.T) {
	t.Parallel()
	u := signUp(t, "consume")

	t.Run("bodies over 64 KiB are refused on every route that takes one", func(t *testing.T) {
		big := `{"name":"` + strings.Repeat("a", 64<<10) + `"}`
		staff := staffUser(t) // a customer's token is refused the staff routes first (403)
		for _, op := range documentedOperations(t) {
			if !op.body {
				continue
			}
			var headers []string
			if op.protected {
				headers = bearerFor(op.path, u, staff)
			}
			call(t, op.method, op.example, big, headers...).Problem(t, http.StatusRequestEntityTooLarge, "payload-too-large")
		}
	})

	t.Run("an order has at most 50 lines", func(t *testing.T) {
		lines := func(n int) map[string]any {
			var pairs []any
			for i := range n {
				pairs = append(pairs, fmt.Sprintf("NO-SUCH-SKU-%02d", i), 1)
			}
			return items(pairs...)
		}
		if p := call(t, "POST", "/v1/orders", lines(51), u.bearer()...).Problem(t, 400, ""); !slices.Contains(p.Fields(), "items") {
			t.Fatalf("51 lines: %+v", p)
		}
		// 50 lines pass the bound and are looked up (and are unknown).
		if p := call(t, "POST", "/v1/orders", lines(50), u.bearer()...).Problem(t, 422, ""); !strings.HasSuffix(p.Type, "#unknown-product") || len(p.Errors) != 50 {
			t.Fatalf("50 lines: %s, %d errors", p.Type, len(p.Errors))
		}
	})

	t.Run("a page holds at most 100 orders", func(t *testing.T) {
		call(t, "GET", "/v1/orders?limit=100", nil, u.bearer()...).Expect(t, 200)
		if p := call(t, "GET", "/v1/orders?limit=101", nil, u.bearer()...).Problem(t, 400, ""); !slices.Contains(p.Fields(), "limit") {
			t.Fatalf("limit=101: %+v", p)
		}
	})

	t.Run("the deployed stage throttles every route and the costly ones harder", func(t *testing.T) {
		var stage struct {
			MethodSettings map[string]struct {
				ThrottlingRateLimit  float64 `json:"throttlingRateLimit"`
				ThrottlingBurstLimit int     `json:"throttlingBurstLimit"`
			} `json:"methodSettings"`
		}
		awsGet(t, "apigateway", "/restapis/"+output(t, "ApiId")+"/stages/"+output(t, "ApiStage"), &stage)
		number := func(name string) float64 {
			v, err := strconv.ParseFloat(currentParameter(t, name), 64)
			if err != nil || v <= 0 {
				t.Fatalf("parameter %s = %q", name, currentParameter(t, name))
			}
			return v
		}
		all, ok := stage.MethodSettings["*/*"]
		if !ok || all.ThrottlingRateLimit != number("ThrottleRate") || float64(all.ThrottlingBurstLimit) != number("ThrottleBurst") {
			t.Errorf("stage-wide throttling %+v (present %v), want ThrottleRate and ThrottleBurst", all, ok)
		}
		for _, route := range []string{"register", "login", "refresh", "password-reset", "password-reset~1confirm"} {
			key := "/~1v1~1auth~1" + route + "/POST"
			s, ok := stage.MethodSettings[key]
			if !ok || s.ThrottlingRateLimit != number("AuthThrottleRate") || float64(s.ThrottlingBurstLimit) != number("AuthThrottleRate") {
				t.Errorf("%s throttling %+v (present %v), want AuthThrottleRate", key, s, ok)
			}
		}
	})

	t.Run("functions run bounded and the mailer's concurrency is capped", func(t *testing.T) {
		lam := lambda.NewFromConfig(stack.aws)
		functions := stackResources(t, "AWS::Lambda::Function")
		if len(functions) < 5 {
			t.Fatalf("stack functions %v", functions)
		}
		for logical, name := range functions {
			cfg, err := lam.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
			if err != nil {
				t.Fatalf("%s: %v", logical, err)
			}
			if limit := aws.ToInt32(cfg.Timeout); limit < 1 || limit > 60 {
				t.Errorf("%s: timeout %d s", logical, limit)
			}
		}
		// Read without the SDK, whose client cannot read MiniStack's answer
		// (lenientInt).
		var mappings struct {
			EventSourceMappings []struct {
				ScalingConfig *struct{ MaximumConcurrency lenientInt }
			}
		}
		awsGet(t, "lambda", "/2015-03-31/event-source-mappings/?FunctionName="+url.QueryEscape(functions["NotificationsFunction"]), &mappings)
		if len(mappings.EventSourceMappings) != 1 {
			t.Fatalf("notification mappings %+v", mappings)
		}
		sc := mappings.EventSourceMappings[0].ScalingConfig
		if want := currentParameter(t, "NotificationConcurrency"); sc == nil || strconv.Itoa(int(sc.MaximumConcurrency)) != want {
			t.Errorf("notification mapping scaling %+v, want MaximumConcurrency %s", sc, want)
		}
	})
}

// ---------------------------------------------------------------- API5

// TestOWASP_API5_FunctionLevelAuthorization: there is one kind of caller
// (a customer) and no administrative function in the API. Every protected
// operation refuses a request without a valid token, every public one
// serves it; the gateway runs the authorizer on exactly the protected
// methods; and methods the API does not have (writing the catalog,
// deleting orders or accounts) do not exist, even for a valid token.
func TestOWASP_API5_FunctionLevelAuthorization(t *testing.T) {
	t.Parallel()
	u := signUp(t, "bfla")
	ops := documentedOperations(t)
	var o orderDoc
	call(t, "POST", "/v1/orders", items("BRW-V60-02", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)

	t.Run("protected operations need a valid token, public ones none", func(t *testing.T) {
		for _, op := range ops {
			var body any
			if op.body {
				body = map[string]any{}
			}
			if op.protected {
				for _, auth := range [][]string{nil, {"Authorization", "Bearer " + u.Refresh}, {"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(u.Email+":"+u.Password))}} {
					call(t, op.method, op.example, body, auth...).Problem(t, http.StatusUnauthorized, "invalid-token")
				}
				continue
			}
			r := call(t, op.method, op.example, body)
			if r.StatusCode == http.StatusUnauthorized {
				if p := r.Problem(t, 401, ""); strings.HasSuffix(p.Type, "#invalid-token") {
					t.Errorf("public %s %s asks for an access token: %s", op.method, op.path, r.Body)
				}
			}
		}
	})

	t.Run("the gateway authorizes exactly the protected methods", func(t *testing.T) {
		var authorizers struct {
			Item []struct {
				ID             string `json:"id"`
				Type           string `json:"type"`
				IdentitySource string `json:"identitySource"`
			} `json:"item"`
		}
		awsGet(t, "apigateway", "/restapis/"+output(t, "ApiId")+"/authorizers", &authorizers)
		if len(authorizers.Item) != 1 || authorizers.Item[0].Type != "REQUEST" || authorizers.Item[0].IdentitySource != "method.request.header.Authorization" {
			t.Fatalf("authorizers %+v, want one REQUEST authorizer on the Authorization header", authorizers.Item)
		}
		deployed := deployedMethods(t)
		for _, op := range ops {
			m, ok := deployed[op.method+" "+op.path]
			switch {
			case !ok:
				t.Errorf("%s %s is not deployed", op.method, op.path)
			case op.protected && (m.AuthorizationType != "CUSTOM" || m.AuthorizerID != authorizers.Item[0].ID):
				t.Errorf("protected %s %s is deployed with authorization %s/%s", op.method, op.path, m.AuthorizationType, m.AuthorizerID)
			case !op.protected && m.AuthorizationType != "NONE":
				t.Errorf("public %s %s is deployed with authorization %s", op.method, op.path, m.AuthorizationType)
			}
		}
	})

	t.Run("no other method exists, even for a valid token", func(t *testing.T) {
		staff := staffUser(t) // a customer's token is refused the staff routes first (403)
		catalog := call(t, "GET", "/v1/products/COF-ESP-250", nil).Expect(t, 200)
		// The methods of each documented path, and the path of each example.
		allowed := map[string][]string{}
		template := map[string]string{"/v1/orders/" + o.ID: "/v1/orders/{id}", "/v1/products/COF-ESP-250": "/v1/products/{sku}"}
		for _, op := range ops {
			allowed[op.path] = append(allowed[op.path], op.method)
			template[op.example] = op.path
		}
		write := map[string]any{"sku": "COF-ESP-250", "unitPrice": 1, "status": "SHIPPED", "name": "Free"}
		for path, tmpl := range template {
			for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				if slices.Contains(allowed[tmpl], method) {
					continue
				}
				// A path the API has answers 405 with the methods it takes.
				r := call(t, method, path, write, bearerFor(tmpl, u, staff)...)
				r.Problem(t, 405, "method-not-allowed")
				var got []string
				for m := range strings.SplitSeq(r.Header.Get("Allow"), ",") {
					got = append(got, strings.TrimSpace(m))
				}
				want := slices.Sorted(slices.Values(allowed[tmpl]))
				if slices.Sort(got); !slices.Equal(got, want) {
					t.Errorf("%s %s: Allow %q, want %v", method, path, r.Header.Get("Allow"), want)
				}
			}
		}
		for _, path := range []string{"/v1/admin", "/v1/admin/customers", "/v1/users", "/v1/users/" + u.ID, "/v1/products/COF-ESP-250/price", "/v1/orders/" + o.ID + "/status", "/v1/orders/" + o.ID + "/ship"} {
			for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
				call(t, method, path, write, u.bearer()...).Problem(t, 404, "")
			}
		}
		// The catalog and the order are as they were.
		after := call(t, "GET", "/v1/products/COF-ESP-250", nil).Expect(t, 200)
		if after.Header.Get("ETag") != catalog.Header.Get("ETag") || after.Body != catalog.Body {
			t.Fatalf("the product changed: %s -> %s", catalog.Body, after.Body)
		}
		var now orderDoc
		call(t, "GET", "/v1/orders/"+o.ID, nil, append(u.bearer(), "X-HTTP-Method-Override", "DELETE", "X-HTTP-Method", "DELETE", "X-Method-Override", "DELETE")...).Expect(t, 200).JSON(t, &now)
		if now.Status != "PENDING" || !now.UpdatedAt.Equal(o.UpdatedAt) {
			t.Fatalf("the order changed: %+v", now)
		}
		call(t, "GET", "/v1/orders/"+o.ID, nil, u.bearer()...).Expect(t, 200)
	})
}

// ---------------------------------------------------------------- API6

// TestOWASP_API6_SensitiveBusinessFlows: the flows worth automating are
// bounded for every caller. Password reset requests look the same for
// registered and unknown addresses up to their limit and at it; an
// unverified account cannot reorder either; and the hourly order quota
// holds for reorders while sparing the replays of orders already placed.
func TestOWASP_API6_SensitiveBusinessFlows(t *testing.T) {
	t.Parallel()

	t.Run("password reset requests tell nothing about accounts, up to the limit and at it", func(t *testing.T) {
		known := register(t, "flow-reset")
		unknown := uniqueEmail(t, "flow-nobody")
		wellInsideTheHour(time.Minute)
		// A tenth of a second apart: a client's address may send 10 such
		// requests a second, and this is about the limit per recipient.
		ask := func(email string) *apitest.Response {
			time.Sleep(100 * time.Millisecond)
			return call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": email})
		}
		for i := range 5 {
			k, n := ask(known.Email).Expect(t, 202), ask(unknown).Expect(t, 202)
			if k.Body != n.Body {
				t.Fatalf("request %d: %s for an account, %s for none", i+1, k.Body, n.Body)
			}
		}
		k, n := ask(known.Email), ask(unknown)
		pk, pn := k.Problem(t, 429, ""), n.Problem(t, 429, "")
		if pk.Type != pn.Type || pk.Title != pn.Title || pk.Detail != pn.Detail || !strings.HasSuffix(pk.Type, "#too-many-requests") {
			t.Fatalf("sixth request: %s for an account, %s for none", k.Body, n.Body)
		}
		for _, r := range []*apitest.Response{k, n} {
			if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 3600 {
				t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
			}
		}
		testcloud.Eventually(t, 2*time.Minute, "five reset emails to "+known.Email, func() bool {
			return len(testcloud.MailTo(t, known.Email, resetSubject)) >= 5
		})
		if k, n := len(mailsTo(t, known.Email, resetSubject)), len(testcloud.MailTo(t, unknown, "")); k != 5 || n != 0 {
			t.Fatalf("%d reset emails to the account (want 5), %d to the unknown address (want 0)", k, n)
		}
	})

	t.Run("an unverified account cannot reorder", func(t *testing.T) {
		u := register(t, "flow-unverified")
		u.login(t)
		for _, path := range []string{"/v1/orders/" + missingOrderID + "/reorder", "/v1/orders"} {
			var body any
			if path == "/v1/orders" {
				body = items("COF-ESP-250", 1)
			}
			call(t, "POST", path, body, u.bearer()...).Problem(t, 403, "email-unverified")
		}
	})

	t.Run("the order quota holds for reorders and spares replays", func(t *testing.T) {
		quota, err := strconv.Atoi(output(t, "OrdersPerHour"))
		if err != nil || quota < 3 || quota > 50 {
			t.Fatalf("OrdersPerHour output %q: deploy with a quota of 3 to 50 (localstack/deploy.sh does)", output(t, "OrdersPerHour"))
		}
		u := signUp(t, "flow-quota")
		wellInsideTheHour(2 * time.Minute)
		key := append(u.bearer(), "Idempotency-Key", "flow-quota-first")
		var first orderDoc
		call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), key...).Expect(t, 201).JSON(t, &first)
		for range quota - 2 {
			call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), u.bearer()...).Expect(t, 201)
		}
		call(t, "POST", "/v1/orders/"+first.ID+"/reorder", nil, u.bearer()...).Expect(t, 201)
		// The hour's quota is used: neither way places another order.
		for _, path := range []string{"/v1/orders", "/v1/orders/" + first.ID + "/reorder"} {
			var body any
			if path == "/v1/orders" {
				body = items("CUP-ESP-2", 1)
			}
			r := call(t, "POST", path, body, u.bearer()...)
			if p := r.Problem(t, 429, ""); !strings.HasSuffix(p.Type, "#order-quota") || r.Header.Get("Retry-After") == "" {
				t.Fatalf("POST %s past the quota: %s", path, r.Body)
			}
		}
		// A client retrying the first order still gets its answer.
		replay := call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), key...).Expect(t, 201)
		var replayed orderDoc
		replay.JSON(t, &replayed)
		if replay.Header.Get("Idempotent-Replayed") != "true" || replayed.ID != first.ID {
			t.Fatalf("replay past the quota: %s %s", replay.Header.Get("Idempotent-Replayed"), replay.Body)
		}
		var page struct{ Items []orderDoc }
		call(t, "GET", "/v1/orders?limit=100", nil, u.bearer()...).Expect(t, 200).JSON(t, &page)
		if len(page.Items) != quota {
			t.Fatalf("%d orders stored, want the quota, %d", len(page.Items), quota)
		}
	})
}

// wellInsideTheHour waits, when less than d is left of the clock's hour,
// for the next one: limits counted per clock hour (the order quota, the
// account emails) must not start afresh halfway through a test.
func wellInsideTheHour(d time.Duration) {
	if left := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); left < d {
		time.Sleep(left + time.Second)
	}
}

// ---------------------------------------------------------------- API7

// TestOWASP_API7_ServerSideRequestForgery: no route fetches a URL a client
// gives (docs/security.md). The places where a URL could slip in are
// checked against a canary server on this machine, which the functions
// could reach (MiniStack runs them here): key URLs in a token's header,
// and the host and origin headers a link could be built from. Emailed
// links always point at AppBaseUrl, and nothing ever calls the canary.
func TestOWASP_API7_ServerSideRequestForgery(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var hits []string
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.String())
		mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(canary.Close)
	host := strings.TrimPrefix(canary.URL, "http://")

	t.Run("key URLs in a token's header are not followed", func(t *testing.T) {
		u := register(t, "ssrf-token")
		u.login(t)
		attacker := apitest.NewAuth(t).Signer()
		claims := jwtClaims(t, u.Access)
		for _, header := range []map[string]any{
			{"alg": "ES256", "typ": "at+jwt", "kid": attacker.KeyID(), "jku": canary.URL + "/jwks.json"},
			{"alg": "ES256", "typ": "at+jwt", "kid": attacker.KeyID(), "x5u": canary.URL + "/cert.pem"},
			{"alg": "ES256", "typ": "at+jwt", "kid": canary.URL + "/key", "jku": canary.URL + "/jwks.json"},
		} {
			refusedEverywhere(t, jws(t, attacker, header, claims))
		}
	})

	t.Run("emailed links point at AppBaseUrl whatever the request names", func(t *testing.T) {
		spoof := []string{
			"X-Forwarded-Host", host, "X-Forwarded-Proto", "http", "X-Forwarded-Port", "80",
			"Forwarded", "for=203.0.113.9;host=" + host + ";proto=http", "X-Original-Host", host, "X-Host", host,
			"Origin", canary.URL, "Referer", canary.URL + "/signup",
		}
		u := user{Email: uniqueEmail(t, "ssrf-links"), Name: "Eve", Password: "correct horse battery staple"}
		call(t, "POST", "/v1/auth/register", map[string]string{"email": u.Email, "password": u.Password, "name": u.Name}, spoof...).Expect(t, 201)
		call(t, "POST", "/v1/auth/password-reset", map[string]string{"email": u.Email}, spoof...).Expect(t, 202)
		for subject, path := range map[string]string{verificationSubject: "/verify-email", resetSubject: "/reset-password"} {
			m := awaitMail(t, u.Email, subject)
			linkToken(t, m, path) // the link is {AppBaseUrl}{path}?token=...
			for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(m.HTML, -1) {
				if !strings.HasPrefix(href[1], output(t, "AppBaseUrl")+"/") {
					t.Errorf("%s: link %q does not point at AppBaseUrl", subject, href[1])
				}
			}
			if strings.Contains(m.Text+m.HTML, host) {
				t.Errorf("%s: the email names the request's host %s:\n%s", subject, host, m.Text)
			}
		}
	})

	t.Run("nothing called the canary", func(t *testing.T) {
		testcloud.Require(t, testcloud.FunctionsReachHostLoopback,
			"a function that fetched a URL a client named could not reach the canary on this machine, so its silence would prove nothing")
		mu.Lock()
		defer mu.Unlock()
		if len(hits) != 0 {
			t.Fatalf("the stack fetched URLs a client named: %v", hits)
		}
	})
}

// ---------------------------------------------------------------- API8

// TestOWASP_API8_SecurityMisconfiguration: the deployed stack's answers,
// configuration and logs, as an attacker or an auditor would look at them:
// security headers on every answer, nothing personal cached, problems
// without internals, no cross-origin grant, encrypted queues, no secret in
// the functions' configuration and no credential in the logs.
func TestOWASP_API8_SecurityMisconfiguration(t *testing.T) {
	t.Parallel()
	u := signUp(t, "misconfig")
	var o orderDoc
	call(t, "POST", "/v1/orders", items("TEA-EARL-100", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
	call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...).Expect(t, 200)

	public := []*apitest.Response{
		call(t, "GET", "/v1/health", nil),
		call(t, "GET", "/v1/products", nil),
		call(t, "GET", "/v1/products/COF-ESP-250", nil),
		call(t, "GET", "/.well-known/jwks.json", nil),
	}
	personal := []*apitest.Response{
		call(t, "GET", "/v1/users/me", nil, u.bearer()...),
		call(t, "GET", "/v1/orders", nil, u.bearer()...),
		call(t, "GET", "/v1/orders/"+o.ID, nil, u.bearer()...),
		call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password, "deviceToken": u.Device}),
		call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": u.Refresh}),
	}
	// Problems of every origin: the gateway (401, 404), the services' 4xx.
	problems := []*apitest.Response{
		call(t, "GET", "/v1/orders", nil),
		call(t, "GET", "/v1/users/me", nil, "Authorization", "Bearer a.b.c"),
		call(t, "GET", "/v1/nope", nil),
		call(t, "GET", "/v1/orders/"+missingOrderID, nil, u.bearer()...),
		call(t, "POST", "/v1/orders", `{"items":[{"sku":1}]}`, u.bearer()...),
		call(t, "POST", "/v1/orders", `{"items":`, u.bearer()...),
		call(t, "POST", "/v1/orders", items("NO-SUCH-SKU", 1), u.bearer()...),
		call(t, "POST", "/v1/orders/"+o.ID+"/cancel", nil, u.bearer()...),
		call(t, "GET", "/v1/orders?cursor=c1.AAAA.BBBB", nil, u.bearer()...),
		call(t, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": "wrong guess here"}),
		call(t, "POST", "/v1/auth/register", "email=x", "Content-Type", "text/plain"),
		call(t, "POST", "/v1/auth/register", `{"email":"`+strings.Repeat("a", 70<<10)+`"}`),
	}
	for i, r := range problems {
		if r.StatusCode < 400 {
			t.Fatalf("problem sample %d: %d %s", i, r.StatusCode, r.Body)
		}
	}

	// Every answer is a problem document of its status if an error, and
	// says nosniff: call checks that of each (apitest's Response.Check).
	t.Run("every answer says its media type", func(t *testing.T) {
		for _, r := range slices.Concat(public, personal, problems) {
			switch ct := r.Header.Get("Content-Type"); ct {
			case "application/json", "application/problem+json", "application/jwk-set+json":
			default:
				t.Errorf("%s %s (%d): Content-Type %q", r.Request.Method, r.Request.URL.Path, r.StatusCode, ct)
			}
		}
	})

	t.Run("personal answers, tokens and problems are not stored by caches", func(t *testing.T) {
		for _, r := range slices.Concat(personal, problems) {
			if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("%s %s (%d): Cache-Control %q, want no-store", r.Request.Method, r.Request.URL.Path, r.StatusCode, cc)
			}
		}
		for _, r := range public[1:] { // the catalog and the keys are the same for everyone
			if cc := r.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "public") {
				t.Errorf("%s: Cache-Control %q", r.Request.URL.Path, cc)
			}
		}
	})

	t.Run("problems tell nothing of the machinery", func(t *testing.T) {
		internals := []string{
			"goroutine", ".go:", "panic", "runtime error", "traceback", "exception", "arn:", "amazonaws", "dynamodb",
			"secretsmanager", "conditionalcheck", "validationexception", "github.com/aws", "lambda",
			strings.ToLower(output(t, "UsersTableName")), strings.ToLower(output(t, "OrdersTableName")), strings.ToLower(output(t, "StackName")),
		}
		for _, r := range problems {
			text := strings.ToLower(r.Body)
			for _, s := range internals {
				if strings.Contains(text, s) {
					t.Errorf("%s %s (%d) shows %q: %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, s, r.Body)
				}
			}
		}
	})

	t.Run("no origin is granted cross-origin access", func(t *testing.T) {
		evil := []string{"Origin", "https://evil.example"}
		for _, r := range []*apitest.Response{
			call(t, "GET", "/v1/users/me", nil, append(u.bearer(), evil...)...),
			call(t, "GET", "/v1/health", nil, evil...),
			call(t, "OPTIONS", "/v1/users/me", nil, append(evil, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")...),
		} {
			for name := range r.Header {
				if strings.HasPrefix(strings.ToLower(name), "access-control-allow-") {
					t.Errorf("%s %s: %s: %s", r.Request.Method, r.Request.URL.Path, name, r.Header.Get(name))
				}
			}
		}
	})

	t.Run("queues are encrypted at rest", func(t *testing.T) {
		q := sqs.NewFromConfig(stack.aws)
		for _, key := range []string{"OrderEventsQueueUrl", "OrderEventsDLQUrl", "RelayDeadLetterQueueUrl"} {
			out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
				QueueUrl: aws.String(output(t, key)), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Attributes["SqsManagedSseEnabled"] != "true" && out.Attributes["KmsMasterKeyId"] == "" {
				t.Errorf("%s is not encrypted: %v", key, out.Attributes)
			}
		}
	})

	t.Run("no secret is in the functions' configuration", func(t *testing.T) {
		secret, err := secretsmanager.NewFromConfig(stack.aws).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(output(t, "CursorSecretArn"))})
		if err != nil || len(aws.ToString(secret.SecretString)) < 32 {
			t.Fatalf("cursor secret: %v", err)
		}
		lam := lambda.NewFromConfig(stack.aws)
		for logical, name := range stackResources(t, "AWS::Lambda::Function") {
			cfg, err := lam.GetFunctionConfiguration(context.Background(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Environment == nil {
				continue
			}
			for k, v := range cfg.Environment.Variables {
				if strings.Contains(v, aws.ToString(secret.SecretString)) || strings.Contains(v, "PRIVATE KEY") {
					t.Errorf("%s: %s holds a secret", logical, k)
				}
				if k == "TOKEN_JWKS" {
					var set struct{ Keys []map[string]any }
					if err := json.Unmarshal([]byte(v), &set); err != nil || len(set.Keys) == 0 {
						t.Fatalf("%s: TOKEN_JWKS %q", logical, v)
					}
					for _, key := range set.Keys {
						if _, private := key["d"]; private {
							t.Errorf("%s: TOKEN_JWKS holds a private key", logical)
						}
					}
				}
			}
		}
	})

	t.Run("logs carry no credentials", func(t *testing.T) {
		since := time.Now().Add(-time.Second)
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		v := user{Email: uniqueEmail(t, "logs"), Name: "Log Reader", Password: "owasp-log-canary-" + run}
		newPassword := "owasp-log-canary-new-" + run
		rid := func(step string) []string { return []string{"X-Request-Id", "owasp-api8-" + run + "-" + step} }
		var reg struct{ ID string }
		call(t, "POST", "/v1/auth/register", map[string]string{"email": v.Email, "password": v.Password, "name": v.Name}, rid("register")...).Expect(t, 201).JSON(t, &reg)
		link := linkToken(t, awaitMail(t, v.Email, verificationSubject), "/verify-email")
		verified := deviceOf(t, call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": link}, rid("verify")...))
		var first, second tokenPair
		call(t, "POST", "/v1/auth/login", map[string]string{"email": v.Email, "password": v.Password}, rid("login")...).Expect(t, 200).JSON(t, &first)
		call(t, "POST", "/v1/auth/refresh", map[string]string{"refreshToken": first.RefreshToken}, rid("refresh")...).Expect(t, 200).JSON(t, &second)
		call(t, "GET", "/v1/orders", nil, append([]string{"Authorization", "Bearer " + second.AccessToken}, rid("orders")...)...).Expect(t, 200)
		call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": v.Password, "newPassword": newPassword},
			append([]string{"Authorization", "Bearer " + second.AccessToken}, rid("password")...)...).Expect(t,
			204)

		// Every request above left its lines (the services log each
		// request with its correlation id; the mailer logs the email with
		// the registration's): the logs to search are all there.
		groups := map[string][]string{"users": {"register", "verify", "login", "refresh", "password"}, "orders": {"orders"}, "notifications": {"register"}}
		lines := map[string][]string{}
		for _, fn := range []string{"authorizer", "users", "orders", "usersRelay", "ordersRelay", "notifications"} {
			group := testcloud.LogGroup(t, stack.aws, output(t, "StackName"), fn)
			testcloud.Eventually(t, time.Minute, "the log lines of the requests in "+group, func() bool {
				lines[fn] = logLines(t, group, since)
				for _, step := range groups[fn] {
					if !slices.ContainsFunc(lines[fn], func(l string) bool { return strings.Contains(l, `"correlationId":"owasp-api8-`+run+"-"+step+`"`) }) {
						return false
					}
				}
				return true
			})
		}
		secrets := map[string]string{
			"password": v.Password, "new password": newPassword, "verification token": link,
			"refresh token":               first.RefreshToken[strings.LastIndexByte(first.RefreshToken, '.')+1:],
			"next refresh token":          second.RefreshToken[strings.LastIndexByte(second.RefreshToken, '.')+1:],
			"access token":                second.AccessToken[strings.LastIndexByte(second.AccessToken, '.')+1:],
			"device token":                strings.TrimPrefix(first.DeviceToken, "dv1."),
			"verification's device token": strings.TrimPrefix(verified, "dv1."),
		}
		for fn, ls := range lines {
			for _, l := range ls {
				for what, s := range secrets {
					if strings.Contains(l, s) {
						t.Errorf("the %s log holds the %s: %s", fn, what, l)
					}
				}
			}
		}
	})
}

// logLines returns the messages of a log group since a time.
func logLines(t *testing.T, group string, since time.Time) []string {
	t.Helper()
	logs := cloudwatchlogs.NewFromConfig(stack.aws)
	p := cloudwatchlogs.NewFilterLogEventsPaginator(logs, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: aws.String(group), StartTime: aws.Int64(since.UnixMilli()),
	})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		var missing *logstypes.ResourceNotFoundException
		if errors.As(err, &missing) && testcloud.Cloud() == "localstack" {
			// LocalStack makes a function's group with its first line
			// (testcloud.LogGroup): a function that never ran there (the
			// authorizer) has none, and so no line.
			return nil
		}
		if err != nil {
			t.Fatalf("logs of %s: %v", group, err)
		}
		for _, e := range page.Events {
			out = append(out, aws.ToString(e.Message))
		}
	}
	return out
}

// ---------------------------------------------------------------- API9

// TestOWASP_API9_InventoryManagement: what is deployed is what is
// documented. The gateway serves exactly the operations of
// api/openapi.yaml, each by the service that owns it, on one stage of one
// API; nothing answers beside the documented version; and the health
// route names the version that is deployed.
func TestOWASP_API9_InventoryManagement(t *testing.T) {
	t.Parallel()
	deployed := deployedMethods(t)
	ops := documentedOperations(t)

	t.Run("the deployed routes are the documented ones", func(t *testing.T) {
		// Each documented path also has an ANY method, whose service answers
		// 405 with the path's methods (see the template).
		documented := map[string]bool{}
		for _, op := range ops {
			documented[op.method+" "+op.path] = true
			documented["ANY "+op.path] = true
		}
		for route := range deployed {
			if !documented[route] {
				t.Errorf("deployed but not in api/openapi.yaml: %s", route)
			}
		}
		for route := range documented {
			if _, ok := deployed[route]; !ok {
				t.Errorf("in api/openapi.yaml but not deployed: %s", route)
			}
		}
	})

	t.Run("each route reaches the service that owns it", func(t *testing.T) {
		functions := stackResources(t, "AWS::Lambda::Function")
		owner := map[string]string{"auth": "UsersFunction", "users": "UsersFunction", "operations": "UsersFunction", "products": "OrdersFunction", "orders": "OrdersFunction"}
		for _, op := range ops {
			fn := functions[owner[op.tag]]
			for _, method := range []string{op.method, "ANY"} {
				m := deployed[method+" "+op.path]
				if fn == "" || m.Integration.Type != "AWS_PROXY" || !strings.Contains(m.Integration.URI, ":function:"+fn+"/") {
					t.Errorf("%s %s (%s) is integrated with %s %s, want %s", method, op.path, op.tag, m.Integration.Type, m.Integration.URI, fn)
				}
			}
		}
	})

	t.Run("one API with one stage", func(t *testing.T) {
		apis := stackResources(t, "AWS::ApiGateway::RestApi")
		if len(apis) != 1 || slices.Collect(maps.Values(apis))[0] != output(t, "ApiId") {
			t.Fatalf("the stack's REST APIs %v, want only %s", apis, output(t, "ApiId"))
		}
		var stages struct {
			Item []struct {
				StageName string `json:"stageName"`
			} `json:"item"`
		}
		awsGet(t, "apigateway", "/restapis/"+output(t, "ApiId")+"/stages", &stages)
		if len(stages.Item) != 1 || stages.Item[0].StageName != output(t, "ApiStage") {
			t.Fatalf("stages %+v, want only %s", stages.Item, output(t, "ApiStage"))
		}
	})

	t.Run("nothing answers beside the documented version", func(t *testing.T) {
		for _, path := range []string{"/v0/health", "/v1.1/health", "/health", "/api/v1/health", "/V1/health", "/v1/Health", "/v1/health/debug", "/v1/internal/health", "/.well-known/openid-configuration", "/v1/openapi.yaml", "/swagger.json"} {
			call(t, "GET", path, nil).Problem(t, 404, "not-found")
		}
	})

	t.Run("health names the deployed version", func(t *testing.T) {
		var health struct{ Status, Version string }
		call(t, "GET", "/v1/health", nil).Expect(t, 200).JSON(t, &health)
		if !regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$`).MatchString(health.Version) || health.Version == "dev" {
			t.Fatalf("health version %q: the build did not stamp its version", health.Version)
		}
	})
}

// operation is an operation of api/openapi.yaml.
type operation struct {
	method, path string
	example      string // the path with example values for its parameters
	tag          string
	protected    bool // needs an access token
	body         bool // takes a JSON body
}

// documentedOperations lists the operations of api/openapi.yaml.
func documentedOperations(t *testing.T) []operation {
	t.Helper()
	examples := strings.NewReplacer("{id}", missingOrderID, "{sku}", "COF-ESP-250")
	var ops []operation
	for path, item := range stack.doc.Paths.Map() {
		for method, op := range item.Operations() {
			protected := op.Security == nil || len(*op.Security) > 0
			ops = append(ops, operation{
				method: method, path: path, example: examples.Replace(path), tag: op.Tags[0],
				protected: protected, body: op.RequestBody != nil,
			})
		}
	}
	slices.SortFunc(ops, func(a, b operation) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	if len(ops) < 16 {
		t.Fatalf("openapi.yaml has %d operations", len(ops))
	}
	return ops
}

// deployedMethod is a method of the deployed REST API.
type deployedMethod struct {
	AuthorizationType string `json:"authorizationType"`
	AuthorizerID      string `json:"authorizerId"`
	Integration       struct {
		Type string `json:"type"`
		URI  string `json:"uri"`
	} `json:"methodIntegration"`
}

// deployedMethods reads the deployed API's methods from API Gateway, keyed
// "METHOD /path" (CORS preflights, OPTIONS, left out).
func deployedMethods(t *testing.T) map[string]deployedMethod {
	t.Helper()
	var resources struct {
		Item []struct {
			Path    string                    `json:"path"`
			Methods map[string]deployedMethod `json:"resourceMethods"`
		} `json:"item"`
	}
	awsGet(t, "apigateway", "/restapis/"+output(t, "ApiId")+"/resources?embed=methods&limit=500", &resources)
	out := map[string]deployedMethod{}
	for _, r := range resources.Item {
		for method, m := range r.Methods {
			if method != "OPTIONS" {
				out[method+" "+r.Path] = m
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the deployed API has no methods")
	}
	return out
}

// awsGet calls an AWS REST API with SigV4 and the test's credentials:
// API Gateway's management API, for which the module has no SDK client,
// and Lambda's where the emulator answers what the SDK cannot read.
func awsGet(t *testing.T, service, path string, v any) {
	t.Helper()
	ctx := context.Background()
	creds, err := stack.aws.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := aws.ToString(stack.aws.BaseEndpoint)
	if endpoint == "" {
		endpoint = "https://" + service + "." + stack.aws.Region + ".amazonaws.com"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", endpoint+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	empty := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), service, stack.aws.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s GET %s: %v", service, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s GET %s: %d %s %v", service, path, resp.StatusCode, b, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s GET %s: %v", service, path, err)
	}
}

// lenientInt reads a JSON integer, or an integer in a JSON string.
// MiniStack 1.5.33 stores the ScalingConfig of an event source mapping
// created by CloudFormation with the string the template's parameter
// resolved to and answers {"MaximumConcurrency": "5"}, which the Lambda
// SDK refuses to read (AWS answers a number). docs/local-cloud.md.
type lenientInt int

func (n *lenientInt) UnmarshalJSON(b []byte) error {
	i, err := strconv.Atoi(strings.Trim(string(b), `"`))
	*n = lenientInt(i)
	return err
}

// stackResources maps the logical ids of the stack's resources of a type
// to their physical ids.
func stackResources(t *testing.T, typ string) map[string]string {
	t.Helper()
	out, err := cloudformation.NewFromConfig(stack.aws).DescribeStackResources(context.Background(), &cloudformation.DescribeStackResourcesInput{StackName: aws.String(output(t, "StackName"))})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range out.StackResources {
		if aws.ToString(r.ResourceType) == typ {
			m[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
		}
	}
	return m
}

// ---------------------------------------------------------------- API10

// TestOWASP_API10_UnsafeConsumption: what the services consume from each
// other is validated before use. Events put straight on the events queue
// (as a compromised or buggy producer would) reach the deployed
// notification function: a valid one is mailed, and each malformed one
// lands in the dead-letter queue with its reason and is never mailed.
func TestOWASP_API10_UnsafeConsumption(t *testing.T) {
	t.Parallel()
	q := sqs.NewFromConfig(stack.aws)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	recipient := uniqueEmail(t, "consumer")
	bystander := uniqueEmail(t, "bystander")
	event := func(id string, change func(e, order, customer map[string]any)) string {
		now := time.Now().UTC().Format(time.RFC3339)
		order := map[string]any{
			"id": "owasp-" + id + "-" + run, "status": "PENDING", "currency": "USD", "total": 2580, "createdAt": now, "updatedAt": now,
			"items": []map[string]any{{"sku": "COF-ESP-250", "name": "Espresso Blend, 250 g", "quantity": 2, "unitPrice": 1290, "lineTotal": 2580}},
		}
		customer := map[string]any{"id": "owasp-customer-" + run, "email": recipient, "name": "Consumer"}
		e := map[string]any{"type": "order.created", "version": 1, "id": "owasp-" + id + "-" + run, "occurredAt": now,
			"correlationId": "owasp-api10-" + run, "order": order, "customer": customer}
		if change != nil {
			change(e, order, customer)
		}
		return segmentJSON(t, e)
	}
	valid := event("valid", nil)
	poison := map[string]struct{ body, reason string }{
		"not JSON":            {"not json " + run, "invalid event"},
		"trailing data":       {event("trailing", nil) + `{"type":"order.created"}`, "trailing data"},
		"unknown type":        {event("unknown", func(e, _, _ map[string]any) { e["type"] = "order.refunded" }), "unknown type"},
		"unsupported version": {event("version", func(e, _, _ map[string]any) { e["version"] = 2 }), "unsupported version"},
		"a total that is not the sum of its lines": {event("total", func(_, o, _ map[string]any) { o["total"] = 1 }), "order.total"},
		"a line priced inconsistently": {event("line", func(_, o, _ map[string]any) {
			o["items"] = []map[string]any{{"sku": "COF-ESP-250", "name": "Espresso Blend, 250 g", "quantity": 2, "unitPrice": 1, "lineTotal": 2580}}
		}), "order.items[0]"},
		"a header injected in the recipient": {event("header", func(_, _, c map[string]any) { c["email"] = recipient + "\r\nBcc: " + bystander }), "customer.email"},
		"over the size limit":                {event("size", func(_, _, c map[string]any) { c["name"] = strings.Repeat("x", 210<<10) }), "exceeds"},
	}

	send := func(body string) string {
		t.Helper()
		group := "owasp-api10-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		out, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(output(t, "OrderEventsQueueUrl")), MessageBody: aws.String(body),
			MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(group),
		})
		if err != nil {
			t.Fatalf("send: %v", err)
		}
		return aws.ToString(out.MessageId)
	}
	sent := map[string]string{} // message id -> case
	for name, p := range poison {
		sent[send(p.body)] = name
	}
	send(valid)

	t.Run("a valid event is mailed", func(t *testing.T) {
		awaitMail(t, recipient, "owasp-valid-"+run)
	})

	t.Run("each malformed event is dead-lettered with its reason", func(t *testing.T) {
		dlq := aws.String(output(t, "OrderEventsDLQUrl"))
		reasons := map[string]string{}
		testcloud.Eventually(t, 2*time.Minute, "the malformed events in the dead-letter queue", func() bool {
			out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
				QueueUrl: dlq, MaxNumberOfMessages: 10, VisibilityTimeout: 1, MessageAttributeNames: []string{"All"},
			})
			if err != nil {
				t.Fatalf("receive: %v", err)
			}
			for _, m := range out.Messages {
				source := aws.ToString(m.MessageAttributes["sourceMessageId"].StringValue)
				name, ours := sent[source]
				if !ours {
					continue
				}
				reasons[name] = aws.ToString(m.MessageAttributes["poisonReason"].StringValue)
				if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: dlq, ReceiptHandle: m.ReceiptHandle}); err != nil {
					t.Fatalf("delete: %v", err)
				}
			}
			return len(reasons) == len(poison)
		})
		for name, p := range poison {
			if !strings.Contains(reasons[name], p.reason) {
				t.Errorf("%s: poison reason %q, want it to say %q", name, reasons[name], p.reason)
			}
		}
	})

	t.Run("no malformed event is mailed", func(t *testing.T) {
		got := mailsTo(t, recipient, "")
		if len(got) != 1 || !strings.Contains(got[0].Subject, "owasp-valid-"+run) {
			var subjects []string
			for _, m := range got {
				subjects = append(subjects, m.Subject)
			}
			t.Fatalf("emails to the recipient: %q, want only the valid event's", subjects)
		}
		if n := len(testcloud.MailTo(t, bystander, "")); n != 0 {
			t.Fatalf("the injected Bcc address got %d emails", n)
		}
	})
}
