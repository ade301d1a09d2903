package token_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// TestIssue checks the header and claims of issued tokens (the claims'
// names are what the authorizer and clients read) and that they verify.
func TestIssue(t *testing.T) {
	t.Parallel()
	sub := token.Subject{UserID: "u1", Email: "ada@example.com", Name: "Ada", EmailVerified: true, SessionID: "s1", SessionEpoch: 3}
	tests := []struct {
		name string
		now  time.Time
		ttl  time.Duration
	}{
		{name: "whole second", now: t0, ttl: token.DefaultTTL},
		{name: "fraction truncated", now: t0.Add(999 * time.Millisecond), ttl: time.Minute},
		{name: "other zone becomes UTC", now: t0.In(time.FixedZone("CET", 3600)), ttl: time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signer := apitest.NewAuth(t).Signer()
			issuer := token.NewIssuer(signer, testIssuer, testAudience, tc.ttl, clockAt(tc.now))
			raw, exp, err := issuer.Issue(context.Background(), sub)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if want := t0.Add(tc.ttl); !exp.Equal(want) || exp.Location() != time.UTC || issuer.TTL() != tc.ttl {
				t.Errorf("exp = %v, TTL() = %v; want %v in UTC, %v", exp, issuer.TTL(), want, tc.ttl)
			}
			parts := strings.Split(raw, ".")
			var header, payload map[string]any
			decodeSegment(t, parts[0], &header)
			decodeSegment(t, parts[1], &payload)
			if want := map[string]any{"alg": token.Algorithm, "typ": token.Type, "kid": signer.KeyID()}; !reflect.DeepEqual(header, want) {
				t.Errorf("header = %v, want %v", header, want)
			}
			// A single audience is a string or an array (jwt.MarshalSingleStringAsArray), both valid JWT.
			if aud, ok := payload["aud"].(string); ok {
				payload["aud"] = []any{aud}
			}
			jti, _ := payload["jti"].(string)
			if b, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(b) != 16 {
				t.Errorf("jti %q: %d bytes, err %v; want 16 random bytes", jti, len(b), err)
			}
			delete(payload, "jti")
			want := map[string]any{
				"iss": testIssuer, "aud": []any{testAudience}, "sub": "u1", "email": "ada@example.com", "name": "Ada",
				"email_verified": true, "sid": "s1", "sep": float64(3),
				"exp": float64(exp.Unix()), "iat": float64(t0.Unix()), "nbf": float64(t0.Unix()),
			}
			if !reflect.DeepEqual(payload, want) {
				t.Errorf("payload = %v, want %v", payload, want)
			}
			v := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, clockAt(tc.now))
			token.SetMaxLifetime(v, tc.ttl)
			c, err := v.Verify(raw)
			if got := (token.Subject{UserID: c.Subject, Email: c.Email, Name: c.Name, EmailVerified: c.EmailVerified,
				SessionID: c.SessionID, SessionEpoch: c.SessionEpoch, Role: c.Role}); err != nil || got != sub || c.ID != jti {
				t.Errorf("Verify = %+v, %v; want the subject %+v", c, err, sub)
			}
		})
	}
}

// TestIssueMany checks that every token has its own jti, and that every
// signature verifies: crypto/ecdsa makes about half of them with a high s,
// which the issuer turns into the low twin.
// TestIssueRole pins the role claim: staff is carried, a customer's is left
// out, as in tokens issued before roles.
func TestIssueRole(t *testing.T) {
	t.Parallel()
	signer := apitest.NewAuth(t).Signer()
	v := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, clockAt(t0))
	for role, want := range map[string]any{token.RoleStaff: token.RoleStaff, token.RoleCustomer: nil, "": nil} {
		raw := issue(t, signer, time.Minute, t0, token.Subject{UserID: "u1", SessionID: "s1", Role: role})
		var payload map[string]any
		decodeSegment(t, strings.Split(raw, ".")[1], &payload)
		if c, err := v.Verify(raw); err != nil || payload["role"] != want || c.Role != strings.TrimPrefix(role, token.RoleCustomer) {
			t.Errorf("role %q: claim %v, Verify = %q, %v; want claim %v", role, payload["role"], c.Role, err, want)
		}
	}
}

