// Command report is make bench: it measures the functions beside two
// baselines in one run and writes bench/REPORT.md. It builds every
// bootstrap twice, as make build does for arm64 (sizes) and for this
// machine (timings), for the code of this tree ("after") and of a base
// commit ("before", BENCH_BEFORE), starts each function many times against
// a Runtime API stand-in and an AWS stand-in on 127.0.0.1, over plain HTTP
// and over HTTPS with an AL2023-like root store, and runs go test -bench.
// Nothing here asserts a timing: the numbers go to the report.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/serverless-shop/backend/bench/sizes"
)

// defaultBefore is the commit the issue measured: the code before the
// cold start work.
const defaultBefore = "fb8e7b2"

func main() {
	if len(os.Args) == 2 && os.Args[1] == "-probe-roots" {
		probeRoots()
		return
	}
	if len(os.Args) == 2 && os.Args[1] == "-probe-argon" {
		probeArgon()
		return
	}
	out := flag.String("out", "bench/REPORT.md", "report to write")
	runs := flag.Int("runs", 40, "cold starts per function and mode")
	warm := flag.Int("warm", 3, "warm invokes after each cold start")
	before := flag.String("before", envOr("BENCH_BEFORE", defaultBefore), "git revision of the code measured as before (empty: none)")
	benchtime := flag.String("benchtime", "300ms", "go test -benchtime")
	flag.Parse()
	if err := run(*out, *runs, *warm, *before, *benchtime); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}

// tree is one version of the code and what was built from it.
type tree struct {
	name  string // "before", "after"
	dir   string
	rev   string
	sizes map[string]sizes.Size // by bootstrap name, arm64
	bins  map[string]string     // by function name, this machine
	tls   tlsEnv                // SSL_CERT_* of its template
	tlsOK bool                  // its template sets them
}

func run(out string, runs, warm int, beforeRev, benchtime string) error {
	began := time.Now()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("run from the module root: %w", err)
	}
	tmp, err := os.MkdirTemp("", "serverless-shop-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	after := &tree{name: "after", dir: root, rev: gitRev(root, "HEAD")}
	trees := []*tree{after}
	var notes []string
	if beforeRev != "" {
		dir := filepath.Join(tmp, "before")
		if err := exportTree(root, beforeRev, dir); err != nil {
			notes = append(notes, fmt.Sprintf("The code before (%s) could not be exported, so it was not measured: %v", beforeRev, err))
		} else {
			trees = append([]*tree{{name: "before", dir: dir, rev: gitRev(root, beforeRev)}}, trees...)
		}
	}
	for _, t := range trees {
		tpl, err := os.ReadFile(filepath.Join(t.dir, "template.yaml"))
		if err != nil {
			return err
		}
		t.tls, t.tlsOK = templateTLSEnv(tpl)
	}

	logf("building")
	baselines := map[string]sizes.Size{}
	baseBins := map[string]string{}
	if err := buildAll(root, tmp, trees, baselines, baseBins); err != nil {
		return err
	}

	logf("root store")
	stub, err := newAWSStub()
	if err != nil {
		return err
	}
	defer stub.close()
	rootsDir := filepath.Join(tmp, "roots")
	nRoots, err := layOutRoots(rootsDir, "/etc/ssl/certs/ca-certificates.crt", stub.caPEM)
	if err != nil {
		return err
	}
	probe := probeAll(rootsDir, trees, runs)

	fx, err := newFixtures(root)
	if err != nil {
		return err
	}
	logf("cold starts: %d runs", runs)
	starts := measureStarts(fx, stub, tmp, rootsDir, trees, baseBins, runs, warm)

	logf("go test -bench")
	gobench := goBench(root, benchtime)
	logf("argon2id")
	argon := measureArgon(5)

	logf("AWS calls per route: local cloud on port %s", envOr("EMULATOR_PORT", "4566"))
	calls := measureCalls(root, treeNamed(trees, "before"), tmp)

	r := &report{
		began: began, runs: runs, warm: warm, trees: trees, baselines: baselines, nRoots: nRoots,
		probe: probe, starts: starts, gobench: gobench, argon: argon, calls: calls, notes: notes,
	}
	var buf bytes.Buffer
	r.write(&buf)
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	logf("wrote %s in %s", out, time.Since(began).Round(time.Second))
	return nil
}

// treeNamed returns the tree named name, or nil.
func treeNamed(trees []*tree, name string) *tree {
	for _, t := range trees {
		if t.name == name {
			return t
		}
	}
	return nil
}

func gitRev(root, rev string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", rev).Output()
	if err != nil {
		return rev
	}
	s := strings.TrimSpace(string(out))
	if rev == "HEAD" {
		if st, _ := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); len(bytes.TrimSpace(st)) > 0 {
			s += "-dirty"
		}
	}
	return s
}

