package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
)

// ECDSASigner signs with a P-256 private key held in memory. Production
// signs through KMS (package kmskeys); this one serves tests and tools.
type ECDSASigner struct {
	key *ecdsa.PrivateKey
	pub PublicKey
}

// NewECDSASigner wraps a P-256 private key.
func NewECDSASigner(k *ecdsa.PrivateKey) (*ECDSASigner, error) {
	if k.Curve != elliptic.P256() {
		return nil, errors.New("token: signer key is not P-256")
	}
	return &ECDSASigner{key: k, pub: NewPublicKey(&k.PublicKey)}, nil
}

// KeyID implements Signer.
func (s *ECDSASigner) KeyID() string { return s.pub.ID }

// PublicKey returns the verification key.
func (s *ECDSASigner) PublicKey() PublicKey { return s.pub }

// SignDigest implements Signer.
func (s *ECDSASigner) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.key, digest)
}
