package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The root store of the provided.al2023 image as golang/go#79018
// describes it: the bundle at /etc/pki/tls/certs/ca-bundle.crt (a
// symlink into /etc/pki/ca-trust/extracted), a "trusted" bundle beside
// it, and /etc/ssl/certs holding every root again as its own .pem file
// plus hash-named symlinks to them.
const (
	al2023Bundle      = "/etc/pki/tls/certs/ca-bundle.crt"
	al2023BundleReal  = "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
	al2023Trust       = "/etc/pki/tls/certs/ca-bundle.trust.crt"
	al2023TrustReal   = "/etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt"
	al2023CertDir     = "/etc/ssl/certs"
	al2023PKICertsDir = "/etc/pki/tls/certs"
)

// goDefaultRoots is what Go's crypto/x509 reads on that image when
// neither SSL_CERT_FILE nor SSL_CERT_DIR is set: the first bundle found
// (/etc/ssl/certs/ca-certificates.crt does not exist there), then every
// file of both directories.
var goDefaultRoots = tlsEnv{File: al2023Bundle, Dir: al2023CertDir + ":" + al2023PKICertsDir}

// tlsEnv is a function's SSL_CERT_FILE and SSL_CERT_DIR, as on AWS.
type tlsEnv struct{ File, Dir string }

// relocate moves the absolute paths of e under root, where the bench
// lays the image's store out.
func (e tlsEnv) relocate(root string) []string {
	var dirs []string
	for _, d := range strings.Split(e.Dir, ":") {
		if d != "" {
			dirs = append(dirs, filepath.Join(root, d))
		}
	}
	env := []string{"SSL_CERT_FILE=" + filepath.Join(root, e.File)}
	if len(dirs) > 0 {
		env = append(env, "SSL_CERT_DIR="+strings.Join(dirs, ":"))
	}
	return env
}

// templateTLSEnv reads SSL_CERT_FILE and SSL_CERT_DIR from the template's
// function globals; ok is false when the template sets neither (the
// functions then read Go's defaults).
func templateTLSEnv(template []byte) (tlsEnv, bool) {
	get := func(name string) string {
		m := regexp.MustCompile(`(?m)^\s+` + name + `:\s*['"]?([^'"\s]+)`).FindSubmatch(template)
		if m == nil {
			return ""
		}
		return string(m[1])
	}
	e := tlsEnv{File: get("SSL_CERT_FILE"), Dir: get("SSL_CERT_DIR")}
	if e.File == "" && e.Dir == "" {
		return goDefaultRoots, false
	}
	if e.File == "" {
		e.File = al2023Bundle
	}
	return e, true
}

// layOutRoots writes the AL2023-like store under root from the certificates
// of systemBundle plus extra (the bench CA), and returns how many roots it
// holds.
func layOutRoots(root, systemBundle string, extra []byte) (int, error) {
	data, err := os.ReadFile(systemBundle)
	if err != nil {
		return 0, fmt.Errorf("system roots: %w", err)
	}
	var blocks []*pem.Block
	for rest := append(data, extra...); ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			blocks = append(blocks, b)
		}
	}
	if len(blocks) == 0 {
		return 0, errors.New("system roots: no certificates")
	}
	var bundle, trust strings.Builder
	for _, b := range blocks {
		bundle.Write(pem.EncodeToMemory(b))
		trust.Write(pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: b.Bytes}))
	}
	write := func(p, s string) error {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(s), 0o644)
	}
	if err := write(filepath.Join(root, al2023BundleReal), bundle.String()); err != nil {
		return 0, err
	}
	if err := write(filepath.Join(root, al2023TrustReal), trust.String()); err != nil {
		return 0, err
	}
	for link, target := range map[string]string{al2023Bundle: al2023BundleReal, al2023Trust: al2023TrustReal} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(link)), 0o755); err != nil {
			return 0, err
		}
		// An absolute target, as on the image: Go does not skip it.
		if err := os.Symlink(filepath.Join(root, target), filepath.Join(root, link)); err != nil {
			return 0, err
		}
	}
	dir := filepath.Join(root, al2023CertDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for i, b := range blocks {
		sum := sha256.Sum256(b.Bytes)
		name := fmt.Sprintf("root-%03d.pem", i)
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o644); err != nil {
			return 0, err
		}
		// Two hash links per root, as c_rehash makes (same-directory
		// targets: Go skips them).
		for j := range 2 {
			if err := os.Symlink(name, filepath.Join(dir, fmt.Sprintf("%s.%d", hex.EncodeToString(sum[:4]), j))); err != nil {
				return 0, err
			}
		}
	}
	return len(blocks), nil
}

// rootsParsed counts the certificates Go's loader parses under env (its
// rules: the first readable file, then every entry of every directory
// except symlinks to the same directory), and the PEM blocks of other
// types it decodes and drops.
func rootsParsed(env []string) (certs, other int) {
	var file, dirs string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "SSL_CERT_FILE="); ok {
			file = v
		}
		if v, ok := strings.CutPrefix(kv, "SSL_CERT_DIR="); ok {
			dirs = v
		}
	}
	count := func(p string) {
		data, err := os.ReadFile(p)
		if err != nil {
			return
		}
		for {
			var b *pem.Block
			if b, data = pem.Decode(data); b == nil {
				return
			}
			if b.Type == "CERTIFICATE" {
				certs++
			} else {
				other++
			}
		}
	}
	count(file)
	for _, d := range strings.Split(dirs, ":") {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink != 0 {
				if t, err := os.Readlink(filepath.Join(d, e.Name())); err == nil && !strings.Contains(t, "/") {
					continue
				}
			}
			count(filepath.Join(d, e.Name()))
		}
	}
	return certs, other
}

// probeRoots is the bench binary run with -probe-roots: it loads the
// system root store once, as the first TLS handshake of a function does,
// and prints how long that took in nanoseconds.
func probeRoots() {
	start := time.Now()
	_, err := x509.SystemCertPool()
	d := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(d.Nanoseconds())
}
