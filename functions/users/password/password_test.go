package password_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/users/password"
)

// cheap keeps the tests fast; the format and checks do not depend on cost.
var cheap = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

// TestHash checks the PHC string Hash writes: its parameters, a salt and
// key of their lengths, a new salt each time, and no trace of the
// password; it verifies the password and no other (at Default too).
func TestHash(t *testing.T) {
	const plain = "correct horse battery staple"
	for _, p := range []password.Params{cheap, {MemoryKiB: 128, Iterations: 3, Parallelism: 2, SaltLen: 24, KeyLen: 48}, password.Default} {
		h := password.Hash(plain, p)
		m := phc.FindStringSubmatch(h)
		if m == nil {
			t.Fatalf("Hash = %q, not a PHC argon2id string", h)
		}
		want := fmt.Sprintf("%d,%d,%d", p.MemoryKiB, p.Iterations, p.Parallelism)
		if got := m[1] + "," + m[2] + "," + m[3]; got != want {
			t.Errorf("parameters m,t,p = %s, want %s", got, want)
		}
		salt, _ := base64.RawStdEncoding.DecodeString(m[4])
		key, _ := base64.RawStdEncoding.DecodeString(m[5])
		if len(salt) != p.SaltLen || len(key) != int(p.KeyLen) {
			t.Errorf("salt %d bytes, key %d bytes; want %d and %d", len(salt), len(key), p.SaltLen, p.KeyLen)
		}
		if again := password.Hash(plain, p); again == h || strings.Contains(h, "correct horse") {
			t.Errorf("hashes %q and %q of one password: equal, or holding it", h, again)
		}
		if ok, err := password.Verify(h, plain); !ok || err != nil {
			t.Errorf("Verify = %v, %v", ok, err)
		}
		if ok, err := password.Verify(h, "wrong horse battery staple"); ok || err != nil {
			t.Errorf("Verify of a wrong password = %v, %v", ok, err)
		}
	}
}

// TestHashRefusesWeakParameters: parameters below the minimum (a short
// salt or key, no iterations, memory or parallelism) hash nothing: Hash
// panics.
func TestHashRefusesWeakParameters(t *testing.T) {
	for _, p := range []password.Params{
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 7, KeyLen: 32},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 15},
		{MemoryKiB: 64, Iterations: 0, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 0, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 64, Iterations: 1, Parallelism: 0, SaltLen: 16, KeyLen: 32},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Hash with %+v did not panic", p)
				}
			}()
			password.Hash("correct horse battery staple", p)
		}()
	}
}

