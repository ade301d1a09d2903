package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// rfc7517Key is the P-256 example key of RFC 7517 appendix A.1.
const (
	rfc7517X = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
	rfc7517Y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
	// rfc7517Thumbprint was computed outside Go: base64url(SHA-256(
	// `{"crv":"P-256","kty":"EC","x":"<x>","y":"<y>"}`)).
	rfc7517Thumbprint = "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
)

func rfc7517Key(t *testing.T) *ecdsa.PublicKey {
	t.Helper()
	x, _ := base64.RawURLEncoding.DecodeString(rfc7517X)
	y, _ := base64.RawURLEncoding.DecodeString(rfc7517Y)
	k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("RFC 7517 key: %v", err)
	}
	return k
}

// rfc7638 computes the thumbprint the way RFC 7638 section 3 describes it,
// independently of the package: the required members only, sorted, no
// whitespace (encoding/json sorts map keys and adds none).
func rfc7638(t *testing.T, k *ecdsa.PublicKey) string {
	t.Helper()
	point, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	members, err := json.Marshal(map[string]string{
		"kty": "EC",
		"crv": "P-256",
		"x":   base64.RawURLEncoding.EncodeToString(point[1:33]),
		"y":   base64.RawURLEncoding.EncodeToString(point[33:]),
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(members)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestThumbprint(t *testing.T) {
	t.Parallel()
	t.Run("RFC 7517 example key", func(t *testing.T) {
		t.Parallel()
		if got := token.NewPublicKey(rfc7517Key(t)).ID; got != rfc7517Thumbprint {
			t.Errorf("thumbprint = %q, want %q", got, rfc7517Thumbprint)
		}
	})
	t.Run("RFC 7638 construction", func(t *testing.T) {
		t.Parallel()
		for range 20 {
			k := apitest.NewKey()
			if got, want := token.NewPublicKey(&k.PublicKey).ID, rfc7638(t, &k.PublicKey); got != want {
				t.Fatalf("thumbprint = %q, want %q", got, want)
			}
		}
	})
	t.Run("stable across representations", func(t *testing.T) {
		t.Parallel()
		k := apitest.NewKey()
		first := token.NewPublicKey(&k.PublicKey).ID
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		fromDER, err := token.ParsePublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := token.JWKS([]token.PublicKey{fromDER})
		if err != nil {
			t.Fatal(err)
		}
		fromJWKS, err := token.ParseJWKS(doc)
		if err != nil || len(fromJWKS) != 1 {
			t.Fatalf("ParseJWKS = %v, %v", fromJWKS, err)
		}
		ids := map[string]string{
			"again":   token.NewPublicKey(&k.PublicKey).ID,
			"signer":  newSigner(t, k).KeyID(),
			"PKIX":    fromDER.ID,
			"JWKS":    fromJWKS[0].ID,
			"decoded": token.NewPublicKey(fromJWKS[0].Key).ID,
		}
		for via, id := range ids {
			if id != first {
				t.Errorf("thumbprint via %s = %q, want %q", via, id, first)
			}
		}
	})
	t.Run("distinct keys distinct ids", func(t *testing.T) {
		t.Parallel()
		seen := map[string]bool{}
		for range 20 {
			k := apitest.NewKey()
			id := token.NewPublicKey(&k.PublicKey).ID
			if len(id) != 43 { // 32 bytes, unpadded base64url
				t.Fatalf("thumbprint %q has %d characters, want 43", id, len(id))
			}
			if seen[id] {
				t.Fatalf("thumbprint %q repeated", id)
			}
			seen[id] = true
		}
	})
}

func TestNewECDSASigner(t *testing.T) {
	t.Parallel()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := token.NewECDSASigner(p384); err == nil {
		t.Error("NewECDSASigner(P-384 key) succeeded, want an error")
	}

	k := apitest.NewKey()
	s := newSigner(t, k)
	if want := token.NewPublicKey(&k.PublicKey).ID; s.KeyID() != want || s.PublicKey().ID != want {
		t.Errorf("KeyID() = %q, PublicKey().ID = %q, want %q", s.KeyID(), s.PublicKey().ID, want)
	}
	if !s.PublicKey().Key.Equal(&k.PublicKey) {
		t.Error("PublicKey().Key is not the signer's public key")
	}
	digest := sha256.Sum256([]byte("signing input"))
	der, err := s.SignDigest(context.Background(), digest[:])
	if err != nil {
		t.Fatalf("SignDigest: %v", err)
	}
	if !ecdsa.VerifyASN1(&k.PublicKey, digest[:], der) {
		t.Error("SignDigest signature does not verify as ASN.1 ECDSA")
	}
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	p256 := apitest.NewKey()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der := func(pub any) []byte {
		b, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		der     []byte
		wantErr bool
	}{
		{name: "P-256", der: der(&p256.PublicKey)},
		{name: "P-384", der: der(&p384.PublicKey), wantErr: true},
		{name: "Ed25519", der: der(edPub), wantErr: true},
		{name: "empty", der: nil, wantErr: true},
		{name: "garbage", der: []byte("-----BEGIN PUBLIC KEY-----"), wantErr: true},
		{name: "truncated DER", der: der(&p256.PublicKey)[:40], wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := token.ParsePublicKey(tc.der)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParsePublicKey succeeded with id %q, want an error", k.ID)
				}
				if k.Key != nil || k.ID != "" {
					t.Errorf("ParsePublicKey returned %+v with an error", k)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePublicKey: %v", err)
			}
			if want := token.NewPublicKey(&p256.PublicKey).ID; k.ID != want {
				t.Errorf("ID = %q, want %q", k.ID, want)
			}
			if !k.Key.Equal(&p256.PublicKey) {
				t.Error("parsed key differs from the original")
			}
		})
	}
}

func TestJWKSRoundTrip(t *testing.T) {
	t.Parallel()
	var keys []token.PublicKey
	for range 3 {
		keys = append(keys, token.NewPublicKey(&apitest.NewKey().PublicKey))
	}
	doc, err := token.JWKS(keys)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}

	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWKS is not JSON: %v\n%s", err, doc)
	}
	if len(set.Keys) != len(keys) {
		t.Fatalf("JWKS has %d keys, want %d", len(set.Keys), len(keys))
	}
	for i, jwk := range set.Keys {
		point, err := keys[i].Key.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": keys[i].ID,
			"x": base64.RawURLEncoding.EncodeToString(point[1:33]),
			"y": base64.RawURLEncoding.EncodeToString(point[33:]),
		}
		if len(jwk) != len(want) {
			t.Errorf("key %d has members %v, want exactly %v", i, jwk, want)
		}
		for m, v := range want {
			if jwk[m] != v {
				t.Errorf("key %d member %q = %q, want %q", i, m, jwk[m], v)
			}
		}
	}

	back, err := token.ParseJWKS(doc)
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	if len(back) != len(keys) {
		t.Fatalf("ParseJWKS returned %d keys, want %d", len(back), len(keys))
	}
	for i := range keys {
		if back[i].ID != keys[i].ID {
			t.Errorf("key %d id = %q, want %q", i, back[i].ID, keys[i].ID)
		}
		if !back[i].Key.Equal(keys[i].Key) {
			t.Errorf("key %d differs after the round trip", i)
		}
	}
}

