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
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// The P-256 example key of RFC 7517 appendix A.1: TestParseJWKS accepts it
// under its RFC 7638 thumbprint only, which pins how key ids are computed.
const (
	rfc7517X = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"
	rfc7517Y = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"
	// rfc7517Thumbprint was computed outside Go: base64url(SHA-256(
	// `{"crv":"P-256","kty":"EC","x":"<x>","y":"<y>"}`)).
	rfc7517Thumbprint = "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
)

// p384 is a key of another curve than the one tokens use.
func p384(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewSigner(t *testing.T) {
	t.Parallel()
	if _, err := apitest.NewSigner(p384(t)); err == nil {
		t.Error("NewSigner(P-384 key) succeeded, want an error")
	}
	k := apitest.NewKey()
	s, err := apitest.NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	if want := token.NewPublicKey(&k.PublicKey); s.KeyID() != want.ID || s.PublicKey().ID != want.ID || !s.PublicKey().Key.Equal(want.Key) {
		t.Errorf("KeyID() = %q, PublicKey() = %+v, want %+v", s.KeyID(), s.PublicKey(), want)
	}
	digest := sha256.Sum256([]byte("signing input"))
	if der, err := s.SignDigest(context.Background(), digest[:]); err != nil || !ecdsa.VerifyASN1(&k.PublicKey, digest[:], der) {
		t.Errorf("SignDigest = %x, %v; want an ASN.1 ECDSA signature that verifies", der, err)
	}
}

// TestNewPublicKeyPanicsOnOtherCurves: the signers and ParsePublicKey let
// only P-256 keys through.
func TestNewPublicKeyPanicsOnOtherCurves(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("NewPublicKey of a P-384 key did not panic")
		}
	}()
	token.NewPublicKey(&p384(t).PublicKey)
}

func TestParsePublicKey(t *testing.T) {
	t.Parallel()
	p256 := apitest.NewKey()
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
	good := token.NewPublicKey(&p256.PublicKey)
	tests := []struct {
		name string
		der  []byte
		want token.PublicKey // zero: an error
	}{
		{name: "P-256", der: der(&p256.PublicKey), want: good},
		{name: "P-384", der: der(&p384(t).PublicKey)},
		{name: "Ed25519", der: der(edPub)},
		{name: "empty", der: nil},
		{name: "garbage", der: []byte("-----BEGIN PUBLIC KEY-----")},
		{name: "truncated DER", der: der(&p256.PublicKey)[:40]},
	}
	for _, tc := range tests {
		k, err := token.ParsePublicKey(tc.der)
		if (err == nil) != (tc.want.Key != nil) || k.ID != tc.want.ID || (k.Key != nil) != (tc.want.Key != nil) || (k.Key != nil && !k.Key.Equal(tc.want.Key)) {
			t.Errorf("%s: ParsePublicKey = %+v, %v; want %+v", tc.name, k, err, tc.want)
		}
	}
}

// TestJWKS pins the members of each key. (That ParseJWKS reads the set
// back into keys that verify is TestConfigVerifyWhatTheConfiguredKeySigned.)
func TestJWKS(t *testing.T) {
	t.Parallel()
	if doc, err := token.JWKS(nil); err != nil || string(doc) != `{"keys":[]}` {
		t.Errorf("JWKS(nil) = %s, %v; want {\"keys\":[]}", doc, err)
	}
	var keys []token.PublicKey
	var want []map[string]string
	for range 3 {
		k := token.NewPublicKey(&apitest.NewKey().PublicKey)
		point, err := k.Key.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		want = append(want, map[string]string{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": k.ID,
			"x": base64.RawURLEncoding.EncodeToString(point[1:33]), "y": base64.RawURLEncoding.EncodeToString(point[33:])})
	}
	doc, err := token.JWKS(keys)
	if err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil || !reflect.DeepEqual(set.Keys, want) {
		t.Errorf("JWKS = %s (%v), want the keys %v", doc, err, want)
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
		keys, err := token.ParseJWKS([]byte(tc.doc))
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		if (err == nil) != (tc.wantErr == "") || (err != nil && (!strings.Contains(err.Error(), tc.wantErr) || keys != nil)) || !slices.Equal(ids, tc.wantIDs) {
			t.Errorf("%s: ParseJWKS = %v, %v; want %v, an error containing %q", tc.name, ids, err, tc.wantIDs, tc.wantErr)
		}
	}
}