func TestVerify(t *testing.T) {
	const plain = "correct horse battery staple"
	hash := password.Hash(plain, cheap)
	unicodeHash := password.Hash("pässwörd-日本語-🔑🔑", cheap)
	emptyHash := password.Hash("", cheap)
	tests := []struct {
		name  string
		hash  string
		plain string
		want  bool
	}{
		{"right password", hash, plain, true},
		{"wrong password", hash, "correct horse battery stapler", false},
		{"case differs", hash, strings.ToUpper(plain), false},
		{"prefix", hash, plain[:len(plain)-1], false},
		{"trailing space", hash, plain + " ", false},
		{"empty", hash, "", false},
		{"unicode right", unicodeHash, "pässwörd-日本語-🔑🔑", true},
		// NFD form of the same text is different bytes, hence a different password.
		{"unicode other normal form", unicodeHash, "pa\u0308sswo\u0308rd-日本語-🔑🔑", false},
		{"empty password hashed", emptyHash, "", true},
		{"non-empty against empty", emptyHash, "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := password.Verify(tt.hash, tt.plain)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("Verify(%q) = %v, want %v", tt.plain, got, tt.want)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	h := password.Hash("correct horse battery staple", cheap)
	tests := []struct {
		name   string
		hash   string
		params password.Params
		want   bool
	}{
		{"same parameters", h, cheap, false},
		{"longer salt", h, password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 32, KeyLen: 32}, true},
		{"longer key", h, password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 64}, true},
		{"more memory", h, password.Params{MemoryKiB: 128, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more iterations", h, password.Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}, true},
		{"more parallelism", h, password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 2, SaltLen: 16, KeyLen: 32}, true},
		{"default", h, password.Default, true},
		{"dummy hash at default", password.DummyHash, password.Default, false},
		{"malformed hash", "$2a$10$abcdefghijklmnopqrstuv", cheap, true},
		{"empty hash", "", cheap, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := password.NeedsRehash(tt.hash, tt.params); got != tt.want {
				t.Errorf("NeedsRehash = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestVerifyMalformedHash refuses what is not a PHC argon2id string of
// this version, or carries costs beyond the bounds; the largest costs a
// stored hash may carry, and the shortest salt and key, still verify: the
// bounds reject hostile records, not legitimate ones.
func TestVerifyMalformedHash(t *testing.T) {
	b64 := base64.RawStdEncoding
	salt := b64.EncodeToString([]byte("0123456789abcdef"))
	key := b64.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	phcOf := func(alg, version, params, salt, key string) string {
		return strings.Join([]string{"", alg, version, params, salt, key}, "$")
	}
	good := phcOf("argon2id", "v=19", "m=64,t=1,p=1", salt, key)
	salt8, key16 := b64.EncodeToString([]byte("12345678")), b64.EncodeToString([]byte("0123456789abcdef"))
	for _, h := range []string{good, phcOf("argon2id", "v=19", "m=64,t=1,p=1", salt8, key16), phcOf("argon2id", "v=19", "m=8,t=16,p=1", salt8, key16)} {
		if _, err := password.Verify(h, "x"); err != nil {
			t.Fatalf("Verify(%q): %v", h, err)
		}
	}
	tests := []struct {
		name string
		hash string
	}{
		{"empty", ""},
		{"not PHC", "correct horse battery staple"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", phcOf("argon2i", "v=19", "m=64,t=1,p=1", salt, key)},
		{"upper-case algorithm", phcOf("ARGON2ID", "v=19", "m=64,t=1,p=1", salt, key)},
		{"no leading dollar", strings.TrimPrefix(good, "$")},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing key", "$argon2id$v=19$m=64,t=1,p=1$" + salt},
		{"extra part", good + "$extra"},
		{"version 16 (argon2 1.0)", phcOf("argon2id", "v=16", "m=64,t=1,p=1", salt, key)},
		{"version not a number", phcOf("argon2id", "v=x", "m=64,t=1,p=1", salt, key)},
		{"version empty", phcOf("argon2id", "", "m=64,t=1,p=1", salt, key)},
		{"parameters empty", phcOf("argon2id", "v=19", "", salt, key)},
		{"parameters reordered", phcOf("argon2id", "v=19", "t=1,m=64,p=1", salt, key)},
		{"parameter missing", phcOf("argon2id", "v=19", "m=64,t=1", salt, key)},
		{"memory zero", phcOf("argon2id", "v=19", "m=0,t=1,p=1", salt, key)},
		{"memory just over bound", phcOf("argon2id", "v=19", "m=262145,t=1,p=1", salt, key)},
		{"memory overflows uint32", phcOf("argon2id", "v=19", "m=4294967296,t=1,p=1", salt, key)},
		{"memory negative", phcOf("argon2id", "v=19", "m=-1,t=1,p=1", salt, key)},
		{"iterations zero", phcOf("argon2id", "v=19", "m=64,t=0,p=1", salt, key)},
		{"iterations just over bound", phcOf("argon2id", "v=19", "m=64,t=17,p=1", salt, key)},
		{"parallelism zero", phcOf("argon2id", "v=19", "m=64,t=1,p=0", salt, key)},
		{"parallelism overflows uint8", phcOf("argon2id", "v=19", "m=64,t=1,p=256", salt, key)},
		{"salt not base64", phcOf("argon2id", "v=19", "m=64,t=1,p=1", "!!!!not*base64!!", key)},
		{"salt padded", phcOf("argon2id", "v=19", "m=64,t=1,p=1", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")), key)},
		{"salt url alphabet", phcOf("argon2id", "v=19", "m=64,t=1,p=1", "-_"+salt[2:], key)},
		{"salt empty", phcOf("argon2id", "v=19", "m=64,t=1,p=1", "", key)},
		{"salt 7 bytes", phcOf("argon2id", "v=19", "m=64,t=1,p=1", b64.EncodeToString([]byte("1234567")), key)},
		{"key not base64", phcOf("argon2id", "v=19", "m=64,t=1,p=1", salt, "***")},
		{"key empty", phcOf("argon2id", "v=19", "m=64,t=1,p=1", salt, "")},
		{"key 15 bytes", phcOf("argon2id", "v=19", "m=64,t=1,p=1", salt, b64.EncodeToString([]byte("0123456789abcde")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := password.Verify(tt.hash, "correct horse battery staple")
			if ok || !errors.Is(err, password.ErrMalformedHash) || !password.NeedsRehash(tt.hash, cheap) {
				t.Errorf("Verify(%q) = %v, %v, NeedsRehash false; want ErrMalformedHash and a rehash", tt.hash, ok, err)
			}
		})
	}
}

// TestDummyHash: logins for unknown emails verify against it, and must
// cost what real ones cost (NeedsRehash at Default: TestNeedsRehash).
func TestDummyHash(t *testing.T) {
	for _, plain := range []string{"", "password", "correct horse battery staple", strings.Repeat("x", 128), "日本語のパスワード"} {
		if ok, err := password.Verify(password.DummyHash, plain); ok || err != nil {
			t.Errorf("Verify(DummyHash, %q) = %v, %v", plain, ok, err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		password.Hash("correct horse battery staple", password.Default)
	}
}

func BenchmarkVerify(b *testing.B) {
	h := password.Hash("correct horse battery staple", password.Default)
	for b.Loop() {
		if ok, err := password.Verify(h, "correct horse battery staple"); err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}