func TestJWKSEmpty(t *testing.T) {
	t.Parallel()
	doc, err := token.JWKS(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(doc) != `{"keys":[]}` {
		t.Errorf("JWKS(nil) = %s, want {\"keys\":[]}", doc)
	}
}

func TestParseJWKS(t *testing.T) {
	t.Parallel()
	good := token.NewPublicKey(&apitest.NewKey().PublicKey)
	other := token.NewPublicKey(&apitest.NewKey().PublicKey)
	point, err := good.Key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	x := base64.RawURLEncoding.EncodeToString(point[1:33])
	y := base64.RawURLEncoding.EncodeToString(point[33:])
	// A point off the curve: y+1 (flip the lowest bit of the last byte).
	offCurve := append([]byte(nil), point[33:]...)
	offCurve[31] ^= 1
	yOff := base64.RawURLEncoding.EncodeToString(offCurve)

	jwk := func(kid, x, y string) string {
		return `{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `","kid":"` + kid + `"}`
	}
	set := func(keys ...string) string { return `{"keys":[` + strings.Join(keys, ",") + `]}` }

	tests := []struct {
		name    string
		doc     string
		wantIDs []string
		wantErr string // substring of the error; "" for success
	}{
		{name: "one key", doc: set(jwk(good.ID, x, y)), wantIDs: []string{good.ID}},
		{name: "RFC 7517 example key", doc: set(jwk(rfc7517Thumbprint, rfc7517X, rfc7517Y)), wantIDs: []string{rfc7517Thumbprint}},
		{name: "no keys", doc: `{"keys":[]}`},
		{name: "keys member missing", doc: `{}`},
		{
			name: "other key types skipped",
			doc: set(
				`{"kty":"RSA","n":"0vx7","e":"AQAB","kid":"rsa"}`,
				`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"}`,
				`{"kty":"EC","crv":"P-384","x":"AA","y":"AA","kid":"p384"}`,
				`{"kty":"oct","k":"c2VjcmV0","kid":"hmac"}`,
				jwk(good.ID, x, y),
			),
			wantIDs: []string{good.ID},
		},
		{name: "kid of another key", doc: set(jwk(other.ID, x, y)), wantErr: "thumbprint"},
		{name: "kid made up", doc: set(jwk("key-1", x, y)), wantErr: "thumbprint"},
		{name: "kid missing", doc: set(`{"kty":"EC","crv":"P-256","x":"` + x + `","y":"` + y + `"}`), wantErr: "thumbprint"},
		{name: "one bad key among good ones", doc: set(jwk(good.ID, x, y), jwk("alias", x, y)), wantErr: "thumbprint"},
		{name: "x not base64url", doc: set(jwk(good.ID, "***", y)), wantErr: "bad coordinates"},
		{name: "y padded base64", doc: set(jwk(good.ID, x, y+"=")), wantErr: "bad coordinates"},
		{name: "x too short", doc: set(jwk(good.ID, x[:40], y)), wantErr: "bad coordinates"},
		{name: "y too long", doc: set(jwk(good.ID, x, y+"AAAA")), wantErr: "bad coordinates"},
		{name: "point not on the curve", doc: set(jwk(good.ID, x, yOff)), wantErr: "parse jwks"},
		{name: "not JSON", doc: `keys`, wantErr: "parse jwks"},
		{name: "keys not an array", doc: `{"keys":{}}`, wantErr: "parse jwks"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys, err := token.ParseJWKS([]byte(tc.doc))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseJWKS error = %v, want one containing %q", err, tc.wantErr)
				}
				if keys != nil {
					t.Errorf("ParseJWKS returned keys %v with an error", keys)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantIDs, ",") {
				t.Errorf("ParseJWKS ids = %v, want %v", ids, tc.wantIDs)
			}
		})
	}
}
