package token_test

import (
	"context"
	"testing"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// BenchmarkVerify measures the authorizer's hot path: one genuine token
// checked against a small key set.
func BenchmarkVerify(b *testing.B) {
	f := newForgery(b)
	retired := token.NewPublicKey(&f.other.PublicKey)
	v := token.NewVerifier([]token.PublicKey{retired, token.NewPublicKey(&f.key.PublicKey)}, testIssuer, testAudience, clockAt(t0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(f.issued); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue measures minting a token with the in-memory ECDSA signer.
func BenchmarkIssue(b *testing.B) {
	issuer := token.NewIssuer(apitest.NewAuth(b).Signer(), testIssuer, testAudience, token.DefaultTTL, clockAt(t0))
	sub := token.Subject{UserID: "user-1", Email: "ada@example.com", Name: "Ada", SessionID: "s1"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := issuer.Issue(context.Background(), sub); err != nil {
			b.Fatal(err)
		}
	}
}