func TestIssueMany(t *testing.T) {
	t.Parallel()
	signer := apitest.NewAuth(t).Signer()
	v := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, clockAt(t0))
	seen := map[string]bool{}
	for range 200 {
		c, err := v.Verify(issue(t, signer, time.Minute, t0, token.Subject{UserID: "u1", SessionID: "s1"}))
		if err != nil || c.ID == "" || seen[c.ID] {
			t.Fatalf("Verify = %+v, %v; want a new jti", c, err)
		}
		seen[c.ID] = true
	}
}

func TestNilClockIsTimeNow(t *testing.T) {
	t.Parallel()
	signer := apitest.NewAuth(t).Signer()
	raw, exp, err := token.NewIssuer(signer, testIssuer, testAudience, time.Minute, nil).Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if d := time.Until(exp); d <= 0 || d > time.Minute {
		t.Errorf("exp is %v from now, want within (0, 1m]", d)
	}
	if _, err := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, nil).Verify(raw); err != nil {
		t.Errorf("Verify with the real clock: %v", err)
	}
}

// TestIssueNeedsUserAndSession checks that no token leaves the issuer that
// a logout could not revoke.
func TestIssueNeedsUserAndSession(t *testing.T) {
	t.Parallel()
	issuer := token.NewIssuer(apitest.NewAuth(t).Signer(), testIssuer, testAudience, time.Minute, clockAt(t0))
	for _, sub := range []token.Subject{{UserID: "u1"}, {SessionID: "s1"}} {
		if raw, _, err := issuer.Issue(context.Background(), sub); err == nil || raw != "" {
			t.Errorf("Issue(%+v) = %q, %v; want an error", sub, raw, err)
		}
	}
}

