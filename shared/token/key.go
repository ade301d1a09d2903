package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// Algorithm is the only JWS algorithm this backend issues or accepts:
// ECDSA with P-256 and SHA-256 (RFC 7518 section 3.4).
const Algorithm = "ES256"

// PublicKey is a verification key and its key id.
type PublicKey struct {
	ID  string // RFC 7638 thumbprint of the key, used as the JWT "kid"
	Key *ecdsa.PublicKey
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo (what KMS GetPublicKey
// returns) holding a P-256 key, and derives its key id.
func ParsePublicKey(der []byte) (PublicKey, error) {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return PublicKey{}, fmt.Errorf("parse public key: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return PublicKey{}, errors.New("parse public key: not an ECDSA P-256 key")
	}
	return NewPublicKey(ec), nil
}

// NewPublicKey wraps a P-256 public key with its RFC 7638 thumbprint as id:
// SHA-256 over the required members in lexicographic order, base64url
// encoded.
func NewPublicKey(k *ecdsa.PublicKey) PublicKey {
	x, y := coordinates(k)
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return PublicKey{ID: base64.RawURLEncoding.EncodeToString(sum[:]), Key: k}
}

// jwk is the JSON Web Key form (RFC 7517) of a P-256 public key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

func coordinates(k *ecdsa.PublicKey) (x, y string) {
	// Uncompressed point: 0x04 || X (32 bytes) || Y (32 bytes).
	raw, err := k.Bytes()
	if err != nil || len(raw) != 65 {
		// Only P-256 keys reach here (ParsePublicKey and the signers check).
		panic("token: not a P-256 public key")
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(raw[1:33]), enc.EncodeToString(raw[33:])
}

// JWKS renders the keys as a JSON Web Key Set document.
func JWKS(keys []PublicKey) ([]byte, error) {
	set := make([]jwk, 0, len(keys))
	for _, k := range keys {
		x, y := coordinates(k.Key)
		set = append(set, jwk{Kty: "EC", Crv: "P-256", X: x, Y: y, Kid: k.ID, Use: "sig", Alg: Algorithm})
	}
	return json.Marshal(map[string][]jwk{"keys": set}) // a JSON Web Key Set (RFC 7517, section 5)
}

// ParseJWKS reads a JSON Web Key Set and returns its P-256 signing keys.
// Keys of other types are skipped; a key whose kid does not match its
// thumbprint is an error, so a JWKS cannot alias one key under another id.
func ParseJWKS(data []byte) ([]PublicKey, error) {
	var set struct{ Keys []jwk } // a JSON Web Key Set: encoding/json matches "keys"
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse jwks: %w", err)
	}
	var keys []PublicKey
	for _, j := range set.Keys {
		if j.Kty != "EC" || j.Crv != "P-256" || (j.Use != "" && j.Use != "sig") || (j.Alg != "" && j.Alg != Algorithm) {
			continue
		}
		x, errX := base64.RawURLEncoding.DecodeString(j.X)
		y, errY := base64.RawURLEncoding.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return nil, fmt.Errorf("parse jwks: key %q has bad coordinates", j.Kid)
		}
		raw := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
		if err != nil {
			return nil, fmt.Errorf("parse jwks: key %q: %w", j.Kid, err)
		}
		k := NewPublicKey(pub)
		if j.Kid != k.ID {
			return nil, fmt.Errorf("parse jwks: key id %q is not the key's thumbprint", j.Kid)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// rawSignature converts an ASN.1 DER ECDSA signature (what KMS and
// crypto/ecdsa.SignASN1 produce) into the 64-byte R || S form JWS requires.
func rawSignature(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil {
		return nil, fmt.Errorf("decode ecdsa signature: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("decode ecdsa signature: trailing data")
	}
	n := elliptic.P256().Params().N
	if sig.R == nil || sig.S == nil || sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.Cmp(n) >= 0 || sig.S.Cmp(n) >= 0 {
		return nil, errors.New("decode ecdsa signature: out of range")
	}
	// (r, s) and (r, n-s) are both valid signatures of the same digest; the
	// verifier accepts only the low one, so that a token has one encoding.
	// KMS may return either.
	if sig.S.Cmp(halfOrder) > 0 {
		sig.S = new(big.Int).Sub(n, sig.S)
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}

// halfOrder is half the order of P-256: signatures with s above it are the
// high twins of low ones.
var halfOrder = new(big.Int).Rsh(elliptic.P256().Params().N, 1)

// lowS reports whether the raw R || S signature has s at most halfOrder.
func lowS(sig []byte) bool {
	return len(sig) == 64 && new(big.Int).SetBytes(sig[32:]).Cmp(halfOrder) <= 0
}
