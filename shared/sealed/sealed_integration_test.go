//go:build integration

package sealed_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/sealed"
)

// TestSealOpensOnlyForItsKeyAndContext seals with a KMS key of the local
// cloud and checks what opens and what never will.
func TestSealOpensOnlyForItsKeyAndContext(t *testing.T) {
	ctx := context.Background()
	c := kms.NewFromConfig(testcloud.Config(t))
	key := testcloud.NewKey(t, c, kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt)
	ec := map[string]string{"eventType": "account.password_reset_requested", "eventId": "ev-1", "accountId": "u-1",
		"recipientSha256": "0f1e", "purpose": "reset-password", "expiresAt": "2026-12-06T09:30:00Z"}

	secret := []byte("ev1.01JUSR0000000000000000001.c2VjcmV0")
	box, err := sealed.NewSealer(c, key).Seal(ctx, secret, ec)
	if err != nil {
		t.Fatal(err)
	}
	if string(box) == string(secret) || len(box) == 0 {
		t.Fatalf("sealed = %q", box)
	}
	got, err := sealed.NewOpener(c, key).Open(ctx, box, ec)
	if err != nil || string(got) != string(secret) {
		t.Fatalf("Open = %q, %v; want the secret", got, err)
	}

	// Any other context is refused (KMS matches it whole): which changes of
	// an event change its context is shared/events'
	// TestSealContextBindsWhatTheEmailDependsOn.
	// (A ciphertext of another key is refused by KMS too; MiniStack's
	// stand-in cipher decrypts it to noise instead, so that case is the
	// unit test's: Open names its key and reads KMS's refusal as final.)
	opener, other := sealed.NewOpener(c, key), maps.Clone(ec)
	other["accountId"] = "u-2"
	for _, tc := range []struct {
		name string
		box  []byte
		ec   map[string]string
	}{
		{"another value", box, other},
		{"no context", box, nil},
		{"truncated", box[:len(box)/3], ec},
		{"not a ciphertext", []byte("sealed:verify-token"), ec},
	} {
		if plain, err := opener.Open(ctx, tc.box, tc.ec); !errors.Is(err, sealed.ErrCannotOpen) || plain != nil {
			t.Errorf("%s: Open = %q, %v; want ErrCannotOpen", tc.name, plain, err)
		}
	}
}
