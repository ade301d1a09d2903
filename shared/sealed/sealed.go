// Package sealed encrypts a short secret for one reader with AWS KMS: the
// token of an emailed link, which the users service makes and only the
// notification service may read. The ciphertext is bound to an encryption
// context (what the secret belongs to), which KMS checks on decryption and
// CloudTrail records, so a sealed secret moved elsewhere does not open.
package sealed

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// ErrCannotOpen means the sealed secret will never open: it is corrupt,
// sealed under another key, or bound to another context. Retrying does not
// help.
var ErrCannotOpen = errors.New("sealed: cannot be opened")

// EncryptAPI is the KMS call Seal needs.
type EncryptAPI interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
}

// DecryptAPI is the KMS call Open needs.
type DecryptAPI interface {
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Sealer encrypts with one symmetric KMS key.
type Sealer struct {
	kms   EncryptAPI
	keyID string
}

// NewSealer returns a sealer that encrypts with the key keyID.
func NewSealer(c EncryptAPI, keyID string) *Sealer { return &Sealer{kms: c, keyID: keyID} }

// Seal encrypts secret (at most 4 KiB) bound to the context ec.
func (s *Sealer) Seal(ctx context.Context, secret []byte, ec map[string]string) ([]byte, error) {
	out, err := s.kms.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(s.keyID), Plaintext: secret, EncryptionContext: ec})
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return out.CiphertextBlob, nil
}

// Opener decrypts what a Sealer of the same key sealed.
type Opener struct {
	kms   DecryptAPI
	keyID string
}

// NewOpener returns an opener that accepts only ciphertexts of the key
// keyID.
func NewOpener(c DecryptAPI, keyID string) *Opener { return &Opener{kms: c, keyID: keyID} }

// Open decrypts sealed, which must be bound to the context ec. A ciphertext
// that can never open is reported as ErrCannotOpen; anything else (a
// throttled or unreachable KMS) as itself, to be retried.
func (o *Opener) Open(ctx context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
	out, err := o.kms.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(o.keyID), CiphertextBlob: sealed, EncryptionContext: ec})
	var invalid *kmstypes.InvalidCiphertextException
	var wrongKey *kmstypes.IncorrectKeyException
	if errors.As(err, &invalid) || errors.As(err, &wrongKey) {
		return nil, fmt.Errorf("%w: %v", ErrCannotOpen, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return out.Plaintext, nil
}
