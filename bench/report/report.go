package main

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/serverless-shop/backend/bench/sizes"
	"github.com/serverless-shop/backend/internal/pricing"
)

// report is everything one make bench run measured.
type report struct {
	began      time.Time
	runs, warm int
	trees      []*tree
	baselines  map[string]sizes.Size
	nRoots     int
	probe      []*rootProbe
	starts     map[startKey]*startAgg
	gobench    string
	argon      []argonResult
	calls      *callsResult
	notes      []string
}

// lambdaFullCoreMB is the memory size at which Lambda gives a function one
// full vCPU; below it the CPU share is proportional to memory.
const lambdaFullCoreMB = 1769

func (r *report) tree(name string) *tree {
	for _, t := range r.trees {
		if t.name == name {
			return t
		}
	}
	return nil
}

func (r *report) agg(tree, fn, mode string) *startAgg {
	if a := r.starts[startKey{tree, fn, mode}]; a != nil {
		return a
	}
	return &startAgg{}
}

func (r *report) write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	before, after := r.tree("before"), r.tree("after")
	p("# Performance report")
	p("")
	p("Written by `make bench` (bench/report) on %s, %s/%s, %d CPUs, %s; %d cold starts per function and mode, %d warm invokes after each.",
		r.began.UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), r.runs, r.warm)
	if before != nil {
		p("Before: commit %s. After: %s. Both built and measured in this run, beside the baselines. How to read it and what was decided: [docs/performance.md](../docs/performance.md).", before.rev, after.rev)
	} else {
		p("After: %s. The code before was not measured.", after.rev)
	}
	for _, n := range r.notes {
		p("")
		p("> %s", n)
	}
	p("")
	r.summary(p, before, after)
	r.sizesSection(p, before, after)
	r.rootsSection(p)
	r.startsSection(p, before, after)
	r.callsSection(p, before)
	r.memorySection(p, after)
	r.costSection(p, before, after)
	p("## go test -bench")
	p("")
	p("`go test -run '^$' -bench . -benchmem ./...`, on this machine:")
	p("")
	p("```")
	p("%s", r.gobench)
	p("```")
}

type printer func(format string, args ...any)

func (r *report) sdkInit(mode string) time.Duration {
	return r.agg("baseline", "sdk", mode).init.median()
}

