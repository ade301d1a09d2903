//go:build !integration

package sizes_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/serverless-shop/backend/bench/sizes"
)

// TestFunctionsWithinSizeBudget builds every function for arm64 as make
// build does and fails when one is more than sizes.Budget larger than the
// SDK baseline built the same way: a dependency that drags a whole client
// into a binary (reflection-driven templates did, in notifications) shows
// here rather than as a slower cold start.
func TestFunctionsWithinSizeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function; skipped with -short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fns, err := sizes.Functions(root)
	if err != nil || len(fns) == 0 {
		t.Fatalf("functions: %v, %v", fns, err)
	}
	dir := t.TempDir()
	pkgs := append([]string{sizes.SDKBaseline}, fns...)
	got := make([]sizes.Size, len(pkgs))
	errs := make([]error, len(pkgs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2) // the machine is shared: two builds at a time
	for i, pkg := range pkgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out := filepath.Join(dir, sizes.Name(pkg), "bootstrap")
			if errs[i] = sizes.Build(context.Background(), root, pkg, "arm64", out); errs[i] == nil {
				got[i], errs[i] = sizes.Measure(out)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", pkgs[i], err)
		}
	}
	limit := got[0].Bytes + sizes.Budget
	t.Logf("SDK baseline %s, limit %s", sizes.MiB(got[0].Bytes), sizes.MiB(limit))
	for i, pkg := range pkgs[1:] {
		s := got[i+1]
		t.Logf("%-28s %s", pkg, sizes.MiB(s.Bytes))
		if s.Bytes > limit {
			t.Errorf("%s is %s, more than the SDK baseline %s + %s", pkg, sizes.MiB(s.Bytes), sizes.MiB(got[0].Bytes), sizes.MiB(sizes.Budget))
		}
	}
}
