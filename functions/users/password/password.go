// Package password hashes passwords with argon2id (RFC 9106) and verifies
// them in constant time. Hashes are stored in the PHC string format, so the
// parameters travel with each hash and can be raised without a migration.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
	SaltLen     int
	KeyLen      uint32
}

// Default is the OWASP Password Storage Cheat Sheet's first argon2id
// configuration: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
var Default = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters read back from a stored hash, so a corrupt or
// hostile record cannot make a verification exhaust the function's memory.
const (
	maxMemoryKiB  = 256 * 1024
	maxIterations = 16
)

// ErrMalformedHash means a stored hash is not a PHC argon2id string this
// package can verify.
var ErrMalformedHash = errors.New("password: malformed hash")

var b64 = base64.RawStdEncoding

// Hash returns the PHC string of password under p with a random salt. It
// panics for parameters below the minimum, as argon2 does for those it
// cannot use: p is the program's (Default), never a client's.
func Hash(password string, p Params) string {
	if p.SaltLen < 8 || p.KeyLen < 16 || p.Iterations == 0 || p.MemoryKiB == 0 || p.Parallelism == 0 {
		panic("password: parameters below the minimum")
	}
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // never fails: it crashes the program instead
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether password matches the PHC hash. The comparison of
// the derived keys is constant-time.
func Verify(hash, password string) (bool, error) {
	p, salt, want, err := decode(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether hash was made with parameters other than p
// (cost, salt or key length), so that a successful login can upgrade it.
func NeedsRehash(hash string, p Params) bool {
	got, _, _, err := decode(hash)
	return err != nil || got != p
}

// DummyHash is a valid hash of a random, discarded password. Logins for
// unknown emails verify against it so that they cost as much as real ones.
const DummyHash = "$argon2id$v=19$m=19456,t=2,p=1$U3rfpIER7eSyWuxm4DAP1A$jbpU9YqCHVGIaKkul5+axWlGpXUmHR8gq6/kS2Xd/1I"

// decode reads a PHC argon2id string of this package's version, with
// parameters in their canonical form (no trailing text, no spaces, no
// leading zeros) within the bounds, and a salt and key long enough; p
// holds their lengths too.
func decode(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	// Scan, then require the canonical form back.
	_, err = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism)
	canonical := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism)
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err != nil || err1 != nil || err2 != nil || strings.Join(parts[:4], "$") != canonical || len(salt) < 8 || len(key) < 16 ||
		p.MemoryKiB == 0 || p.MemoryKiB > maxMemoryKiB || p.Iterations == 0 || p.Iterations > maxIterations || p.Parallelism == 0 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = len(salt), uint32(len(key))
	return p, salt, key, nil
}
