// Package sizes builds Lambda bootstraps the way make build does and
// measures them: the size of the stripped binary and of the zip Lambda
// stores. make bench reports the sizes; a test in this package keeps every
// function within Budget of the SDK baseline.
package sizes

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Budget is how much larger than the SDK baseline (bench/baseline/sdk) a
// function's bootstrap may be, arm64, stripped.
const Budget = 2.5 * (1 << 20)

// Baselines are the main packages every measurement is set beside.
var Baselines = []string{"./bench/baseline/empty", "./bench/baseline/sdk"}

// SDKBaseline is the baseline the size budget is counted from.
const SDKBaseline = "./bench/baseline/sdk"

// Functions lists the main packages of the deployed functions under root,
// as the Makefile's MAINS does: functions/*/main.go and
// functions/*/*/main.go, as "./functions/..." package paths.
func Functions(root string) ([]string, error) {
	var out []string
	for _, pattern := range []string{"functions/*/main.go", "functions/*/*/main.go"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, _ := filepath.Rel(root, filepath.Dir(f))
			out = append(out, "./"+filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Name is the bootstrap name of a main package: its directory's name.
func Name(pkg string) string { return filepath.Base(pkg) }

// Build builds the main package pkg of the module at root for linux/goarch
// into out, with the flags of make build (static, lambda.norpc, trimmed,
// stripped).
func Build(ctx context.Context, root, pkg, goarch, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s (%s): %w: %s", pkg, goarch, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Size is a bootstrap's size, and its size zipped as sam package zips it
// (deflate).
type Size struct {
	Bytes, Zipped int64
}

// Measure returns the size of the file at path, and zipped.
func Measure(path string) (Size, error) {
	f, err := os.Open(path)
	if err != nil {
		return Size{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Size{}, err
	}
	var buf countingWriter
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		return Size{}, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return Size{}, fmt.Errorf("zip %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return Size{}, err
	}
	return Size{Bytes: st.Size(), Zipped: buf.n}, nil
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// MiB formats n bytes in MiB with one decimal.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
