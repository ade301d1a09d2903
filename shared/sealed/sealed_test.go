package sealed_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-shop/backend/shared/sealed"
)

// decrypter records the request and answers with err.
type decrypter struct {
	in  *kms.DecryptInput
	err error
}

func (d *decrypter) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	d.in = in
	if d.err != nil {
		return nil, d.err
	}
	return &kms.DecryptOutput{Plaintext: []byte("secret")}, nil
}

// TestOpenNamesItsKeyAndTellsFinalFromTransient checks the two things Open
// adds to KMS: it names the key it trusts, so KMS refuses ciphertexts of any
// other key (IncorrectKeyException), and it tells refusals that are final
// from failures worth retrying.
func TestOpenNamesItsKeyAndTellsFinalFromTransient(t *testing.T) {
	ec := map[string]string{"eventId": "ev-1"}
	d := &decrypter{}
	if _, err := sealed.NewOpener(d, "alias/links").Open(context.Background(), []byte("box"), ec); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.in.KeyId) != "alias/links" || d.in.EncryptionContext["eventId"] != "ev-1" {
		t.Errorf("Decrypt input = %+v, want the opener's key and the context", d.in)
	}
	for name, tc := range map[string]struct {
		err   error
		final bool
	}{
		"another key":    {&kmstypes.IncorrectKeyException{}, true},
		"bad ciphertext": {&kmstypes.InvalidCiphertextException{}, true},
		"throttled":      {&kmstypes.KMSInternalException{}, false},
		"key disabled":   {&kmstypes.DisabledException{}, false},
	} {
		_, err := sealed.NewOpener(&decrypter{err: tc.err}, "k").Open(context.Background(), []byte("box"), ec)
		if err == nil || errors.Is(err, sealed.ErrCannotOpen) != tc.final {
			t.Errorf("%s: Open error %v, final %v; want final %v", name, err, errors.Is(err, sealed.ErrCannotOpen), tc.final)
		}
	}
}
