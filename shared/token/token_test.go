package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
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

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	signer := apitest.NewAuth(t).Signer()
	issuer := token.NewIssuer(signer, testIssuer, testAudience, token.DefaultTTL, clockAt(t0))
	verifier := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, clockAt(t0))

	sub := token.Subject{UserID: "01JPAZ3Q7R0000000000000000", Email: "ada@example.com", Name: "Ada Lovelace",
		EmailVerified: true, SessionID: "fam-1", SessionEpoch: 3}
	raw, exp, err := issuer.Issue(context.Background(), sub)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if want := t0.Add(token.DefaultTTL); !exp.Equal(want) {
		t.Errorf("Issue exp = %v, want %v", exp, want)
	}
	if issuer.TTL() != token.DefaultTTL {
		t.Errorf("TTL() = %v, want %v", issuer.TTL(), token.DefaultTTL)
	}

	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments, want 3", len(parts))
	}
	var header map[string]any
	decodeSegment(t, parts[0], &header)
	wantHeader := map[string]any{"alg": token.Algorithm, "typ": token.Type, "kid": signer.KeyID()}
	for k, v := range wantHeader {
		if header[k] != v {
			t.Errorf("header[%q] = %v, want %v", k, header[k], v)
		}
	}
	if sig, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil || len(sig) != 64 {
		t.Errorf("signature segment: %d bytes, err %v; want 64 raw R||S bytes", len(sig), err)
	}

	claims, err := verifier.Verify(raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"sub", claims.Subject, sub.UserID},
		{"email", claims.Email, sub.Email},
		{"name", claims.Name, sub.Name},
		{"email_verified", claims.EmailVerified, true},
		{"sid", claims.SessionID, sub.SessionID},
		{"sep", claims.SessionEpoch, sub.SessionEpoch},
		{"iss", claims.Issuer, testIssuer},
		{"aud", strings.Join(claims.Audience, ","), testAudience},
		{"exp", claims.ExpiresAt.Time.UTC(), t0.Add(token.DefaultTTL)},
		{"iat", claims.IssuedAt.Time.UTC(), t0},
		{"nbf", claims.NotBefore.Time.UTC(), t0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("claim %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	jti, err := base64.RawURLEncoding.DecodeString(claims.ID)
	if err != nil || len(jti) != 16 {
		t.Errorf("jti %q: %d bytes, err %v; want 16 random bytes", claims.ID, len(jti), err)
	}
}

func TestIssueJTIUnique(t *testing.T) {
	t.Parallel()
	signer := apitest.NewAuth(t).Signer()
	issuer := token.NewIssuer(signer, testIssuer, testAudience, time.Minute, clockAt(t0))
	verifier := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, clockAt(t0))

	seen := map[string]bool{}
	for range 200 {
		raw, _, err := issuer.Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		c, err := verifier.Verify(raw)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if c.ID == "" || seen[c.ID] {
			t.Fatalf("jti %q is empty or repeated", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestIssueClock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		now     time.Time
		ttl     time.Duration
		wantExp time.Time
	}{
		{name: "whole second", now: t0, ttl: 15 * time.Minute, wantExp: t0.Add(15 * time.Minute)},
		{name: "fraction truncated", now: t0.Add(999 * time.Millisecond), ttl: time.Minute, wantExp: t0.Add(time.Minute)},
		{name: "other zone becomes UTC", now: t0.In(time.FixedZone("CET", 3600)), ttl: time.Hour, wantExp: t0.Add(time.Hour)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signer := apitest.NewAuth(t).Signer()
			issuer := token.NewIssuer(signer, testIssuer, testAudience, tc.ttl, clockAt(tc.now))
			raw, exp, err := issuer.Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if !exp.Equal(tc.wantExp) || exp.Location() != time.UTC {
				t.Errorf("exp = %v, want %v in UTC", exp, tc.wantExp)
			}
			v := token.NewVerifier([]token.PublicKey{signer.PublicKey()}, testIssuer, testAudience, clockAt(tc.now), token.MaxLifetime(tc.ttl))
			c, err := v.Verify(raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !c.ExpiresAt.Time.Equal(tc.wantExp) {
				t.Errorf("exp claim = %v, want %v", c.ExpiresAt.Time, tc.wantExp)
			}
		})
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

func TestIssueSignerFailure(t *testing.T) {
	t.Parallel()
	errKMS := errors.New("kms: throttled")
	tests := []struct {
		name    string
		sign    func(ctx context.Context, digest []byte) ([]byte, error)
		wantErr error // matched with errors.Is when set
	}{
		{
			name:    "signer error is wrapped",
			sign:    func(context.Context, []byte) ([]byte, error) { return nil, errKMS },
			wantErr: errKMS,
		},
		{
			name: "signature not DER",
			sign: func(context.Context, []byte) ([]byte, error) { return []byte("not a signature"), nil },
		},
		{
			name: "DER with trailing data",
			sign: func(context.Context, []byte) ([]byte, error) {
				return []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00}, nil
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			issuer := token.NewIssuer(&fakeSigner{kid: "kid", sign: tc.sign}, testIssuer, testAudience, time.Minute, clockAt(t0))
			raw, exp, err := issuer.Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
			if err == nil {
				t.Fatalf("Issue succeeded with %q, want an error", raw)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("Issue error %v does not wrap %v", err, tc.wantErr)
			}
			if raw != "" || !exp.IsZero() {
				t.Errorf("Issue returned %q, %v with an error; want zero values", raw, exp)
			}
		})
	}
}

func TestIssueSignsTheDigestOfTheSigningInput(t *testing.T) {
	t.Parallel()
	key := apitest.NewKey()
	var got []byte
	signer := &fakeSigner{kid: token.NewPublicKey(&key.PublicKey).ID, sign: func(_ context.Context, digest []byte) ([]byte, error) {
		got = append([]byte(nil), digest...)
		return ecdsa.SignASN1(rand.Reader, key, digest)
	}}
	raw, _, err := token.NewIssuer(signer, testIssuer, testAudience, time.Minute, clockAt(t0)).Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	input := raw[:strings.LastIndex(raw, ".")]
	if want := sha256.Sum256([]byte(input)); string(got) != string(want[:]) {
		t.Errorf("signer got digest %x, want SHA-256 of the signing input %x", got, want)
	}
}

// forgery holds the keys from which the tampered tokens are made.
type forgery struct {
	key    *ecdsa.PrivateKey // the trusted signing key
	kid    string            // its key id
	other  *ecdsa.PrivateKey // a key the verifier does not know
	pubDER []byte            // the trusted public key, PKIX DER
	valid  string            // a genuine token, issued at t0
}

func (f *forgery) header() map[string]any {
	return map[string]any{"alg": "ES256", "typ": token.Type, "kid": f.kid}
}

func (f *forgery) claims() map[string]any {
	return map[string]any{
		"iss":   testIssuer,
		"aud":   testAudience,
		"sub":   "user-1",
		"jti":   "jti-1",
		"iat":   t0.Unix(),
		"nbf":   t0.Unix(),
		"exp":   t0.Add(token.DefaultTTL).Unix(),
		"email": "ada@example.com",
		"name":  "Ada",
		"sid":   "session-1",
		"sep":   0,
	}
}

func (f *forgery) input(tb testing.TB, h, c map[string]any) string {
	return segment(tb, h) + "." + segment(tb, c)
}

// es256 signs header and claims with k (the trusted key when nil).
func (f *forgery) es256(tb testing.TB, k *ecdsa.PrivateKey, h, c map[string]any) string {
	if k == nil {
		k = f.key
	}
	in := f.input(tb, h, c)
	return in + "." + signES256(tb, k, in)
}

func (f *forgery) hs256(tb testing.TB, secret []byte) string {
	h := f.header()
	h["alg"] = "HS256"
	in := f.input(tb, h, f.claims())
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(in))
	return in + "." + b64(mac.Sum(nil))
}

func newForgery(t *testing.T) *forgery {
	t.Helper()
	key := apitest.NewKey()
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	signer := newSigner(t, key)
	valid, _, err := token.NewIssuer(signer, testIssuer, testAudience, token.DefaultTTL, clockAt(t0)).Issue(context.Background(), token.Subject{UserID: "user-1", SessionID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	return &forgery{key: key, kid: signer.KeyID(), other: apitest.NewKey(), pubDER: der, valid: valid}
}

// sentinels are the specific errors of Verify; exactly one matches each failure.
var sentinels = []error{token.ErrMalformed, token.ErrUnknownKey, token.ErrWrongType, token.ErrSignature, token.ErrExpired, token.ErrClaims}

func TestVerify(t *testing.T) {
	t.Parallel()
	f := newForgery(t)
	verifier := func(at time.Duration) *token.Verifier {
		return token.NewVerifier([]token.PublicKey{token.NewPublicKey(&f.key.PublicKey)}, testIssuer, testAudience, clockAt(t0.Add(at)))
	}
	// withHeader and withClaims build an ES256 token signed by the trusted
	// key after edit changes the header or the claims.
	withHeader := func(edit func(h map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string {
			h := f.header()
			edit(h)
			return f.es256(t, nil, h, f.claims())
		}
	}
	withClaims := func(edit func(c map[string]any)) func(t *testing.T) string {
		return func(t *testing.T) string {
			c := f.claims()
			edit(c)
			return f.es256(t, nil, f.header(), c)
		}
	}
	genuine := func(*testing.T) string { return f.valid }
	oversized := func(t *testing.T) string {
		c := f.claims()
		c["name"] = strings.Repeat("a", token.MaxTokenBytes)
		return f.es256(t, nil, f.header(), c)
	}

	tests := []struct {
		name  string
		token func(t *testing.T) string
		at    time.Duration // verifier clock, relative to t0
		want  error         // nil: accepted
	}{
		// Accepted.
		{name: "genuine token", token: genuine},
		{name: "forged with the trusted key", token: withClaims(func(map[string]any) {})},
		{name: "typ application/at+jwt", token: withHeader(func(h map[string]any) { h["typ"] = "application/at+jwt" })},
		{name: "typ in upper case", token: withHeader(func(h map[string]any) { h["typ"] = "AT+JWT" })},
		{name: "aud array holding ours", token: withClaims(func(c map[string]any) { c["aud"] = []string{"other", testAudience} })},
		{name: "no nbf", token: withClaims(func(c map[string]any) { delete(c, "nbf") })},
		{name: "lifetime of exactly the TTL and the leeway", token: withClaims(func(c map[string]any) {
			c["exp"] = t0.Add(token.DefaultTTL + token.Leeway).Unix()
		})},
		{name: "at the expiry", token: genuine, at: token.DefaultTTL},
		{name: "expired just within leeway", token: genuine, at: token.DefaultTTL + token.Leeway - time.Nanosecond},
		{name: "not yet valid just within leeway", token: genuine, at: -token.Leeway},

		// Algorithm.
		{
			name: "alg none unsigned",
			token: func(t *testing.T) string {
				h := f.header()
				h["alg"] = "none"
				return f.input(t, h, f.claims()) + "."
			},
			want: token.ErrSignature,
		},
		{name: "alg none with a valid ES256 signature", token: withHeader(func(h map[string]any) { h["alg"] = "none" }), want: token.ErrSignature},
		{name: "alg None mixed case", token: withHeader(func(h map[string]any) { h["alg"] = "None" }), want: token.ErrSignature},
		{name: "alg ES384", token: withHeader(func(h map[string]any) { h["alg"] = "ES384" }), want: token.ErrSignature},
		{name: "alg RS256", token: withHeader(func(h map[string]any) { h["alg"] = "RS256" }), want: token.ErrSignature},
		{name: "alg PS256", token: withHeader(func(h map[string]any) { h["alg"] = "PS256" }), want: token.ErrSignature},
		{name: "alg EdDSA", token: withHeader(func(h map[string]any) { h["alg"] = "EdDSA" }), want: token.ErrSignature},
		{name: "alg unknown", token: withHeader(func(h map[string]any) { h["alg"] = "XS999" }), want: token.ErrSignature},
		{name: "alg missing", token: withHeader(func(h map[string]any) { delete(h, "alg") }), want: token.ErrSignature},
		{name: "alg not a string", token: withHeader(func(h map[string]any) { h["alg"] = 256 }), want: token.ErrSignature},
		{name: "HS256 keyed with the public key DER", token: func(t *testing.T) string { return f.hs256(t, f.pubDER) }, want: token.ErrSignature},
		{
			name: "HS256 keyed with the public key PEM",
			token: func(t *testing.T) string {
				return f.hs256(t, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: f.pubDER}))
			},
			want: token.ErrSignature,
		},
		{
			name: "HS256 keyed with the uncompressed point",
			token: func(t *testing.T) string {
				point, err := f.key.PublicKey.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				return f.hs256(t, point)
			},
			want: token.ErrSignature,
		},

		// Key id.
		{name: "unknown kid", token: withHeader(func(h map[string]any) { h["kid"] = "no-such-key" }), want: token.ErrUnknownKey},
		{name: "missing kid", token: withHeader(func(h map[string]any) { delete(h, "kid") }), want: token.ErrUnknownKey},
		{name: "empty kid", token: withHeader(func(h map[string]any) { h["kid"] = "" }), want: token.ErrUnknownKey},
		{name: "kid not a string", token: withHeader(func(h map[string]any) { h["kid"] = 1 }), want: token.ErrUnknownKey},
		{
			name: "untrusted key under its own kid",
			token: func(t *testing.T) string {
				h := f.header()
				h["kid"] = token.NewPublicKey(&f.other.PublicKey).ID
				return f.es256(t, f.other, h, f.claims())
			},
			want: token.ErrUnknownKey,
		},

		// Signature.
		{name: "signed by another key with the trusted kid", token: func(t *testing.T) string { return f.es256(t, f.other, f.header(), f.claims()) }, want: token.ErrSignature},
		{
			name: "claims changed after signing",
			token: func(t *testing.T) string {
				parts := strings.Split(f.valid, ".")
				c := f.claims()
				c["sub"] = "admin"
				return parts[0] + "." + segment(t, c) + "." + parts[2]
			},
			want: token.ErrSignature,
		},
		{
			name: "header changed after signing",
			token: func(t *testing.T) string {
				parts := strings.Split(f.valid, ".")
				h := f.header()
				h["x"] = "y"
				return segment(t, h) + "." + parts[1] + "." + parts[2]
			},
			want: token.ErrSignature,
		},
		{name: "empty signature", token: func(t *testing.T) string { return f.input(t, f.header(), f.claims()) + "." }, want: token.ErrSignature},
		{name: "signature truncated", token: func(*testing.T) string { return f.valid[:len(f.valid)-10] }, want: token.ErrSignature},
		{
			name: "signature as ASN.1 DER",
			token: func(t *testing.T) string {
				in := f.input(t, f.header(), f.claims())
				digest := sha256.Sum256([]byte(in))
				der, err := ecdsa.SignASN1(rand.Reader, f.key, digest[:])
				if err != nil {
					t.Fatal(err)
				}
				return in + "." + b64(der)
			},
			want: token.ErrSignature,
		},
		{
			name: "signature of zeros",
			token: func(t *testing.T) string {
				return f.input(t, f.header(), f.claims()) + "." + b64(make([]byte, 64))
			},
			want: token.ErrSignature,
		},

		// Type.
		{name: "typ JWT", token: withHeader(func(h map[string]any) { h["typ"] = "JWT" }), want: token.ErrWrongType},
		{name: "typ missing", token: withHeader(func(h map[string]any) { delete(h, "typ") }), want: token.ErrWrongType},
		{name: "typ id-token", token: withHeader(func(h map[string]any) { h["typ"] = "id_token+jwt" }), want: token.ErrWrongType},
		{name: "typ not a string", token: withHeader(func(h map[string]any) { h["typ"] = true }), want: token.ErrWrongType},
		{name: "typ with a prefix", token: withHeader(func(h map[string]any) { h["typ"] = "x-at+jwt" }), want: token.ErrWrongType},

		// Validity period.
		{name: "expired beyond leeway", token: genuine, at: token.DefaultTTL + token.Leeway + time.Second, want: token.ErrExpired},
		{name: "expired exactly at leeway", token: genuine, at: token.DefaultTTL + token.Leeway, want: token.ErrExpired},
		{name: "expired long ago", token: genuine, at: 365 * 24 * time.Hour, want: token.ErrExpired},
		{name: "not yet valid beyond leeway", token: genuine, at: -token.Leeway - time.Second, want: token.ErrClaims},
		{name: "nbf in the future", token: withClaims(func(c map[string]any) { c["nbf"] = t0.Add(5 * time.Minute).Unix() }), want: token.ErrClaims},
		{name: "iat in the future", token: withClaims(func(c map[string]any) { c["iat"] = t0.Add(5 * time.Minute).Unix() }), want: token.ErrClaims},
		{name: "missing exp", token: withClaims(func(c map[string]any) { delete(c, "exp") }), want: token.ErrClaims},
		{name: "exp not a number", token: withClaims(func(c map[string]any) { c["exp"] = "tomorrow" }), want: token.ErrMalformed},

		// Issuer and audience.
		{name: "wrong iss", token: withClaims(func(c map[string]any) { c["iss"] = "https://evil.example" }), want: token.ErrClaims},
		{name: "missing iss", token: withClaims(func(c map[string]any) { delete(c, "iss") }), want: token.ErrClaims},
		{name: "iss differs in case", token: withClaims(func(c map[string]any) { c["iss"] = strings.ToUpper(testIssuer) }), want: token.ErrClaims},
		{name: "wrong aud", token: withClaims(func(c map[string]any) { c["aud"] = "https://other.example" }), want: token.ErrClaims},
		{name: "aud array without ours", token: withClaims(func(c map[string]any) { c["aud"] = []string{"a", "b"} }), want: token.ErrClaims},
		{name: "missing aud", token: withClaims(func(c map[string]any) { delete(c, "aud") }), want: token.ErrClaims},
		{name: "empty aud", token: withClaims(func(c map[string]any) { c["aud"] = "" }), want: token.ErrClaims},

		// Required claims of our own.
		{name: "missing sub", token: withClaims(func(c map[string]any) { delete(c, "sub") }), want: token.ErrClaims},
		{name: "empty sub", token: withClaims(func(c map[string]any) { c["sub"] = "" }), want: token.ErrClaims},
		{name: "missing jti", token: withClaims(func(c map[string]any) { delete(c, "jti") }), want: token.ErrClaims},
		{name: "missing iat", token: withClaims(func(c map[string]any) { delete(c, "iat") }), want: token.ErrClaims},
		{name: "issued for longer than the TTL", token: withClaims(func(c map[string]any) {
			c["exp"] = t0.Add(token.DefaultTTL + token.Leeway + time.Second).Unix()
		}), want: token.ErrClaims},
		{name: "issued for a year", token: withClaims(func(c map[string]any) {
			c["iat"] = t0.Add(-time.Hour).Unix()
			c["exp"] = t0.Add(365 * 24 * time.Hour).Unix()
		}), want: token.ErrClaims},

		// One encoding per token.
		{name: "high-s twin of the genuine signature", token: func(t *testing.T) string { return highS(t, f.valid) }, want: token.ErrSignature},
		{name: "padded signature", token: func(t *testing.T) string { return f.valid + "=" }, want: token.ErrMalformed},
		{name: "payload with non-zero padding bits, signed", token: func(t *testing.T) string {
			in := nonCanonical(t, f.input(t, f.header(), f.claims()))
			return in + "." + signES256(t, f.key, in)
		}, want: token.ErrMalformed},
		{name: "line break after the token", token: func(*testing.T) string { return f.valid + "\n" }, want: token.ErrMalformed},
		{name: "CR LF inside the payload", token: func(*testing.T) string {
			dot := strings.Index(f.valid, ".")
			return f.valid[:dot+5] + "\r\n" + f.valid[dot+5:]
		}, want: token.ErrMalformed},
		{name: "missing sid", token: withClaims(func(c map[string]any) { delete(c, "sid") }), want: token.ErrClaims},
		{name: "empty sid", token: withClaims(func(c map[string]any) { c["sid"] = "" }), want: token.ErrClaims},
		{name: "negative sep", token: withClaims(func(c map[string]any) { c["sep"] = -1 }), want: token.ErrClaims},
		{name: "sep a string", token: withClaims(func(c map[string]any) { c["sep"] = "1" }), want: token.ErrMalformed},
		{name: "email_verified a string", token: withClaims(func(c map[string]any) { c["email_verified"] = "true" }), want: token.ErrMalformed},
		{name: "empty jti", token: withClaims(func(c map[string]any) { c["jti"] = "" }), want: token.ErrClaims},

		// Shape.
		{name: "empty string", token: func(*testing.T) string { return "" }, want: token.ErrMalformed},
		{name: "only dots", token: func(*testing.T) string { return ".." }, want: token.ErrMalformed},
		{name: "one segment", token: func(*testing.T) string { return strings.Split(f.valid, ".")[0] }, want: token.ErrMalformed},
		{name: "truncated after the payload", token: func(*testing.T) string { return f.valid[:strings.LastIndex(f.valid, ".")] }, want: token.ErrMalformed},
		{name: "truncated inside the payload", token: func(*testing.T) string { return f.valid[:strings.Index(f.valid, ".")+10] }, want: token.ErrMalformed},
		{name: "extra segment", token: func(*testing.T) string { return f.valid + ".e30" }, want: token.ErrMalformed},
		{name: "trailing dot", token: func(*testing.T) string { return f.valid + "." }, want: token.ErrMalformed},
		{name: "JWE compact form", token: func(*testing.T) string { return "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d" }, want: token.ErrMalformed},
		{name: "garbage base64 header", token: func(*testing.T) string { return "!!!" + f.valid[strings.Index(f.valid, "."):] }, want: token.ErrMalformed},
		{
			name: "garbage base64 payload",
			token: func(*testing.T) string {
				p := strings.Split(f.valid, ".")
				return p[0] + ".$$$$." + p[2]
			},
			want: token.ErrMalformed,
		},
		{name: "garbage base64 signature", token: func(*testing.T) string { return f.valid[:strings.LastIndex(f.valid, ".")] + ".***" }, want: token.ErrMalformed},
		{name: "padded signature", token: func(*testing.T) string { return f.valid + "==" }, want: token.ErrMalformed},
		{name: "standard base64 alphabet", token: func(*testing.T) string { return strings.Split(f.valid, ".")[0] + ".+/+/." + "AA" }, want: token.ErrMalformed},
		{name: "header not JSON", token: func(*testing.T) string { return b64([]byte("not json")) + f.valid[strings.Index(f.valid, "."):] }, want: token.ErrMalformed},
		{
			name: "payload a JSON array",
			token: func(t *testing.T) string {
				in := segment(t, f.header()) + "." + b64([]byte(`["sub"]`))
				return in + "." + signES256(t, f.key, in)
			},
			want: token.ErrMalformed,
		},
		{name: "Bearer prefix kept", token: func(*testing.T) string { return "Bearer " + f.valid }, want: token.ErrMalformed},
		{name: "surrounding space", token: func(*testing.T) string { return " " + f.valid + " " }, want: token.ErrMalformed},
		{name: "oversized", token: oversized, want: token.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := tc.token(t)
			claims, err := verifier(tc.at).Verify(raw)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v, want success", err)
				}
				if claims.Subject != "user-1" {
					t.Errorf("sub = %q, want user-1", claims.Subject)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify accepted the token, want %v", tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify error = %v, want errors.Is %v", err, tc.want)
			}
			if !errors.Is(err, token.ErrInvalid) {
				t.Errorf("Verify error = %v does not wrap ErrInvalid", err)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Errorf("Verify error = %v also matches %v", err, s)
				}
			}
			if !reflect.DeepEqual(claims, token.Claims{}) {
				t.Errorf("Verify returned claims %+v with an error", claims)
			}
		})
	}
}

