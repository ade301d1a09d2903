// Package token issues and verifies the backend's access tokens: short-lived
// JWTs signed with ES256 (RFC 7519, RFC 9068 "at+jwt"), verified as RFC 8725
// recommends.
//
// The issuer signs through a Signer, so the private key can stay in KMS; the
// verifier holds public keys only and never touches the network.
package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Type is the "typ" header of an access token (RFC 9068). Checking it keeps
// any other JWT signed by the same key from being accepted as an access token.
const Type = "at+jwt"

// Limits of the verifier's work on hostile input.
const (
	MaxTokenBytes = 4096             // longer bearer tokens are rejected unparsed
	DefaultTTL    = 15 * time.Minute // lifetime of an access token
	Leeway        = 30 * time.Second // allowed clock skew on exp, nbf and iat
)

// Errors returned by Verify. Every failure wraps ErrInvalid.
var (
	ErrInvalid    = errors.New("token: invalid access token")
	ErrMalformed  = fmt.Errorf("%w: malformed", ErrInvalid)
	ErrUnknownKey = fmt.Errorf("%w: unknown key", ErrInvalid)
	ErrWrongType  = fmt.Errorf("%w: not an access token", ErrInvalid)
	ErrSignature  = fmt.Errorf("%w: bad signature", ErrInvalid)
	ErrExpired    = fmt.Errorf("%w: expired", ErrInvalid)
	ErrClaims     = fmt.Errorf("%w: bad claims", ErrInvalid)
)

// Claims are the claims of an access token.
type Claims struct {
	jwt.RegisteredClaims
	Email         string `json:"email"`
	Name          string `json:"name"`
	EmailVerified bool   `json:"email_verified"` // the owner proved the mailbox (OpenID Connect's claim)
	// SessionID is the login session (refresh token family) the token was
	// issued in: logging out revokes the session's access tokens too.
	SessionID string `json:"sid"`
	// SessionEpoch is the user's session epoch at issue: a password change
	// or reset raises it, which revokes every token issued before.
	SessionEpoch int64 `json:"sep"`
	// Role is what the account may do: RoleStaff, or RoleCustomer, which
	// tokens leave out (and older tokens never carried).
	Role string `json:"role,omitempty"`
}

// Roles an account can have. Every account is a customer; an operator
// makes a customer staff (docs/operations.md).
const (
	RoleCustomer = "customer"
	RoleStaff    = "staff"
)

// Signer signs a JWS signing input with an ES256 key.
type Signer interface {
	// KeyID is the "kid" of the signing key.
	KeyID() string
	// SignDigest signs a SHA-256 digest and returns the ASN.1 DER ECDSA
	// signature.
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// Subject is who a token is issued to, and in which session.
type Subject struct {
	UserID        string
	Email         string
	Name          string
	EmailVerified bool
	SessionID     string
	SessionEpoch  int64
	Role          string // RoleStaff, or RoleCustomer or "" for a customer
}

// Issuer mints access tokens.
type Issuer struct {
	signer   Signer
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// NewIssuer returns an issuer of tokens valid for ttl.
func NewIssuer(s Signer, issuer, audience string, ttl time.Duration, now func() time.Time) *Issuer {
	if now == nil {
		now = time.Now
	}
	return &Issuer{signer: s, issuer: issuer, audience: audience, ttl: ttl, now: now}
}

// TTL is the lifetime of the tokens the issuer mints.
func (i *Issuer) TTL() time.Duration { return i.ttl }

// Issue signs an access token for sub.
func (i *Issuer) Issue(ctx context.Context, sub Subject) (string, time.Time, error) {
	if sub.UserID == "" || sub.SessionID == "" {
		return "", time.Time{}, errors.New("issue token: a subject needs a user and a session")
	}
	now := i.now().UTC().Truncate(time.Second)
	exp := now.Add(i.ttl)
	jti := make([]byte, 16)
	_, _ = rand.Read(jti) // never fails: since Go 1.24 it crashes the program instead
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.issuer,
			Subject:   sub.UserID,
			Audience:  jwt.ClaimStrings{i.audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
		Email:         sub.Email,
		Name:          sub.Name,
		EmailVerified: sub.EmailVerified,
		SessionID:     sub.SessionID,
		SessionEpoch:  sub.SessionEpoch,
	}
	if sub.Role != RoleCustomer {
		claims.Role = sub.Role
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["typ"] = Type
	t.Header["kid"] = i.signer.KeyID()
	input, _ := t.SigningString() // JSON of plain fields: it cannot fail
	digest := sha256.Sum256([]byte(input))
	der, err := i.signer.SignDigest(ctx, digest[:])
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: sign: %w", err)
	}
	sig, err := rawSignature(der)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue token: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), exp, nil
}

// Verifier checks access tokens against a fixed set of public keys.
type Verifier struct {
	keys   map[string]*ecdsa.PublicKey
	parser *jwt.Parser
	// maxLifetime refuses tokens issued for longer (exp - iat, beyond the
	// leeway): DefaultTTL, or Config.Lifetime. A signing key that leaked
	// could otherwise mint tokens for years.
	maxLifetime time.Duration
}

// NewVerifier returns a verifier that accepts ES256 access tokens from
// issuer for audience, signed by one of keys. now is the clock (nil: time.Now,
// as jwt.WithTimeFunc takes it).
func NewVerifier(keys []PublicKey, issuer, audience string, now func() time.Time) *Verifier {
	m := make(map[string]*ecdsa.PublicKey, len(keys))
	for _, k := range keys {
		m[k.ID] = k.Key
	}
	return &Verifier{
		keys:        m,
		maxLifetime: DefaultTTL,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{Algorithm}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(Leeway),
			jwt.WithTimeFunc(now),
			// One encoding per token: canonical base64url, no padding.
			jwt.WithStrictDecoding(),
		),
	}
}

