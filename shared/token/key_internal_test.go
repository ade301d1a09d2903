package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
)

func TestRawSignature(t *testing.T) {
	t.Parallel()
	der := func(r, s *big.Int) []byte {
		b, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	n := big.NewInt
	max256 := new(big.Int).Sub(new(big.Int).Lsh(n(1), 256), n(1)) // 2^256 - 1
	over256 := new(big.Int).Lsh(n(1), 256)                        // 2^256, 257 bits
	small := append(append(make([]byte, 31), 1), append(make([]byte, 31), 2)...)
	full := bytes.Repeat([]byte{0xff}, 64)
	order := elliptic.P256().Params().N
	nMinus1 := new(big.Int).Sub(order, n(1))
	half := new(big.Int).Rsh(order, 1)
	halfPlus1 := new(big.Int).Add(half, n(1))
	raw := func(r, s *big.Int) []byte {
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}

	tests := []struct {
		name    string
		der     []byte
		want    []byte
		wantErr string
	}{
		{name: "small values left-padded", der: der(n(1), n(2)), want: small},
		{name: "largest values", der: der(nMinus1, half), want: raw(nMinus1, half)},
		{name: "high s becomes its low twin", der: der(n(1), halfPlus1), want: raw(n(1), new(big.Int).Sub(order, halfPlus1))},
		{name: "s = n - 1 becomes 1", der: der(n(1), nMinus1), want: raw(n(1), n(1))},
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
		{name: "raw R||S instead of DER", der: full, wantErr: "decode ecdsa signature"},
		{name: "one integer only", der: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, wantErr: "decode ecdsa signature"},
		{name: "truncated", der: der(max256, max256)[:20], wantErr: "decode ecdsa signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := rawSignature(tc.der)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("rawSignature error = %v, want one containing %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("rawSignature returned %x with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("rawSignature: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("rawSignature = %x, want %x", got, tc.want)
			}
		})
	}
}

// TestRawSignatureOfRealSignatures converts what crypto/ecdsa produces and
// checks that the raw form verifies.
func TestRawSignatureOfRealSignatures(t *testing.T) {
	t.Parallel()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		digest := sha256.Sum256([]byte{byte(i)})
		der, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		raw, err := rawSignature(der)
		if err != nil {
			t.Fatalf("rawSignature(%x): %v", der, err)
		}
		if len(raw) != 64 {
			t.Fatalf("rawSignature returned %d bytes, want 64", len(raw))
		}
		r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
		if !ecdsa.Verify(&k.PublicKey, digest[:], r, s) {
			t.Fatalf("raw signature %x does not verify", raw)
		}
	}
}

func TestCoordinatesPanicsOnOtherCurves(t *testing.T) {
	t.Parallel()
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("coordinates of a P-384 key did not panic")
		}
	}()
	coordinates(&k.PublicKey)
}