func (r *report) summary(p printer, before, after *tree) {
	p("## Summary")
	p("")
	p("| Target | Measure | Before | After | Target |")
	p("| --- | --- | --- | --- | --- |")
	bt := func(f func(t *tree) string) (string, string) {
		b := "not measured"
		if before != nil {
			b = f(before)
		}
		return b, f(after)
	}
	// TLS roots.
	if len(r.probe) > 0 {
		var b, a *rootProbe
		for _, pr := range r.probe {
			if strings.HasPrefix(pr.label, "before") {
				b = pr
			} else {
				a = pr
			}
		}
		bs, bl := "not measured", "not measured"
		if b != nil {
			bs, bl = fmt.Sprintf("%d (%.1f per root)", b.certs, float64(b.certs)/float64(r.nRoots)), b.load.spread()+" ms"
		}
		p("| TLS roots | certificates parsed at the first TLS connection (store of %d roots) | %s | %d (%.1f per root) | each root once |", r.nRoots, bs, a.certs, float64(a.certs)/float64(r.nRoots))
		p("| TLS roots | time to load the store, fresh process, median (p10–p90) | %s | %s ms | – |", bl, a.load.spread())
	}
	// Init calls and ratios.
	for _, fn := range []string{"authorizer", "users", "orders"} {
		b, a := bt(func(t *tree) string { return fmt.Sprint(r.agg(t.name, fn, "https").initCalls) })
		p("| %s | AWS calls before its first request for an event (init) | %s | %s | 0 |", fn, b, a)
	}
	b, a := bt(func(t *tree) string { return fmt.Sprint(r.agg(t.name, "authorizer", "https").warmCalls) })
	p("| authorizer | AWS calls in %d warm invokes × %d starts | %s | %s | 0 |", r.warm, r.runs, b, a)
	for _, mode := range modes {
		b, a := bt(func(t *tree) string {
			return ratio(r.agg(t.name, "authorizer", mode).init.median(), r.sdkInit(mode)) + " (" + ms(r.agg(t.name, "authorizer", mode).init.median()) + " ms)"
		})
		p("| authorizer | init / SDK baseline init, %s, medians | %s | %s | ≤ 1.30x |", strings.ToUpper(mode), b, a)
	}
	for _, fn := range []string{"users", "orders"} {
		b, a := bt(func(t *tree) string {
			return ratio(r.agg(t.name, fn, "https").init.median(), r.sdkInit("https")) + " (" + ms(r.agg(t.name, fn, "https").init.median()) + " ms)"
		})
		p("| %s | init / SDK baseline init, HTTPS, medians | %s | %s | – |", fn, b, a)
	}
	for _, fn := range []string{"users", "orders", "ordersrelay", "notifications"} {
		b, a := bt(func(t *tree) string {
			x := r.agg(t.name, fn, "https")
			return fmt.Sprintf("%s ms (%d AWS calls)", ms(x.first.median()), x.firstCalls)
		})
		p("| TLS roots | %s: first invoke over HTTPS, median (its first TLS connections) | %s | %s | – |", fn, b, a)
	}
	// What users and the authorizer call before their first answer.
	for _, fn := range []string{"users", "authorizer"} {
		b, a := bt(func(t *tree) string {
			x := r.agg(t.name, fn, "https")
			return fmt.Sprintf("%d (%d)", x.kmsCalls, x.kmsRounds)
		})
		p("| %s | KMS calls (sequential rounds) from exec to the first answer (%s), most in one start | %s | %s | ≤ 1 round at init |", fn, firstRequest[fn], b, a)
		b, a = bt(func(t *tree) string { return orNone(r.agg(t.name, fn, "https").firstOps) })
		p("| %s | AWS operations from exec to the first answer, in order | %s | %s | – |", fn, b, a)
	}
	r.callsSummary(p)
	// Sizes.
	base := r.baselines["sdk"].Bytes
	worst := func(t *tree) string {
		name, most := "", int64(0)
		for n, s := range t.sizes {
			if d := s.Bytes - base; name == "" || d > most {
				name, most = n, d
			}
		}
		return fmt.Sprintf("%s: +%s", name, sizes.MiB(most))
	}
	b, a = bt(worst)
	p("| Binary size | largest function − SDK baseline (%s), arm64, stripped | %s | %s | ≤ +%s |", sizes.MiB(base), b, a, sizes.MiB(sizes.Budget))
	b, a = bt(func(t *tree) string { return sizes.MiB(t.sizes["notifications"].Bytes) })
	p("| Binary size | notifications | %s | %s | ≤ %s |", b, a, sizes.MiB(base+sizes.Budget))
	// Tracing and memory.
	b, a = bt(func(t *tree) string {
		mode, rate := tracing(t.dir)
		if rate > 0 {
			return fmt.Sprintf("functions %s; API stage samples %.0f%% (X-Ray rule)", mode, rate*100)
		}
		return fmt.Sprintf("functions %s; API stage default rule (1/s + 5%%)", mode)
	})
	p("| Tracing | what is traced | %s | %s | sampled |", b, a)
	b, a = bt(func(t *tree) string { return fmt.Sprintf("$%.2f", r.xrayCost(t)) })
	p("| Tracing | X-Ray per million orders, low traffic (see Cost) | %s | %s | – |", b, a)
	if len(r.argon) > 0 {
		var parts []string
		for _, a := range r.argon {
			parts = append(parts, fmt.Sprintf("GOMAXPROCS %d: %.2f", a.procs, float64(a.cpu.median())/float64(a.wall.median())))
		}
		p("| Memory | argon2id hash: cores kept busy (CPU time / wall time) | – | %s | one core: no gain above %d MB |", strings.Join(parts, ", "), lambdaFullCoreMB)
	}
	b, a = bt(func(t *tree) string { return memList(memorySizes(t.dir)) })
	p("| Memory | MemorySize (MB) | %s | %s | from measurements |", b, a)
	b, a = bt(func(t *tree) string { return fmt.Sprintf("$%.2f", r.costPerMillion(t).total) })
	p("| Cost | per million orders (model below) | %s | %s | – |", b, a)
	p("")
}

