package apitest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/principal"
	"github.com/serverless-shop/backend/shared/token"
)

// Issuer and audience of the test tokens.
const (
	TokenIssuer   = "urn:serverless-shop:test"
	TokenAudience = "urn:serverless-shop:test:api"
)

// Auth signs access tokens with a key made for one test, and verifies them.
type Auth struct {
	signer *Signer
}

// Signer signs with a P-256 private key held in memory: the token.Signer
// of tests and tools (production signs through KMS, package kmskeys).
type Signer struct {
	key *ecdsa.PrivateKey
	pub token.PublicKey
}

// NewSigner wraps a P-256 private key.
func NewSigner(k *ecdsa.PrivateKey) (*Signer, error) {
	if k.Curve != elliptic.P256() {
		return nil, errors.New("apitest: signer key is not P-256")
	}
	return &Signer{key: k, pub: token.NewPublicKey(&k.PublicKey)}, nil
}

// KeyID implements token.Signer.
func (s *Signer) KeyID() string { return s.pub.ID }

// PublicKey returns the verification key.
func (s *Signer) PublicKey() token.PublicKey { return s.pub }

// SignDigest implements token.Signer.
func (s *Signer) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, s.key, digest)
}

// NewKey is a fresh P-256 signing key: the one key generator of the
// tests (and the bench).
func NewKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("apitest: " + err.Error()) // only for an unsupported curve
	}
	return k
}

// NewAuth makes a fresh signing key (NewKey).
func NewAuth(testing.TB) *Auth {
	s, _ := NewSigner(NewKey()) // a P-256 key, which it takes
	return &Auth{signer: s}
}

// Signer is the test key, for tokens made by hand.
func (a *Auth) Signer() *Signer { return a.signer }

// Issuer issues tokens with the test key, on the clock now (nil: time.Now).
func (a *Auth) Issuer(ttl time.Duration, now func() time.Time) *token.Issuer {
	return token.NewIssuer(a.signer, TokenIssuer, TokenAudience, ttl, now)
}

// Verifier accepts the test key's tokens, on the wall clock.
func (a *Auth) Verifier() *token.Verifier {
	return token.NewVerifier([]token.PublicKey{a.signer.PublicKey()}, TokenIssuer, TokenAudience, nil)
}

// Token is an access token of p, valid for the next 15 minutes.
func (a *Auth) Token(t testing.TB, p principal.Principal) string {
	t.Helper()
	return a.TokenAt(t, p, time.Now())
}

// SessionID is the session of every test token.
const SessionID = "test-session"

// TokenAt is an access token of p issued at, valid for 15 minutes, in the
// session SessionID.
func (a *Auth) TokenAt(t testing.TB, p principal.Principal, at time.Time) string {
	t.Helper()
	raw, _, err := a.Issuer(15*time.Minute, func() time.Time { return at }).Issue(context.Background(),
		token.Subject{UserID: p.UserID, Email: p.Email, Name: p.Name, EmailVerified: p.EmailVerified, SessionID: SessionID, Role: p.Role})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// JWKS is the JSON Web Key Set of the test key, as the TOKEN_JWKS setting
// carries it.
func (a *Auth) JWKS(testing.TB) string {
	doc, _ := token.JWKS([]token.PublicKey{a.signer.PublicKey()}) // strings only: it cannot fail
	return string(doc)
}
