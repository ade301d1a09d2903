package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/token"
)

// FuzzVerify feeds Verify arbitrary strings, starting from the tokens of
// TestVerify: genuine ones, tokens that the trusted key signed but that
// break a rule, forgeries, and other spellings of a genuine token, with
// the standard base64 alphabet besides. Verify must never panic, and
// whatever it refuses it refuses with exactly one of its errors, all of
// which wrap ErrInvalid. Whatever it accepts must be what the issuer makes:
// a compact ES256 JWS in canonical base64url whose header names the
// trusted key, whose low-s signature the trusted key made over exactly the
// first two segments (the fuzzer cannot sign, so only the seeds' own
// signatures can pass), and whose claims are current and complete.
func FuzzVerify(f *testing.F) {
	fg := newForgery(f)
	key, v := fg.key, fg.verifier(0)
	for _, c := range verifyCases(fg) {
		f.Add(c.token)
	}
	f.Add(strings.NewReplacer("-", "+", "_", "/").Replace(fg.valid))
	f.Add(base64.URLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"at+jwt","kid":"`+fg.kid+`"}`)) + fg.valid[strings.IndexByte(fg.valid, '.'):])

	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(raw)
		if err != nil {
			checkRefusal(t, c, err)
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
		if err := json.Unmarshal(decoded[0], &h); err != nil || h.Alg != token.Algorithm || h.Kid != fg.kid ||
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
		if s.Cmp(new(big.Int).Rsh(elliptic.P256().Params().N, 1)) > 0 {
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