// argonCPU is the CPU time of one hash in milliseconds, with one P.
func (r *report) argonCPU() time.Duration {
	for _, a := range r.argon {
		if a.procs == 1 {
			return a.cpu.median()
		}
	}
	return 0
}

func memList(m map[string]int) string {
	var parts []string
	for _, fn := range served {
		parts = append(parts, fmt.Sprintf("%s %d", fn, m[fn]))
	}
	return strings.Join(parts, ", ")
}

func (r *report) sizesSection(p printer, before, after *tree) {
	p("## Bootstrap sizes")
	p("")
	p("Built as `make build` builds them (linux/arm64, static, `-tags lambda.norpc -trimpath -ldflags=-s -w`); zipped with deflate as `sam package` does. The size check (`go test ./bench/sizes`, part of `make test`) fails when a function is more than %s above the SDK baseline.", sizes.MiB(sizes.Budget))
	p("")
	p("| Bootstrap | Before | Before zipped | After | After zipped | After − SDK baseline |")
	p("| --- | --- | --- | --- | --- | --- |")
	base := r.baselines["sdk"].Bytes
	for _, b := range []string{"empty", "sdk"} {
		s := r.baselines[b]
		p("| baseline: %s | | | %s | %s | %+.1f MiB |", b, sizes.MiB(s.Bytes), sizes.MiB(s.Zipped), float64(s.Bytes-base)/(1<<20))
	}
	var names []string
	for n := range after.sizes {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := after.sizes[n]
		bs, bz := "", ""
		if before != nil {
			if b, ok := before.sizes[n]; ok {
				bs, bz = sizes.MiB(b.Bytes), sizes.MiB(b.Zipped)
			}
		}
		p("| %s | %s | %s | %s | %s | %+.1f MiB |", n, bs, bz, sizes.MiB(s.Bytes), sizes.MiB(s.Zipped), float64(s.Bytes-base)/(1<<20))
	}
	p("")
}

func (r *report) rootsSection(p printer) {
	p("## TLS root store")
	p("")
	p("An AL2023-like store laid out in a temporary directory from this machine's %d roots plus the bench CA (%d roots): the bundle `%s` (a symlink to `%s`), the trusted bundle beside it, and every root again as its own file in `%s` with two hash symlinks each, as golang/go#79018 describes `provided.al2023`. Go's loader reads the first bundle it finds and then every file of `/etc/ssl/certs` and `/etc/pki/tls/certs`; the paths are moved under the temporary directory with SSL_CERT_FILE and SSL_CERT_DIR. Certificates parsed are counted by applying Go's rules to the layout; load time is `x509.SystemCertPool()` in a fresh process.", r.nRoots-1, r.nRoots, al2023Bundle, al2023BundleReal, al2023CertDir)
	p("")
	p("| Settings | Certificates parsed | Other PEM blocks decoded | Load, ms: median (p10–p90, n) |")
	p("| --- | --- | --- | --- |")
	for _, pr := range r.probe {
		p("| %s | %d | %d | %s |", pr.label, pr.certs, pr.skip, pr.load.spread())
	}
	p("")
}

func (r *report) startsSection(p printer, before, after *tree) {
	p("## Cold starts and invokes")
	p("")
	p("Each bootstrap (built for this machine) is started with the environment the template gives it against a Runtime API stand-in and an AWS stand-in on 127.0.0.1 (the stand-in answers every call as AWS does when nothing is found, and counts them). **Init** is exec → the function's first request for an event; **first** is the first invoke, event handed over → answer; **warm** the invokes after it. HTTP: the AWS endpoint is plain HTTP. HTTPS: it is HTTPS, and the function reads the AL2023-like root store with its template's SSL_CERT_* settings (baselines and the code before: Go's defaults). Times in ms, median (p10–p90, n). On Lambda at 256 MB a function has about %.2f of a vCPU: multiply CPU-bound times by about %.0f.", 256.0/lambdaFullCoreMB, float64(lambdaFullCoreMB)/256)
	p("")
	p("| Function | Code | Mode | Init | Init / SDK baseline | AWS calls at init | First invoke | AWS calls, first | Warm invoke | First answer |")
	p("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	row := func(label, treeName, fn, mode string) {
		a := r.agg(treeName, fn, mode)
		if a.errs > 0 && len(a.init) == 0 {
			p("| %s | %s | %s | failed: %s | | | | | | |", label, treeName, mode, strings.ReplaceAll(fmt.Sprint(a.firstErr), "|", "/"))
			return
		}
		p("| %s | %s | %s | %s | %s | %d | %s | %d | %s | %s |", label, treeName, mode, a.init.spread(), ratio(a.init.median(), r.sdkInit(mode)),
			a.initCalls, a.first.spread(), a.firstCalls, a.warm.spread(), a.says)
	}
	for _, b := range []string{"empty", "sdk"} {
		for _, m := range modes {
			row("baseline: "+b, "baseline", b, m)
		}
	}
	for _, fn := range served {
		for _, t := range []*tree{before, after} {
			if t == nil || t.bins[fn] == "" {
				continue
			}
			for _, m := range modes {
				row(fn, t.name, fn, m)
			}
		}
	}
	p("")
	p("The SDK baseline's invoke makes one DynamoDB GetItem: its first invoke over HTTPS is the floor of a function's first AWS call (TLS handshake and root store).")
	p("")
}

