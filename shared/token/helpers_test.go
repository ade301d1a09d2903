package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
	"time"

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

func newSigner(tb testing.TB, k *ecdsa.PrivateKey) *token.ECDSASigner {
	tb.Helper()
	s, err := token.NewECDSASigner(k)
	if err != nil {
		tb.Fatalf("NewECDSASigner: %v", err)
	}
	return s
}

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

// signES256 returns the base64url JWS signature (raw R || S) of input.
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

// decodeSegment decodes a header or payload segment of a compact JWS.
func decodeSegment(tb testing.TB, seg string, v any) {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		tb.Fatalf("decode segment: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("unmarshal segment: %v", err)
	}
}

// fakeSigner is a token.Signer whose behaviour the test chooses.
type fakeSigner struct {
	kid  string
	sign func(ctx context.Context, digest []byte) ([]byte, error)
}

var _ token.Signer = (*fakeSigner)(nil)

func (f *fakeSigner) KeyID() string { return f.kid }

func (f *fakeSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	return f.sign(ctx, digest)
}