// exportTree writes the tree of rev into dir.
func exportTree(root, rev, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", rev)
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr = &stderr
	if err := untar.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		_ = untar.Wait()
		return fmt.Errorf("git archive %s: %w: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	return untar.Wait()
}

// buildAll builds, two at a time, every function of every tree for arm64
// (sizes) and the served functions for this machine (timings), and the
// baselines both ways.
func buildAll(root, tmp string, trees []*tree, baselines map[string]sizes.Size, baseBins map[string]string) error {
	type job struct {
		dir, pkg, arch, out string
		done                func(string) error
	}
	var jobs []job
	var mu sync.Mutex
	sizeOf := func(into map[string]sizes.Size, name string) func(string) error {
		return func(out string) error {
			s, err := sizes.Measure(out)
			mu.Lock()
			into[name] = s
			mu.Unlock()
			return err
		}
	}
	binOf := func(into map[string]string, name string) func(string) error {
		return func(out string) error { mu.Lock(); into[name] = out; mu.Unlock(); return nil }
	}
	for _, pkg := range sizes.Baselines {
		name := sizes.Name(pkg)
		jobs = append(jobs,
			job{root, pkg, "arm64", filepath.Join(tmp, "arm64", "baseline", name, "bootstrap"), sizeOf(baselines, name)},
			job{root, pkg, runtime.GOARCH, filepath.Join(tmp, "host", "baseline", name, "bootstrap"), binOf(baseBins, name)})
	}
	for _, t := range trees {
		t.sizes, t.bins = map[string]sizes.Size{}, map[string]string{}
		fns, err := sizes.Functions(t.dir)
		if err != nil {
			return err
		}
		for _, pkg := range fns {
			name := sizes.Name(pkg)
			jobs = append(jobs, job{t.dir, pkg, "arm64", filepath.Join(tmp, "arm64", t.name, name, "bootstrap"), sizeOf(t.sizes, name)})
			if slices.Contains(served, name) { // a function the tree has
				jobs = append(jobs, job{t.dir, pkg, runtime.GOARCH, filepath.Join(tmp, "host", t.name, name, "bootstrap"), binOf(t.bins, name)})
			}
		}
	}
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if errs[i] = sizes.Build(context.Background(), j.dir, j.pkg, j.arch, j.out); errs[i] == nil {
				errs[i] = j.done(j.out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// rootProbe is the time to load the root store in a fresh process, under
// one tree's settings.
type rootProbe struct {
	label       string
	env         []string
	certs, skip int
	load        sample
}

func probeAll(rootsDir string, trees []*tree, runs int) []*rootProbe {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	var probes []*rootProbe
	for _, t := range trees {
		p := &rootProbe{label: t.name, env: t.tls.relocate(rootsDir)}
		if !t.tlsOK {
			p.label += " (Go's defaults)"
		} else {
			p.label += fmt.Sprintf(" (SSL_CERT_FILE=%s, SSL_CERT_DIR=%s)", t.tls.File, t.tls.Dir)
		}
		p.certs, p.skip = rootsParsed(p.env)
		probes = append(probes, p)
	}
	for range runs {
		for _, p := range probes {
			cmd := exec.Command(self, "-probe-roots")
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, p.env...)
			out, err := cmd.Output()
			if err != nil {
				continue
			}
			if ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil {
				p.load = append(p.load, time.Duration(ns))
			}
		}
	}
	return probes
}

// startKey names one subject and mode of the cold start measurements.
type startKey struct{ tree, fn, mode string }

// startAgg collects the starts of one subject and mode.
type startAgg struct {
	init, first, warm            sample
	initCalls, firstCalls, warmN int
	warmCalls, warmLogs          int
	says                         string
	errs                         int
	firstErr                     error
	firstOps                     string // of the last start
	kmsCalls, kmsRounds          int    // most in one start, exec → first answer
}

var modes = []string{"http", "https"}

func measureStarts(fx *fixtures, stub *awsStub, tmp, rootsDir string, trees []*tree, baseBins map[string]string, runs, warm int) map[startKey]*startAgg {
	type subject struct {
		key  startKey
		bin  string
		tls  tlsEnv
		name string
	}
	var subjects []subject
	for _, b := range []string{"empty", "sdk"} {
		for _, m := range modes {
			subjects = append(subjects, subject{startKey{"baseline", b, m}, baseBins[b], goDefaultRoots, b})
		}
	}
	for _, fn := range served {
		for _, t := range trees {
			for _, m := range modes {
				if t.bins[fn] == "" {
					continue // not in this tree
				}
				subjects = append(subjects, subject{startKey{t.name, fn, m}, t.bins[fn], t.tls, fn})
			}
		}
	}
	home := filepath.Join(tmp, "home")
	_ = os.MkdirAll(home, 0o755)
	aggs := map[startKey]*startAgg{}
	for _, s := range subjects {
		aggs[s.key] = &startAgg{}
	}
	ctx := context.Background()
	for i := range runs {
		if i%10 == 0 {
			logf("  run %d/%d", i+1, runs)
		}
		// One start of every subject per round, so that the machine's
		// load falls on all of them alike.
		for _, s := range subjects {
			a := aggs[s.key]
			if a.errs > 3 {
				continue
			}
			endpoint := stub.httpURL
			env := fx.env(s.name, endpoint, home)
			if s.key.mode == "https" {
				endpoint = stub.httpsURL
				env = append(fx.env(s.name, endpoint, home), s.tls.relocate(rootsDir)...)
			}
			r := startOnce(ctx, s.bin, env, fx.events[s.name], warm, stub)
			if r.err != nil {
				a.errs++
				if a.firstErr == nil {
					a.firstErr = r.err
				}
				continue
			}
			a.init = append(a.init, r.init)
			a.first = append(a.first, r.first)
			a.warm = append(a.warm, r.warm...)
			a.initCalls = max(a.initCalls, r.initCalls)
			a.firstCalls = max(a.firstCalls, r.firstCalls)
			a.warmCalls += r.warmCalls
			a.warmLogs += r.warmLogs
			a.warmN += len(r.warm)
			a.says = r.firstSays
			a.firstOps = r.firstOps
			a.kmsCalls = max(a.kmsCalls, r.kmsCalls)
			a.kmsRounds = max(a.kmsRounds, r.kmsRounds)
		}
	}
	return aggs
}

// goBench runs every benchmark of the module once.
func goBench(root, benchtime string) string {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "./...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg: ") || strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "cpu: ") && len(keep) == 0 {
			keep = append(keep, l)
		}
	}
	if err != nil {
		keep = append(keep, "go test -bench failed: "+err.Error())
	}
	return strings.Join(keep, "\n")
}