// TestIssueSignature checks what the issuer makes of its signer's answer:
// the SHA-256 digest of the signing input goes in, an ASN.1 DER signature
// comes out and becomes the 64-byte R || S of JWS, with the low s.
func TestIssueSignature(t *testing.T) {
	t.Parallel()
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	raw := func(r, s *big.Int) []byte {
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
	n := big.NewInt
	max256 := new(big.Int).Sub(new(big.Int).Lsh(n(1), 256), n(1)) // 2^256 - 1
	over256 := new(big.Int).Lsh(n(1), 256)                        // 2^256, 257 bits
	order := elliptic.P256().Params().N
	nMinus1 := new(big.Int).Sub(order, n(1))
	half := new(big.Int).Rsh(order, 1)
	halfPlus1 := new(big.Int).Add(half, n(1))
	errKMS := errors.New("kms: throttled")

	tests := []struct {
		name    string
		der     []byte
		err     error // of the signer, to be wrapped
		want    []byte
		wantErr string
	}{
		{name: "small values left-padded", der: der(n(1), n(2)), want: raw(n(1), n(2))},
		{name: "largest values", der: der(nMinus1, half), want: raw(nMinus1, half)},
		{name: "high s becomes its low twin", der: der(n(1), halfPlus1), want: raw(n(1), new(big.Int).Sub(order, halfPlus1))},
		{name: "s = n - 1 becomes 1", der: der(n(1), nMinus1), want: raw(n(1), n(1))},
		{name: "signer error", err: errKMS, wantErr: "kms: throttled"},
		{name: "R the group order", der: der(order, n(2)), wantErr: "out of range"},
		{name: "S the group order", der: der(n(1), order), wantErr: "out of range"},
		{name: "256-bit values above the order", der: der(max256, max256), wantErr: "out of range"},
		{name: "trailing data", der: append(der(n(1), n(2)), 0), wantErr: "trailing data"},
		{name: "second signature appended", der: append(der(n(1), n(2)), der(n(3), n(4))...), wantErr: "trailing data"},
		{name: "R zero", der: der(n(0), n(2)), wantErr: "out of range"},
		{name: "S zero", der: der(n(1), n(0)), wantErr: "out of range"},
		{name: "R negative", der: der(n(-1), n(2)), wantErr: "out of range"},
		{name: "S negative", der: der(n(1), n(-2)), wantErr: "out of range"},
		{name: "R over 256 bits", der: der(over256, n(2)), wantErr: "out of range"},
		{name: "S over 256 bits", der: der(n(1), over256), wantErr: "out of range"},
		{name: "empty", der: nil, wantErr: "decode ecdsa signature"},
		{name: "raw R||S instead of DER", der: bytes.Repeat([]byte{0xff}, 64), wantErr: "decode ecdsa signature"},
		{name: "not a signature", der: []byte("not a signature"), wantErr: "decode ecdsa signature"},
		{name: "one integer only", der: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, wantErr: "decode ecdsa signature"},
		{name: "truncated", der: der(max256, max256)[:20], wantErr: "decode ecdsa signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var digest []byte
			signer := signFunc(func(_ context.Context, d []byte) ([]byte, error) {
				digest = d
				return tc.der, tc.err
			})
			raw, exp, err := token.NewIssuer(signer, testIssuer, testAudience, time.Minute, clockAt(t0)).Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (tc.err != nil && !errors.Is(err, tc.err)) {
					t.Fatalf("Issue error = %v, want one containing %q", err, tc.wantErr)
				}
				if raw != "" || !exp.IsZero() {
					t.Errorf("Issue returned %q, %v with an error; want zero values", raw, exp)
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			i := strings.LastIndexByte(raw, '.')
			if want := sha256.Sum256([]byte(raw[:i])); !bytes.Equal(digest, want[:]) {
				t.Errorf("signer got digest %x, want SHA-256 of the signing input %x", digest, want)
			}
			if raw[i+1:] != b64(tc.want) {
				t.Errorf("signature = %s, want %x", raw[i+1:], tc.want)
			}
		})
	}
}

// verifyCase is a token and what Verify makes of it, at t0 + at.
type verifyCase struct {
	name  string
	token string
	at    time.Duration
	want  error // nil: accepted
}

// verifyCases are the tokens of TestVerify, and FuzzVerify's seeds.
func verifyCases(f *forgery) []verifyCase {
	p := f.parts()
	// header and claims are signed by the trusted key after edit changed
	// the header or the claims.
	header := func(edit func(map[string]any)) string { return f.sign(nil, edited(f.header(), edit), f.claims()) }
	claims := func(edit func(map[string]any)) string { return f.sign(nil, f.header(), edited(f.claims(), edit)) }
	pubDER, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		f.tb.Fatal(err)
	}
	point, err := f.key.PublicKey.Bytes()
	if err != nil {
		f.tb.Fatal(err)
	}
	digest := sha256.Sum256([]byte(p[0] + "." + p[1]))
	asn1Sig, err := ecdsa.SignASN1(rand.Reader, f.key, digest[:])
	if err != nil {
		f.tb.Fatal(err)
	}
	return []verifyCase{
		// Accepted.
		{name: "issued token", token: f.issued},
		{name: "signed by hand", token: f.valid},
		{name: "typ application/at+jwt", token: header(func(h map[string]any) { h["typ"] = "application/at+jwt" })},
		{name: "typ in upper case", token: header(func(h map[string]any) { h["typ"] = "AT+JWT" })},
		{name: "aud a string", token: claims(func(c map[string]any) { c["aud"] = testAudience })},
		{name: "aud array holding ours", token: claims(func(c map[string]any) { c["aud"] = []string{"other", testAudience} })},
		{name: "no nbf", token: claims(func(c map[string]any) { delete(c, "nbf") })},
		{name: "lifetime of exactly the TTL and the leeway", token: claims(func(c map[string]any) { c["exp"] = t0.Add(token.DefaultTTL + token.Leeway).Unix() })},
		{name: "at the expiry", token: f.valid, at: token.DefaultTTL},
		{name: "expired just within leeway", token: f.valid, at: token.DefaultTTL + token.Leeway - time.Nanosecond},
		{name: "not yet valid just within leeway", token: f.valid, at: -token.Leeway},

		// Algorithm.
		{name: "alg none unsigned", token: segment(f.tb, edited(f.header(), func(h map[string]any) { h["alg"] = "none" })) + "." + p[1] + ".", want: token.ErrSignature},
		{name: "alg none with a valid ES256 signature", token: header(func(h map[string]any) { h["alg"] = "none" }), want: token.ErrSignature},
		{name: "alg None mixed case", token: header(func(h map[string]any) { h["alg"] = "None" }), want: token.ErrSignature},
		{name: "alg ES384", token: header(func(h map[string]any) { h["alg"] = "ES384" }), want: token.ErrSignature},
		{name: "alg RS256", token: header(func(h map[string]any) { h["alg"] = "RS256" }), want: token.ErrSignature},
		{name: "alg missing", token: header(func(h map[string]any) { delete(h, "alg") }), want: token.ErrSignature},
		{name: "alg not a string", token: header(func(h map[string]any) { h["alg"] = 256 }), want: token.ErrSignature},
		{name: "HS256 keyed with the public key DER", token: f.hs256(pubDER), want: token.ErrSignature},
		{name: "HS256 keyed with the public key PEM", token: f.hs256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), want: token.ErrSignature},
		{name: "HS256 keyed with the uncompressed point", token: f.hs256(point), want: token.ErrSignature},
		{name: "HS256 keyed with nothing", token: f.hs256(nil), want: token.ErrSignature},

		// Key id.
		{name: "unknown kid", token: header(func(h map[string]any) { h["kid"] = "no-such-key" }), want: token.ErrUnknownKey},
		{name: "missing kid", token: header(func(h map[string]any) { delete(h, "kid") }), want: token.ErrUnknownKey},
		{name: "kid not a string", token: header(func(h map[string]any) { h["kid"] = 1 }), want: token.ErrUnknownKey},
		{name: "untrusted key under its own kid", token: f.sign(f.other, edited(f.header(), func(h map[string]any) {
			h["kid"] = token.NewPublicKey(&f.other.PublicKey).ID
		}), f.claims()), want: token.ErrUnknownKey},

		// Signature.
		{name: "signed by another key with the trusted kid", token: f.sign(f.other, f.header(), f.claims()), want: token.ErrSignature},
		{name: "claims changed after signing", token: p[0] + "." + segment(f.tb, edited(f.claims(), func(c map[string]any) { c["sub"] = "admin" })) + "." + p[2], want: token.ErrSignature},
		{name: "header changed after signing", token: segment(f.tb, edited(f.header(), func(h map[string]any) { h["x"] = "y" })) + "." + p[1] + "." + p[2], want: token.ErrSignature},
		{name: "empty signature", token: p[0] + "." + p[1] + ".", want: token.ErrSignature},
		{name: "signature truncated", token: f.valid[:len(f.valid)-10], want: token.ErrSignature},
		{name: "signature with a byte appended", token: p[0] + "." + p[1] + "." + b64(append(mustDecode(f.tb, p[2]), 0)), want: token.ErrSignature},
		{name: "signature as ASN.1 DER", token: p[0] + "." + p[1] + "." + b64(asn1Sig), want: token.ErrSignature},
		{name: "signature of zeros", token: p[0] + "." + p[1] + "." + b64(make([]byte, 64)), want: token.ErrSignature},

		// Type and extensions.
		{name: "typ JWT", token: header(func(h map[string]any) { h["typ"] = "JWT" }), want: token.ErrWrongType},
		{name: "typ missing", token: header(func(h map[string]any) { delete(h, "typ") }), want: token.ErrWrongType},
		{name: "typ not a string", token: header(func(h map[string]any) { h["typ"] = true }), want: token.ErrWrongType},
		{name: "typ with a prefix", token: header(func(h map[string]any) { h["typ"] = "x-at+jwt" }), want: token.ErrWrongType},
		{name: "critical extension", token: header(func(h map[string]any) { h["crit"] = []string{"exp"} }), want: token.ErrMalformed},

		// Validity period.
		{name: "expired beyond leeway", token: f.valid, at: token.DefaultTTL + token.Leeway + time.Second, want: token.ErrExpired},
		{name: "expired exactly at leeway", token: f.valid, at: token.DefaultTTL + token.Leeway, want: token.ErrExpired},
		{name: "expired an hour before t0", token: claims(func(c map[string]any) { c["exp"] = t0.Add(-time.Hour).Unix() }), want: token.ErrExpired},
		{name: "not yet valid beyond leeway", token: f.valid, at: -token.Leeway - time.Second, want: token.ErrClaims},
		{name: "nbf in the future", token: claims(func(c map[string]any) { c["nbf"] = t0.Add(5 * time.Minute).Unix() }), want: token.ErrClaims},
		{name: "iat in the future", token: claims(func(c map[string]any) { c["iat"] = t0.Add(5 * time.Minute).Unix() }), want: token.ErrClaims},
		{name: "missing exp", token: claims(func(c map[string]any) { delete(c, "exp") }), want: token.ErrClaims},
		{name: "exp not a number", token: claims(func(c map[string]any) { c["exp"] = "tomorrow" }), want: token.ErrMalformed},
		{name: "exp a fraction", token: claims(func(c map[string]any) { c["exp"] = float64(t0.Add(token.DefaultTTL).Unix()) + 0.5 })},

		// Issuer and audience.
		{name: "wrong iss", token: claims(func(c map[string]any) { c["iss"] = "https://evil.example" }), want: token.ErrClaims},
		{name: "missing iss", token: claims(func(c map[string]any) { delete(c, "iss") }), want: token.ErrClaims},
		{name: "iss differs in case", token: claims(func(c map[string]any) { c["iss"] = strings.ToUpper(testIssuer) }), want: token.ErrClaims},
		{name: "wrong aud", token: claims(func(c map[string]any) { c["aud"] = "https://other.example" }), want: token.ErrClaims},
		{name: "aud array without ours", token: claims(func(c map[string]any) { c["aud"] = []string{"a", "b"} }), want: token.ErrClaims},
		{name: "missing aud", token: claims(func(c map[string]any) { delete(c, "aud") }), want: token.ErrClaims},

		// Required claims of our own.
		{name: "missing sub", token: claims(func(c map[string]any) { delete(c, "sub") }), want: token.ErrClaims},
		{name: "missing jti", token: claims(func(c map[string]any) { delete(c, "jti") }), want: token.ErrClaims},
		{name: "missing iat", token: claims(func(c map[string]any) { delete(c, "iat") }), want: token.ErrClaims},
		{name: "missing sid", token: claims(func(c map[string]any) { delete(c, "sid") }), want: token.ErrClaims},
		{name: "negative sep", token: claims(func(c map[string]any) { c["sep"] = -1 }), want: token.ErrClaims},
		{name: "sep a string", token: claims(func(c map[string]any) { c["sep"] = "1" }), want: token.ErrMalformed},
		{name: "sep too large", token: claims(func(c map[string]any) { c["sep"] = 1e300 }), want: token.ErrMalformed},
		{name: "email_verified a string", token: claims(func(c map[string]any) { c["email_verified"] = "true" }), want: token.ErrMalformed},
		{name: "issued for longer than the TTL", token: claims(func(c map[string]any) { c["exp"] = t0.Add(token.DefaultTTL + token.Leeway + time.Second).Unix() }), want: token.ErrClaims},
		{name: "issued for a year, an hour ago", token: claims(func(c map[string]any) {
			c["iat"], c["exp"] = t0.Add(-time.Hour).Unix(), t0.Add(365*24*time.Hour).Unix()
		}), want: token.ErrClaims},

		// One encoding per token.
		{name: "high-s twin of the signature", token: f.highS(), want: token.ErrSignature},
		{name: "signature with non-zero padding bits", token: p[0] + "." + p[1] + "." + nonCanonical(p[2]), want: token.ErrMalformed},
		{name: "payload with non-zero padding bits, signed", token: func() string {
			in := p[0] + "." + nonCanonical(p[1])
			return in + "." + signES256(f.tb, f.key, in)
		}(), want: token.ErrMalformed},
		{name: "padded signature", token: f.valid + "=", want: token.ErrMalformed},
		{name: "padded header", token: p[0] + "==." + p[1] + "." + p[2], want: token.ErrMalformed},
		{name: "line break after the token", token: f.valid + "\n", want: token.ErrMalformed},
		{name: "line break before the signature", token: p[0] + "." + p[1] + "\n." + p[2], want: token.ErrMalformed},
		{name: "CR LF inside the payload", token: p[0] + "." + p[1][:4] + "\r\n" + p[1][4:] + "." + p[2], want: token.ErrMalformed},

		// Shape.
		{name: "empty string", token: "", want: token.ErrMalformed},
		{name: "only dots", token: "..", want: token.ErrMalformed},
		{name: "one segment", token: p[0], want: token.ErrMalformed},
		{name: "truncated inside the payload", token: p[0] + "." + p[1][:9], want: token.ErrMalformed},
		{name: "extra segment", token: f.valid + ".e30", want: token.ErrMalformed},
		{name: "empty JSON objects, so no alg", token: "e30.e30.e30", want: token.ErrSignature},
		{name: "JSON nulls, so no alg", token: "bnVsbA.bnVsbA." + p[2], want: token.ErrSignature},
		{name: "garbage base64 header", token: "!!!." + p[1] + "." + p[2], want: token.ErrMalformed},
		{name: "garbage base64 payload", token: p[0] + ".$$$$." + p[2], want: token.ErrMalformed},
		{name: "garbage base64 signature", token: p[0] + "." + p[1] + ".***", want: token.ErrMalformed},
		{name: "standard base64 alphabet", token: p[0] + ".+/+/.AA", want: token.ErrMalformed},
		{name: "header not JSON", token: b64([]byte("not json")) + "." + p[1] + "." + p[2], want: token.ErrMalformed},
		{name: "payload a JSON array", token: func() string {
			in := p[0] + "." + b64([]byte(`["sub"]`))
			return in + "." + signES256(f.tb, f.key, in)
		}(), want: token.ErrMalformed},
		{name: "Bearer prefix kept", token: "Bearer " + f.valid, want: token.ErrMalformed},
		{name: "surrounding space", token: " " + f.valid + " ", want: token.ErrMalformed},
		{name: "at the size limit", token: f.sized(token.MaxTokenBytes)},
		{name: "a byte over the size limit", token: f.sized(token.MaxTokenBytes + 1), want: token.ErrMalformed},
		{name: "oversized garbage", token: strings.Repeat("a", token.MaxTokenBytes+1), want: token.ErrMalformed},
		{name: "oversized header", token: strings.Repeat("eyJ", 1000) + "." + p[1] + "." + p[2], want: token.ErrMalformed},
	}
}

