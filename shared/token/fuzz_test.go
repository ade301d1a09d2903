package token_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/shared/token"
)

// fuzzKey is the one trusted key of FuzzVerify. It is fixed, not random, so
// that a token signed with it in a saved corpus entry still verifies in a
// later run. (Being public, it signs test tokens only.)
func fuzzKey(tb testing.TB) *ecdsa.PrivateKey {
	tb.Helper()
	scalar := sha256.Sum256([]byte("serverless-shop FuzzVerify key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// FuzzVerify feeds Verify arbitrary strings, starting from genuine tokens
// (one from Issuer.Issue, others signed by hand), tokens that the trusted
// key signed but that break a rule, forgeries, and other spellings of a
// genuine token. Verify must never panic, and whatever it refuses it
// refuses with exactly one of its errors, all of which wrap ErrInvalid.
// Whatever it accepts must be what the issuer makes: a compact ES256 JWS in
// canonical base64url whose header names the trusted key, whose low-s
// signature the trusted key made over exactly the first two segments (the
// fuzzer cannot sign, so only the seeds' own signatures can pass), and
// whose claims are current and complete.
func FuzzVerify(f *testing.F) {
	key := fuzzKey(f)
	pub := token.NewPublicKey(&key.PublicKey)
	v := token.NewVerifier([]token.PublicKey{pub}, testIssuer, testAudience, clockAt(t0))

	header := func() map[string]any { return map[string]any{"alg": "ES256", "typ": token.Type, "kid": pub.ID} }
	claims := func() map[string]any {
		// What Issuer.Issue writes, with a fixed jti.
		return map[string]any{
			"iss": testIssuer, "sub": "01JPAZ3Q7R0000000000000000", "aud": []string{testAudience},
			"exp": t0.Add(token.DefaultTTL).Unix(), "iat": t0.Unix(), "nbf": t0.Unix(),
			"jti": "c2VydmVybGVzcy1zaG9wLWp0aQ", "email": "ada@example.com", "name": "Ada Lovelace",
			"email_verified": true, "sid": "fam-1", "sep": 3,
		}
	}
	es256 := func(k *ecdsa.PrivateKey, h, c map[string]any) string {
		in := segment(f, h) + "." + segment(f, c)
		return in + "." + signES256(f, k, in)
	}
	withHeader := func(edit func(map[string]any)) string {
		h := header()
		edit(h)
		return es256(key, h, claims())
	}
	withClaims := func(edit func(map[string]any)) string {
		c := claims()
		edit(c)
		return es256(key, header(), c)
	}

	signer, err := token.NewECDSASigner(key)
	if err != nil {
		f.Fatal(err)
	}
	issued, _, err := token.NewIssuer(signer, testIssuer, testAudience, token.DefaultTTL, clockAt(t0)).Issue(context.Background(),
		token.Subject{UserID: "01JPAZ3Q7R0000000000000000", Email: "ada@example.com", Name: "Ada Lovelace", SessionID: "fam-1", SessionEpoch: 3})
	if err != nil {
		f.Fatal(err)
	}
	genuine := es256(key, header(), claims())
	for _, tok := range []string{issued, genuine} {
		if _, err := v.Verify(tok); err != nil {
			f.Fatalf("the genuine seed %q does not verify: %v", tok, err)
		}
	}
	parts := strings.Split(genuine, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		f.Fatal(err)
	}
	// The high-s twin of the signature: as valid, but not the issuer's.
	n := elliptic.P256().Params().N
	highS := slices.Clone(sig)
	new(big.Int).Sub(n, new(big.Int).SetBytes(sig[32:])).FillBytes(highS[32:])
	// The signature with base64's unused trailing bits set: the same bytes
	// in a non-canonical spelling.
	last := parts[2][len(parts[2])-1]
	trailing := parts[2][:len(parts[2])-1] + string(b64Alphabet[strings.IndexByte(b64Alphabet, last)|0x0f])
	if trailing == parts[2] {
		trailing = parts[2][:len(parts[2])-1] + string(b64Alphabet[strings.IndexByte(b64Alphabet, last)&^0x0f])
	}

	other := apitest.NewKey()
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	hs256 := func(secret []byte) string {
		h := header()
		h["alg"] = "HS256"
		in := segment(f, h) + "." + segment(f, claims())
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(in))
		return in + "." + b64(mac.Sum(nil))
	}
	std := strings.NewReplacer("-", "+", "_", "/")
	seeds := []string{
		issued,
		genuine,
		withHeader(func(h map[string]any) { h["typ"] = "application/at+jwt" }),
		withHeader(func(h map[string]any) { h["typ"] = "AT+JWT" }),
		withClaims(func(c map[string]any) { c["aud"] = testAudience }),
		withClaims(func(c map[string]any) { c["aud"] = []string{"other", testAudience} }),
		// The same header and claims, spelled otherwise.
		parts[0] + "." + parts[1] + "." + b64(highS),
		parts[0] + "." + parts[1] + "." + trailing,
		parts[0] + "." + parts[1] + "." + parts[2] + "==",
		parts[0] + "==." + parts[1] + "." + parts[2],
		std.Replace(genuine),
		base64.URLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"at+jwt","kid":"`+pub.ID+`"}`)) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + parts[1] + "\n." + parts[2],
		" " + genuine,
		genuine + "\n",
		// Algorithm confusion.
		segment(f, map[string]any{"alg": "none", "typ": token.Type, "kid": pub.ID}) + "." + parts[1] + ".",
		withHeader(func(h map[string]any) { h["alg"] = "none" }),
		withHeader(func(h map[string]any) { h["alg"] = "ES384" }),
		hs256(pubDER),
		hs256(nil),
		// Key id and signer.
		withHeader(func(h map[string]any) { h["kid"] = "no-such-key" }),
		withHeader(func(h map[string]any) { delete(h, "kid") }),
		es256(other, header(), claims()),
		es256(other, map[string]any{"alg": "ES256", "typ": token.Type, "kid": token.NewPublicKey(&other.PublicKey).ID}, claims()),
		// Type and extensions.
		withHeader(func(h map[string]any) { h["typ"] = "JWT" }),
		withHeader(func(h map[string]any) { delete(h, "typ") }),
		withHeader(func(h map[string]any) { h["crit"] = []string{"exp"} }),
		// Claims the trusted key signed, but not as the issuer would.
		withClaims(func(c map[string]any) { c["exp"] = t0.Add(-time.Hour).Unix() }),
		withClaims(func(c map[string]any) { delete(c, "exp") }),
		withClaims(func(c map[string]any) { delete(c, "iat") }),
		withClaims(func(c map[string]any) {
			c["iat"] = t0.Add(time.Hour).Unix()
			c["exp"] = t0.Add(time.Hour + token.DefaultTTL).Unix()
		}),
		withClaims(func(c map[string]any) { c["nbf"] = t0.Add(time.Hour).Unix() }),
		withClaims(func(c map[string]any) { c["exp"] = t0.Add(365 * 24 * time.Hour).Unix() }),
		withClaims(func(c map[string]any) { c["exp"] = float64(t0.Add(token.DefaultTTL).Unix()) + 0.5 }),
		withClaims(func(c map[string]any) { c["exp"] = "tomorrow" }),
		withClaims(func(c map[string]any) { delete(c, "sid") }),
		withClaims(func(c map[string]any) { delete(c, "sub") }),
		withClaims(func(c map[string]any) { c["jti"] = "" }),
		withClaims(func(c map[string]any) { c["sep"] = -1 }),
		withClaims(func(c map[string]any) { c["sep"] = 1e300 }),
		withClaims(func(c map[string]any) { c["iss"] = "https://evil.example" }),
		withClaims(func(c map[string]any) { c["aud"] = []string{} }),
		// Tampering after signing.
		parts[0] + "." + segment(f, map[string]any{"sub": "admin"}) + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2],
		parts[0] + "." + parts[1] + "." + b64(append(slices.Clone(sig), 0)),
		parts[0] + "." + parts[1] + "." + b64(make([]byte, 64)),
		// Bad base64 and shapes.
		"!!!." + parts[1] + "." + parts[2],
		parts[0] + ".$$$." + parts[2],
		"Bearer " + genuine,
		"",
		"..",
		genuine + ".",
		genuine + ".e30",
		"e30.e30.e30",
		"bnVsbA.bnVsbA." + parts[2],
		// Huge.
		strings.Repeat("a", token.MaxTokenBytes+1),
		withClaims(func(c map[string]any) { c["name"] = strings.Repeat("x", token.MaxTokenBytes) }),
		strings.Repeat("eyJ", 1000) + "." + parts[1] + "." + parts[2],
	}
	for _, s := range seeds {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(raw)
		if err != nil {
			if !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("Verify error %v does not wrap ErrInvalid", err)
			}
			var matched []error
			for _, s := range sentinels {
				if errors.Is(err, s) {
					matched = append(matched, s)
				}
			}
			if len(matched) != 1 {
				t.Errorf("Verify error %v matches %d of the specific errors, want exactly one: %v", err, len(matched), matched)
			}
			if !reflect.DeepEqual(c, token.Claims{}) {
				t.Errorf("Verify returned claims %+v with the error %v", c, err)
			}
			return
		}

		// Accepted: a compact JWS within the limits, in canonical base64url.
		segs := strings.Split(raw, ".")
		if len(raw) > token.MaxTokenBytes || len(segs) != 3 {
			t.Fatalf("accepted a token of %d bytes and %d segments", len(raw), len(segs))
		}
		var decoded [3][]byte
		for i, seg := range segs {
			b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
			if err != nil || b64(b) != seg {
				t.Fatalf("accepted %q, whose segment %d is not canonical base64url (%v)", raw, i, err)
			}
			decoded[i] = b
		}
		var h struct{ Alg, Typ, Kid string }
		if err := json.Unmarshal(decoded[0], &h); err != nil || h.Alg != token.Algorithm || h.Kid != pub.ID ||
			!strings.EqualFold(strings.TrimPrefix(strings.ToLower(h.Typ), "application/"), token.Type) {
			t.Fatalf("accepted the header %s (%v)", decoded[0], err)
		}
		// Signed by the trusted key over exactly what was presented, with
		// the low s the issuer writes.
		sig := decoded[2]
		digest := sha256.Sum256([]byte(segs[0] + "." + segs[1]))
		r, s := new(big.Int).SetBytes(sig[:min(32, len(sig))]), new(big.Int).SetBytes(sig[min(32, len(sig)):])
		if len(sig) != 64 || !ecdsa.Verify(&key.PublicKey, digest[:], r, s) {
			t.Fatalf("accepted %q, whose signature the trusted key did not make", raw)
		}
		if s.Cmp(new(big.Int).Rsh(n, 1)) > 0 {
			t.Fatalf("accepted %q, whose signature has a high s", raw)
		}

		// With the claims the verifier promises.
		switch now := t0; {
		case c.Subject == "", c.ID == "", c.SessionID == "", c.SessionEpoch < 0:
			t.Errorf("accepted claims without sub, jti or sid, or with a negative sep: %+v", c)
		case c.ExpiresAt == nil, c.IssuedAt == nil:
			t.Errorf("accepted claims without exp or iat: %+v", c)
		case !c.ExpiresAt.Add(token.Leeway).After(now):
			t.Errorf("accepted a token that expired at %v", c.ExpiresAt)
		case c.IssuedAt.After(now.Add(token.Leeway)), c.NotBefore != nil && c.NotBefore.After(now.Add(token.Leeway)):
			t.Errorf("accepted a token issued at %v, valid from %v", c.IssuedAt, c.NotBefore)
		case c.ExpiresAt.Sub(c.IssuedAt.Time) > token.DefaultTTL+token.Leeway:
			t.Errorf("accepted a token issued at %v for %v", c.IssuedAt, c.ExpiresAt.Sub(c.IssuedAt.Time))
		case c.Issuer != testIssuer:
			t.Errorf("accepted the issuer %q", c.Issuer)
		case !slices.Contains(c.Audience, testAudience):
			t.Errorf("accepted the audience %q", c.Audience)
		}

		// And the same answer every time.
		again, err := v.Verify(raw)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Errorf("Verify again = %+v, %v; first %+v", again, err, c)
		}
	})
}

// b64Alphabet is base64url's alphabet, in the order of the values.
const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