// Verify checks the signature, algorithm, key id, type, issuer, audience and
// validity period of an access token and returns its claims. Every error
// wraps ErrInvalid.
func (v *Verifier) Verify(raw string) (Claims, error) {
	// Bounded work: an oversized or obviously malformed token is rejected
	// before any base64 or JSON decoding. Line breaks too: the strict
	// base64 decoder skips CR and LF, which would give a token more than
	// one spelling.
	if len(raw) == 0 || len(raw) > MaxTokenBytes || strings.Count(raw, ".") != 2 || strings.ContainsAny(raw, "\r\n") {
		return Claims{}, ErrMalformed
	}
	var claims Claims
	t, err := v.parser.ParseWithClaims(raw, &claims, v.key)
	switch {
	case err == nil:
	case errors.Is(err, ErrInvalid):
		return Claims{}, err // from v.key: unknown kid or wrong typ
	case errors.Is(err, jwt.ErrTokenMalformed):
		return Claims{}, ErrMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return Claims{}, ErrSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, ErrExpired
	default:
		return Claims{}, fmt.Errorf("%w: %v", ErrClaims, err)
	}
	// sid is required: a token outside any session could not be revoked
	// by a logout.
	// Of the two valid signatures of a digest, only the low-s one: with the
	// strict base64 decoding, a token has exactly one encoding. (The parser
	// has checked the signature: it is 64 bytes of canonical base64url.)
	if !lowS(t.Signature) {
		return Claims{}, ErrSignature
	}
	if claims.Subject == "" || claims.ID == "" || claims.SessionID == "" || claims.SessionEpoch < 0 {
		return Claims{}, fmt.Errorf("%w: sub, jti and sid are required", ErrClaims)
	}
	if claims.IssuedAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) > v.maxLifetime+Leeway {
		return Claims{}, fmt.Errorf("%w: iat is required and exp - iat may not exceed %s", ErrClaims, v.maxLifetime)
	}
	return claims, nil
}

// key is the jwt.Keyfunc: the kid must name a known key and typ must say
// access token. It runs before the signature check.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	// No extension is understood, so any critical one must be refused
	// (RFC 7515, section 4.1.11).
	if _, ok := t.Header["crit"]; ok {
		return nil, ErrMalformed
	}
	if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, Type) && !strings.EqualFold(typ, "application/"+Type) {
		return nil, ErrWrongType
	}
	kid, _ := t.Header["kid"].(string)
	k, ok := v.keys[kid]
	if !ok {
		return nil, ErrUnknownKey
	}
	return k, nil
}
