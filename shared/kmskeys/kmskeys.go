// Package kmskeys keeps the token signing keys in AWS KMS: ECC_NIST_P256
// keys whose private half never leaves KMS. It adapts them to the token
// package: a Signer for the users service and public keys for verifiers.
package kmskeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/serverless-shop/backend/shared/token"
)

// Client is the part of the KMS API this package uses.
type Client interface {
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	Sign(ctx context.Context, in *kms.SignInput, opts ...func(*kms.Options)) (*kms.SignOutput, error)
}

// PublicKeys fetches the public keys of the given KMS keys (ids, ARNs or
// aliases), in order, at deploy time (functions/publickeys), so one after
// the other. A key that is not an ECC_NIST_P256 signing key is an error,
// reported with every other key's: the verifier must not silently trust
// fewer keys than configured.
func PublicKeys(ctx context.Context, c Client, keyIDs []string) ([]token.PublicKey, error) {
	keys := make([]token.PublicKey, len(keyIDs))
	errs := make([]error, len(keyIDs))
	for i, id := range keyIDs {
		keys[i], errs[i] = publicKey(ctx, c, id)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return keys, nil
}

func publicKey(ctx context.Context, c Client, id string) (token.PublicKey, error) {
	out, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return token.PublicKey{}, fmt.Errorf("get public key %s: %w", id, err)
	}
	if out.KeySpec != kmstypes.KeySpecEccNistP256 || out.KeyUsage != kmstypes.KeyUsageTypeSignVerify {
		return token.PublicKey{}, fmt.Errorf("key %s is %s/%s, want ECC_NIST_P256/SIGN_VERIFY", id, out.KeySpec, out.KeyUsage)
	}
	k, err := token.ParsePublicKey(out.PublicKey)
	if err != nil {
		return token.PublicKey{}, fmt.Errorf("key %s: %w", id, err)
	}
	return k, nil
}

// Signer signs token digests with one KMS key.
type Signer struct {
	client Client
	keyID  string
	kid    string
}

// SignerFor returns a signer for the KMS key keyID whose token key id is
// already known (published at deploy time), without asking KMS.
func SignerFor(c Client, keyID, kid string) *Signer {
	return &Signer{client: c, keyID: keyID, kid: kid}
}

// KeyID implements token.Signer.
func (s *Signer) KeyID() string { return s.kid }

// SignDigest implements token.Signer.
func (s *Signer) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	out, err := s.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(s.keyID),
		Message:          digest,
		MessageType:      kmstypes.MessageTypeDigest,
		SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256,
	})
	if err != nil {
		return nil, fmt.Errorf("kms sign with %s: %w", s.keyID, err)
	}
	return out.Signature, nil
}
