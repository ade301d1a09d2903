//go:build integration

package kmskeys_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/token"
)

// TestRotationWithKMSKeys signs with two KMS keys, as before and after a
// rotation: each signer's key id is its public key's, and a verifier that
// lists both accepts the tokens of both; an RSA key or a missing one is
// refused. (A verifier that no longer lists
// a key refuses its tokens: shared/token's TestVerifyKeyRotation.)
func TestRotationWithKMSKeys(t *testing.T) {
	ctx := context.Background()
	c := kms.NewFromConfig(testcloud.Config(t))
	a := testcloud.NewKey(t, c, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)
	b := testcloud.NewKey(t, c, kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify)

	both, err := kmskeys.PublicKeys(ctx, c, []string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if both[0].ID == both[1].ID {
		t.Fatal("two KMS keys share a key id")
	}
	verifier := token.NewVerifier(both, "iss", "aud", nil)
	issue := func(keyID string, key token.PublicKey) (string, string) {
		t.Helper()
		s := kmskeys.SignerFor(c, keyID, key.ID)
		tok, _, err := token.NewIssuer(s, "iss", "aud", time.Minute, nil).Issue(ctx, token.Subject{UserID: "u-1", Email: "u@example.com", Name: "U", SessionID: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		return tok, s.KeyID()
	}

	before, kidA := issue(a, both[0]) // signing with A
	after, kidB := issue(b, both[1])  // rotated: signing with B
	if kidA != both[0].ID || kidB != both[1].ID {
		t.Fatalf("signer key ids %s, %s do not match the public keys %s, %s", kidA, kidB, both[0].ID, both[1].ID)
	}
	for _, tok := range []string{before, after} {
		if claims, err := verifier.Verify(tok); err != nil || claims.Subject != "u-1" {
			t.Fatalf("Verify = %+v, %v", claims, err)
		}
	}
	// A key of another kind, or none, is never a verification key.
	rsa := testcloud.NewKey(t, c, kmstypes.KeySpecRsa2048, kmstypes.KeyUsageTypeSignVerify)
	for _, ids := range [][]string{{a, rsa}, {a, "no-such-key"}} {
		if _, err := kmskeys.PublicKeys(ctx, c, ids); err == nil {
			t.Errorf("PublicKeys(%v) accepted a key that is not an ECDSA P-256 verification key", ids)
		}
	}
}