// memorySection sets CPU-bound times measured here against Lambda's CPU
// share at each memory size.
func (r *report) memorySection(p printer, after *tree) {
	p("## Memory")
	p("")
	t1 := r.argonCPU()
	if t1 == 0 {
		p("The argon2id probe did not run.")
		p("")
		return
	}
	p("users hashes passwords with argon2id (`password.Default`: m=19 MiB, t=2, p=1). The bench hashes %d times in a fresh process with GOMAXPROCS 1 and 2 and reads the process's CPU time (user + system, which the machine's other load does not change) and wall time; medians of the runs:", argonHashes)
	p("")
	p("| GOMAXPROCS | CPU per hash (ms) | Wall per hash (ms) | Cores kept busy |")
	p("| --- | --- | --- | --- |")
	for _, a := range r.argon {
		p("| %d | %s | %s | %.2f |", a.procs, a.cpu.spread(), a.wall.spread(), float64(a.cpu.median())/float64(a.wall.median()))
	}
	p("")
	p("With p=1 the hash keeps one core busy whatever GOMAXPROCS is, so a second vCPU (Lambda gives more than one above %d MB) buys nothing; below %d MB Lambda's CPU share, and so the hash's speed, is proportional to memory, and its GB-seconds stay the same. Estimated on Lambda from the CPU time per hash (this machine's core taken as one Lambda vCPU; on Graviton Go runs argon2's generic code, without the amd64 assembly, so expect it slower):", lambdaFullCoreMB, lambdaFullCoreMB)
	p("")
	p("| MemorySize (MB) | CPU share | Hash (ms) | GB-s per hash | USD per million hashes |")
	p("| --- | --- | --- | --- | --- |")
	for _, m := range []int{256, 512, 1024, 1536, 1769, 2048, 3008} {
		share := min(1, float64(m)/lambdaFullCoreMB)
		d := float64(t1) / float64(time.Millisecond) / share
		gbs := d / 1000 * float64(m) / 1024
		p("| %d | %.2f | %.0f | %.4f | %.2f |", m, share, d, gbs, gbs*prices().USD(pricing.LambdaArm)*1e6)
	}
	p("")
	mem := memorySizes(after.dir)
	p("Warm invokes measured here (HTTP, after), scaled to each function's configured memory (CPU-bound part only; AWS calls' latency comes on top):")
	p("")
	p("| Function | MemorySize (MB) | Warm here (ms) | Warm on Lambda, estimated (ms) | Init here (ms) | Init on Lambda, estimated (ms) | Logged per warm invoke (bytes) |")
	p("| --- | --- | --- | --- | --- | --- | --- |")
	for _, fn := range served {
		a := r.agg("after", fn, "http")
		f := float64(lambdaFullCoreMB) / float64(mem[fn])
		if f < 1 {
			f = 1
		}
		logs := 0
		if a.warmN > 0 {
			logs = a.warmLogs / a.warmN
		}
		p("| %s | %d | %s | %.0f | %s | %.0f | %d |", fn, mem[fn], ms(a.warm.median()), float64(a.warm.median())/1e6*f, ms(a.init.median()), float64(a.init.median())/1e6*f, logs)
	}
	p("")
}