// sentinels are the specific errors of Verify; exactly one matches each failure.
var sentinels = []error{token.ErrMalformed, token.ErrUnknownKey, token.ErrWrongType, token.ErrSignature, token.ErrExpired, token.ErrClaims}

// checkRefusal reports err unless it wraps ErrInvalid and exactly one of
// the sentinels, and c unless it is empty.
func checkRefusal(t *testing.T, c token.Claims, err error) {
	t.Helper()
	var matched []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			matched = append(matched, s)
		}
	}
	if !errors.Is(err, token.ErrInvalid) || len(matched) != 1 {
		t.Errorf("Verify error %v matches %v, want ErrInvalid and exactly one of the specific errors", err, matched)
	}
	if !reflect.DeepEqual(c, token.Claims{}) {
		t.Errorf("Verify returned claims %+v with the error %v", c, err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newForgery(t)
	for _, tc := range verifyCases(f) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			claims, err := f.verifier(tc.at).Verify(tc.token)
			switch {
			case tc.want == nil && (err != nil || claims.Subject != f.claims()["sub"]):
				t.Fatalf("Verify = %+v, %v; want success", claims, err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("Verify error = %v, want errors.Is %v", err, tc.want)
			case tc.want != nil:
				checkRefusal(t, claims, err)
			}
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	t.Parallel()
	oldSigner, newSigner := apitest.NewAuth(t).Signer(), apitest.NewAuth(t).Signer()
	sub := token.Subject{UserID: "u1", SessionID: "s1"}
	oldToken, newToken := issue(t, oldSigner, time.Minute, t0, sub), issue(t, newSigner, time.Minute, t0, sub)
	both := []token.PublicKey{oldSigner.PublicKey(), newSigner.PublicKey()}
	onlyNew := []token.PublicKey{newSigner.PublicKey()}

	tests := []struct {
		name  string
		keys  []token.PublicKey
		token string
		want  error
	}{
		{name: "old key while both trusted", keys: both, token: oldToken},
		{name: "new key while both trusted", keys: both, token: newToken},
		{name: "old key after retirement", keys: onlyNew, token: oldToken, want: token.ErrUnknownKey},
		{name: "new key after retirement", keys: onlyNew, token: newToken},
		{name: "no keys at all", keys: nil, token: newToken, want: token.ErrUnknownKey},
	}
	for _, tc := range tests {
		if _, err := token.NewVerifier(tc.keys, testIssuer, testAudience, clockAt(t0)).Verify(tc.token); !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	f := newForgery(t)
	v := f.verifier(0)
	bad := f.sign(f.other, f.header(), f.claims())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := v.Verify(f.valid); err != nil {
					t.Errorf("Verify(valid) = %v", err)
				}
				if _, err := v.Verify(bad); !errors.Is(err, token.ErrSignature) {
					t.Errorf("Verify(bad) = %v, want ErrSignature", err)
				}
			}
		})
	}
	wg.Wait()
}