func TestVerifySizeLimit(t *testing.T) {
	t.Parallel()
	f := newForgery(t)
	v := token.NewVerifier([]token.PublicKey{token.NewPublicKey(&f.key.PublicKey)}, testIssuer, testAudience, clockAt(t0))

	// sized returns a genuine token of exactly n bytes. The name claim sets
	// the size; base64 never yields a length of 1 mod 4, so a padding header
	// field of 0 to 3 bytes fills the gap.
	sized := func(t *testing.T, n int) string {
		t.Helper()
		for pad := range 4 {
			for name := 0; name < n; name++ {
				h := f.header()
				h["p"] = strings.Repeat("x", pad)
				c := f.claims()
				c["name"] = strings.Repeat("a", name)
				in := f.input(t, h, c)
				if len(in)+87 == n { // "." + 86 characters of signature
					return in + "." + signES256(t, f.key, in)
				}
				if len(in)+87 > n {
					break
				}
			}
		}
		t.Fatalf("cannot build a token of %d bytes", n)
		return ""
	}
	tests := []struct {
		name string
		size int
		want error
	}{
		{name: "at the limit", size: token.MaxTokenBytes},
		{name: "one byte over", size: token.MaxTokenBytes + 1, want: token.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := sized(t, tc.size)
			if len(raw) != tc.size {
				t.Fatalf("built %d bytes, want %d", len(raw), tc.size)
			}
			if _, err := v.Verify(raw); !errors.Is(err, tc.want) {
				t.Errorf("Verify(%d bytes) = %v, want %v", tc.size, err, tc.want)
			}
		})
	}
}

