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
	signer := apitest.NewAuth(b).Signer()
	retired := token.NewPublicKey(&apitest.NewKey().PublicKey)
	raw, _, err := token.NewIssuer(signer, testIssuer, testAudience, token.DefaultTTL, clockAt(t0)).Issue(context.Background(), token.Subject{UserID: "user-1", Email: "ada@example.com", Name: "Ada", SessionID: "s1"})
	if err != nil {
		b.Fatal(err)
	}
	v := token.NewVerifier([]token.PublicKey{retired, signer.PublicKey()}, testIssuer, testAudience, clockAt(t0))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssue measures minting a token with the in-memory ECDSA signer.
func BenchmarkIssue(b *testing.B) {
	issuer := token.NewIssuer(apitest.NewAuth(b).Signer(), testIssuer, testAudience, token.DefaultTTL, clockAt(t0))
	sub := token.Subject{UserID: "user-1", Email: "ada@example.com", Name: "Ada", SessionID: "s1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := issuer.Issue(ctx, sub); err != nil {
			b.Fatal(err)
		}
	}
}
