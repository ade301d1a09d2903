package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// Issuer and audience of every token in these tests.
const (
	testIssuer   = "https://users.shop.example"
	testAudience = "https://api.shop.example"
)

// t0 is the fixed "now" of the tests: whole seconds, as token times are.
var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// segment encodes v as a JWS header or payload segment.
func segment(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("marshal segment: %v", err)
	}
	return b64(b)
}

// decodeSegment decodes a header or payload segment of a compact JWS.
func decodeSegment(tb testing.TB, seg string, v any) {
	tb.Helper()
	if err := json.Unmarshal(mustDecode(tb, seg), v); err != nil {
		tb.Fatalf("unmarshal segment: %v", err)
	}
}

func mustDecode(tb testing.TB, seg string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// signES256 returns the base64url JWS signature (raw R || S, low s) of input.
func signES256(tb testing.TB, k *ecdsa.PrivateKey, input string) string {
	tb.Helper()
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	if n := k.Curve.Params().N; s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
		s.Sub(n, s) // the low-s twin, which is what verifiers accept
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return b64(sig)
}

// issue is a token of sub from an issuer with signer s, ttl and clock now.
func issue(tb testing.TB, s token.Signer, ttl time.Duration, now time.Time, sub token.Subject) string {
	tb.Helper()
	raw, _, err := token.NewIssuer(s, testIssuer, testAudience, ttl, clockAt(now)).Issue(context.Background(), sub)
	if err != nil {
		tb.Fatalf("Issue: %v", err)
	}
	return raw
}

// signFunc is a token.Signer whose signature the test chooses.
type signFunc func(ctx context.Context, digest []byte) ([]byte, error)

func (signFunc) KeyID() string { return "kid" }

func (f signFunc) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	return f(ctx, digest)
}

// forgery makes the tokens of TestVerify and FuzzVerify: signed by the
// trusted key or another one, with the header and claims a test chooses.
type forgery struct {
	tb     testing.TB
	key    *ecdsa.PrivateKey // the trusted key
	kid    string            // its key id
	other  *ecdsa.PrivateKey // a key the verifier does not know
	issued string            // a genuine token from Issuer.Issue at t0
	valid  string            // a genuine token signed by hand: header() and claims()
}

// newForgery uses a fixed trusted key, not a random one, so that a token
// signed with it in a saved fuzz corpus entry still verifies in a later
// run. (Being public, it signs test tokens only.)
func newForgery(tb testing.TB) *forgery {
	tb.Helper()
	scalar := sha256.Sum256([]byte("serverless-shop FuzzVerify key"))
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := apitest.NewSigner(key)
	if err != nil {
		tb.Fatal(err)
	}
	f := &forgery{tb: tb, key: key, kid: signer.KeyID(), other: apitest.NewKey()}
	f.issued = issue(tb, signer, token.DefaultTTL, t0, token.Subject{UserID: "01JPAZ3Q7R0000000000000000", Email: "ada@example.com",
		Name: "Ada Lovelace", EmailVerified: true, SessionID: "fam-1", SessionEpoch: 3})
	f.valid = f.sign(nil, f.header(), f.claims())
	return f
}

// verifier trusts the key of f, on a clock at t0 + at.
func (f *forgery) verifier(at time.Duration) *token.Verifier {
	return token.NewVerifier([]token.PublicKey{token.NewPublicKey(&f.key.PublicKey)}, testIssuer, testAudience, clockAt(t0.Add(at)))
}

func (f *forgery) header() map[string]any {
	return map[string]any{"alg": "ES256", "typ": token.Type, "kid": f.kid}
}

// claims are what Issuer.Issue writes, with a fixed jti.
func (f *forgery) claims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "01JPAZ3Q7R0000000000000000", "aud": []string{testAudience},
		"exp": t0.Add(token.DefaultTTL).Unix(), "iat": t0.Unix(), "nbf": t0.Unix(),
		"jti": "c2VydmVybGVzcy1zaG9wLWp0aQ", "email": "ada@example.com", "name": "Ada Lovelace",
		"email_verified": true, "sid": "fam-1", "sep": 3,
	}
}

func (f *forgery) input(h, c map[string]any) string { return segment(f.tb, h) + "." + segment(f.tb, c) }

// sign signs header and claims with k (the trusted key when nil).
func (f *forgery) sign(k *ecdsa.PrivateKey, h, c map[string]any) string {
	if k == nil {
		k = f.key
	}
	in := f.input(h, c)
	return in + "." + signES256(f.tb, k, in)
}

// hs256 is the claims MACed with HS256 under secret.
func (f *forgery) hs256(secret []byte) string {
	h := f.header()
	h["alg"] = "HS256"
	in := f.input(h, f.claims())
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + b64(mac.Sum(nil))
}

// sized is a genuine token of exactly n bytes. The name claim sets the
// size; base64 never yields a length of 1 mod 4, so a padding header field
// of 0 to 3 bytes fills the gap.
func (f *forgery) sized(n int) string {
	for pad := range 4 {
		h := f.header()
		h["p"] = strings.Repeat("x", pad)
		c := f.claims()
		c["name"] = ""
		// Each 3 bytes of name add 4 characters: start just short of n.
		for name := max(0, (n-87-len(f.input(h, c)))*3/4-3); name < n; name++ {
			c["name"] = strings.Repeat("a", name)
			in := f.input(h, c)
			if len(in)+87 == n { // "." + 86 characters of signature
				return in + "." + signES256(f.tb, f.key, in)
			}
			if len(in)+87 > n {
				break
			}
		}
	}
	f.tb.Fatalf("cannot build a token of %d bytes", n)
	return ""
}

// parts are the segments of the hand-signed genuine token.
func (f *forgery) parts() []string { return strings.Split(f.valid, ".") }

// highS is the genuine token with the other valid signature of the same
// digest, (r, n-s).
func (f *forgery) highS() string {
	p := f.parts()
	sig, _ := base64.RawURLEncoding.DecodeString(p[2])
	new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(sig[32:])).FillBytes(sig[32:])
	return p[0] + "." + p[1] + "." + b64(sig)
}

// b64Alphabet is base64url's alphabet, in the order of the values.
const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// nonCanonical is seg with the unused low bits of its last character
// changed: the same bytes to a lenient decoder only.
func nonCanonical(seg string) string {
	last := strings.IndexByte(b64Alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(b64Alphabet[last^1])
}

// edited returns m with edit applied, for the maps of forgery.
func edited(m map[string]any, edit func(map[string]any)) map[string]any {
	m = maps.Clone(m)
	edit(m)
	return m
}
