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
	with := func(k, v string) map[string]string {
		out := maps.Clone(ec)
		out[k] = v
		return out
	}
	without := func(k string) map[string]string {
		out := maps.Clone(ec)
		delete(out, k)
		return out
	}

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

	// (A ciphertext of another key is refused by KMS too; MiniStack's
	// stand-in cipher decrypts it to noise instead, so that case is the
	// unit test's: Open names its key and reads KMS's refusal as final.)
	for name, open := range map[string]func() ([]byte, error){
		"another account": func() ([]byte, error) { return sealed.NewOpener(c, key).Open(ctx, box, with("accountId", "u-2")) },
		"another recipient": func() ([]byte, error) {
			return sealed.NewOpener(c, key).Open(ctx, box, with("recipientSha256", "0f1f"))
		},
		"a later expiry": func() ([]byte, error) {
			return sealed.NewOpener(c, key).Open(ctx, box, with("expiresAt", "2026-12-07T09:30:00Z"))
		},
		"another purpose": func() ([]byte, error) {
			return sealed.NewOpener(c, key).Open(ctx, box, with("purpose", "verify-email"))
		},
		"a key missing":    func() ([]byte, error) { return sealed.NewOpener(c, key).Open(ctx, box, without("recipientSha256")) },
		"a key more":       func() ([]byte, error) { return sealed.NewOpener(c, key).Open(ctx, box, with("note", "x")) },
		"no context":       func() ([]byte, error) { return sealed.NewOpener(c, key).Open(ctx, box, nil) },
		"truncated":        func() ([]byte, error) { return sealed.NewOpener(c, key).Open(ctx, box[:len(box)/3], ec) },
		"not a ciphertext": func() ([]byte, error) { return sealed.NewOpener(c, key).Open(ctx, []byte("sealed:verify-token"), ec) },
	} {
		if plain, err := open(); !errors.Is(err, sealed.ErrCannotOpen) || plain != nil {
			t.Errorf("%s: Open = %q, %v; want ErrCannotOpen", name, plain, err)
		}
	}
}