func TestVerifyKeyRotation(t *testing.T) {
	t.Parallel()
	oldSigner, newSigner := apitest.NewAuth(t).Signer(), apitest.NewAuth(t).Signer()
	issue := func(s token.Signer) string {
		raw, _, err := token.NewIssuer(s, testIssuer, testAudience, time.Minute, clockAt(t0)).Issue(context.Background(), token.Subject{UserID: "u1", SessionID: "s1"})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	oldToken, newToken := issue(oldSigner), issue(newSigner)
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
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := token.NewVerifier(tc.keys, testIssuer, testAudience, clockAt(t0)).Verify(tc.token)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyConcurrent(t *testing.T) {
	t.Parallel()
	f := newForgery(t)
	v := token.NewVerifier([]token.PublicKey{token.NewPublicKey(&f.key.PublicKey)}, testIssuer, testAudience, clockAt(t0))
	bad := f.es256(t, f.other, f.header(), f.claims())
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

// TestClaimsJSON pins the names of the custom claims, which the authorizer
// and clients read.
func TestClaimsJSON(t *testing.T) {
	t.Parallel()
	signer := apitest.NewAuth(t).Signer()
	raw, _, err := token.NewIssuer(signer, testIssuer, testAudience, time.Minute, clockAt(t0)).Issue(context.Background(), token.Subject{UserID: "u1", Email: "e@x.example", Name: "N", EmailVerified: true, SessionID: "s1", SessionEpoch: 2})
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	decodeSegment(t, strings.Split(raw, ".")[1], &payload)
	want := map[string]any{
		"iss": testIssuer, "sub": "u1", "email": "e@x.example", "name": "N", "email_verified": true, "sid": "s1", "sep": float64(2),
		"exp": float64(t0.Add(time.Minute).Unix()), "iat": float64(t0.Unix()), "nbf": float64(t0.Unix()),
	}
	for k, v := range want {
		if payload[k] != v {
			t.Errorf("payload[%q] = %v (%T), want %v", k, payload[k], payload[k], v)
		}
	}
	// RegisteredClaims renders a single audience as a string or an array
	// depending on jwt.MarshalSingleStringAsArray; both are valid JWT.
	switch aud := payload["aud"].(type) {
	case string:
		if aud != testAudience {
			t.Errorf("aud = %q", aud)
		}
	case []any:
		if len(aud) != 1 || aud[0] != testAudience {
			t.Errorf("aud = %v", aud)
		}
	default:
		t.Errorf("aud = %v (%T)", aud, aud)
	}
	if _, ok := payload["jti"].(string); !ok {
		t.Errorf("jti = %v, want a string", payload["jti"])
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

// highS returns raw with its signature replaced by the other valid one of
// the same digest, (r, n-s).
func highS(t *testing.T, raw string) string {
	t.Helper()
	i := strings.LastIndexByte(raw, '.')
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature of %q: %v", raw, err)
	}
	s := new(big.Int).SetBytes(sig[32:])
	s.Sub(elliptic.P256().Params().N, s)
	s.FillBytes(sig[32:])
	return raw[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// nonCanonical returns the signing input in with the last character of its
// payload changed so that it decodes to the same bytes only in a lenient
// decoder: the unused low bits of the last base64 character are set.
func nonCanonical(t *testing.T, in string) string {
	t.Helper()
	parts := strings.Split(in, ".")
	p := parts[1]
	if len(p)%4 == 0 {
		t.Fatalf("payload of %d characters has no unused bits to set", len(p))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, p[len(p)-1])
	parts[1] = p[:len(p)-1] + string(alphabet[last|1]) // canonical encodings leave it 0
	return strings.Join(parts, ".")
}
