package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// callsTest is how the AWS calls and capacity units per route are measured:
// the budget tests of the services, on a local cloud, each appending its
// table to the file BENCH_CALLS_OUT names.
var (
	callsTestRun      = "^TestAWSCallsPerRequest$"
	callsTestPackages = []string{"./functions/orders/api", "./functions/users/api"}
	// callsTestFiles are the files that measure. The code before did not
	// have them: they are copied from this tree into the exported tree of
	// the code before, so that both are measured by the same test with the
	// same rules. Nothing else is copied: the services' code is the
	// before's own.
	callsTestFiles = []string{
		"internal/awscalls/awscalls.go",
		"internal/awscalls/budget.go",
		"internal/awscalls/keys.go",
		"internal/awscalls/rules.go",
		"internal/budgets/budgets.go",
		"internal/budgets/budgets.yaml",
		"functions/orders/api/calls_integration_test.go",
		"functions/users/api/calls_integration_test.go",
	}
)

// callRow is one measured request of a calls table.
type callRow struct {
	calls, rounds int
	ops           string
	rcu, wcu      float64 // wcu without the items counted apart
	apart         float64 // write units counted apart (the order quota)
}

// label is "calls (rounds)".
func (c callRow) label() string { return fmt.Sprintf("%d (%d)", c.calls, c.rounds) }

// callTables are the rows of one run's tables, by service and request.
type callTables map[string]map[string]callRow

// callsRun is one tree's measurement.
type callsRun struct {
	markdown string     // the tables as the tests wrote them
	tables   callTables // parsed
	failed   string     // how go test ended when it did not pass
	err      error      // no table: why
}

// row returns the measured row, and whether there is one.
func (c *callsRun) row(service, request string) (callRow, bool) {
	if c == nil || c.tables == nil {
		return callRow{}, false
	}
	row, ok := c.tables[service][request]
	return row, ok
}

// callsResult is the calls measurement of both trees.
type callsResult struct {
	port          string
	before, after *callsRun
	reused        bool  // the local cloud was running already (and was left running)
	err           error // the local cloud did not start
}

// measureCalls starts a fresh local cloud on EMULATOR_PORT, runs the
// budget tests of this tree and of the code before (the tree exported for
// the cold starts, with the measuring files copied in) against it, and
// stops it, also when the bench is interrupted.
func measureCalls(root string, before *tree, tmp string) *callsResult {
	res := &callsResult{port: envOr("EMULATOR_PORT", "4566")}
	script := func(name string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(root, "localstack", name))
		cmd.Dir = root
		return cmd
	}
	out, err := script("up.sh").CombinedOutput()
	if err != nil {
		res.err = fmt.Errorf("localstack/up.sh: %w: %s", err, lastLines(out, 10))
		return res
	}
	if bytes.Contains(out, []byte("already running")) {
		// Not ours to stop: someone's make dev, say. The tests make their
		// own tables, so it measures the same.
		res.reused = true
	} else {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		done := make(chan struct{})
		go func() {
			select {
			case s := <-stop:
				logf("%s: stopping the local cloud", s)
				_ = script("down.sh").Run()
				_ = os.RemoveAll(tmp) // os.Exit runs no deferred calls
				os.Exit(1)
			case <-done:
			}
		}()
		defer func() {
			close(done)
			signal.Stop(stop)
			if out, err := script("down.sh").CombinedOutput(); err != nil {
				logf("localstack/down.sh: %v: %s", err, lastLines(out, 5))
			}
		}()
	}
	res.after = runCallsTests(root, root, filepath.Join(tmp, "calls-after.md"))
	if before != nil {
		for _, f := range callsTestFiles {
			if err := copyFile(filepath.Join(root, f), filepath.Join(before.dir, f)); err != nil {
				res.before = &callsRun{err: fmt.Errorf("copy %s into the code before: %w", f, err)}
				return res
			}
		}
		res.before = runCallsTests(root, before.dir, filepath.Join(tmp, "calls-before.md"))
	}
	return res
}

// runCallsTests runs the budget tests in dir with the local cloud's
// environment (localstack/env.sh of root) and reads the tables they write.
// A test over its budget fails, but its table is written all the same.
func runCallsTests(root, dir, out string) *callsRun {
	run := &callsRun{}
	_ = os.Remove(out)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append([]string{"test", "-tags", "integration", "-count=1", "-run", callsTestRun}, callsTestPackages...)
	cmd := exec.CommandContext(ctx, "bash", "-c", `source "$1" && shift && exec go "$@"`, "bash", filepath.Join(root, "localstack", "env.sh"))
	cmd.Args = append(cmd.Args, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BENCH_CALLS_OUT="+out)
	output, err := cmd.CombinedOutput()
	if err != nil {
		run.failed = fmt.Sprintf("%v: %s", err, failures(output))
	}
	data, rerr := os.ReadFile(out)
	if rerr != nil {
		run.err = fmt.Errorf("no table written (%v); go test: %s", rerr, lastLines(output, 15))
		return run
	}
	run.markdown = strings.TrimSpace(string(data))
	run.tables = parseCallTables(run.markdown)
	return run
}

// failures sums up a failed go test: the requests over budget, or the end
// of its output.
func failures(out []byte) string {
	var over []string
	for _, l := range strings.Split(string(out), "\n") {
		if i := strings.Index(l, " over budget:"); i >= 0 {
			over = append(over, strings.TrimSpace(strings.SplitN(l[:i], ": ", 2)[1]))
		}
	}
	if len(over) > 0 {
		return "over budget: " + strings.Join(over, "; ")
	}
	return lastLines(out, 15)
}

func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// parseCallTables reads the tables awscalls.Check writes: a heading
// "### service", then rows "| request | N (ops) | rounds | RCU | WCU | ...",
// WCU as "X" or "X + Y (PREFIX)".
func parseCallTables(md string) callTables {
	t := callTables{}
	service := ""
	for _, line := range strings.Split(md, "\n") {
		if s, ok := strings.CutPrefix(line, "### "); ok {
			service = strings.TrimSpace(s)
			t[service] = map[string]callRow{}
			continue
		}
		if service == "" || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| route ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cols := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cols) < 5 {
			continue
		}
		var row callRow
		n, ops, _ := strings.Cut(cols[1], " ")
		row.calls, _ = strconv.Atoi(n)
		row.ops = strings.Trim(ops, "()")
		row.rounds, _ = strconv.Atoi(cols[2])
		row.rcu, _ = strconv.ParseFloat(cols[3], 64)
		w, apart, found := strings.Cut(cols[4], " + ")
		row.wcu, _ = strconv.ParseFloat(w, 64)
		if found {
			a, _, _ := strings.Cut(apart, " ")
			row.apart, _ = strconv.ParseFloat(a, 64)
		}
		t[service][cols[0]] = row
	}
	return t
}

// The requests of the orders table the summary and the cost model use.
const (
	createKeyWarm    = "POST /v1/orders with Idempotency-Key (warm)"
	createNoKey      = "POST /v1/orders (warm catalog)"
	createKeyCold    = "POST /v1/orders with Idempotency-Key (cold catalog)"
	productsWarm     = "GET /v1/products (warm)"
	loginRequest     = "POST /v1/auth/login"
	quotaSortKey     = "QUOTA#"
	callsNotMeasured = "not measured"
)

// otherOrdersRoutes are the orders routes the issue holds to one AWS call.
var otherOrdersRoutes = []string{
	"GET /v1/products (warm)", "GET /v1/products/{sku} (warm)", "GET /v1/orders/{id}", "GET /v1/orders",
	"POST /v1/orders/{id}/cancel",
}

// reorderWarm places an order with the items of an earlier one: it reads
// that order, then runs create order's transaction (ADR 0006).
const reorderWarm = "POST /v1/orders/{id}/reorder (warm)"

// callsSummary writes the summary's rows of the calls measurement.
func (r *report) callsSummary(p printer) {
	c := r.calls
	cell := func(run *callsRun, request string, f func(callRow) string) string {
		row, ok := run.row("orders", request)
		if !ok {
			return callsNotMeasured
		}
		return f(row)
	}
	var before, after *callsRun
	if c != nil {
		before, after = c.before, c.after
	}
	line := func(target, measure, request string, f func(callRow) string, goal string) {
		p("| %s | %s | %s | %s | %s |", target, measure, cell(before, request, f), cell(after, request, f), goal)
	}
	calls := func(x callRow) string { return x.label() }
	rcu := func(x callRow) string { return fmt.Sprint(x.rcu) }
	wcu := func(x callRow) string { return fmt.Sprint(x.wcu) }
	quota := func(x callRow) string { return fmt.Sprint(x.apart) }
	total := func(x callRow) string { return fmt.Sprint(x.wcu + x.apart) }
	kms := func(run *callsRun) string {
		row, ok := run.row("users", loginRequest)
		if !ok {
			return callsNotMeasured
		}
		return fmt.Sprintf("%d (of %d calls, %d round trips)", strings.Count(row.ops, "kms:"), row.calls, row.rounds)
	}
	p("| users | KMS calls in a login's answer (%s: the token's Sign), each its own round trip | %s | %s | – |", loginRequest, kms(before), kms(after))
	line("Create order", "with Idempotency-Key, warm catalog: AWS calls (sequential round trips)", createKeyWarm, calls, "≤ 2 round trips")
	line("Create order", "with Idempotency-Key, warm: read units (AWS rules)", createKeyWarm, rcu, "≤ 1")
	line("Create order", "with Idempotency-Key, warm: write units, 2-line order, without the quota's", createKeyWarm, wcu, "–")
	line("Create order", "with Idempotency-Key, warm: write units of the quota counter (QUOTA#), on its own line", createKeyWarm, quota, "counted apart")
	line("Create order", "with Idempotency-Key, warm: write units in all, 2-line order", createKeyWarm, total, "≤ 6 (9 cut by a third)")
	line("Create order", "without a key, warm catalog: AWS calls (sequential round trips)", createNoKey, calls, "≤ 1 round trip")
	line("Create order", "without a key, warm: read units / write units + quota's", createNoKey, func(x callRow) string {
		return fmt.Sprintf("%g / %g + %g", x.rcu, x.wcu, x.apart)
	}, "≤ 1 RCU")
	line("Create order", "with Idempotency-Key, cold catalog (first order of an execution environment): AWS calls (round trips)", createKeyCold, calls, "–")
	for _, route := range otherOrdersRoutes {
		line("Other routes", "orders "+route+": AWS calls (round trips)", route, calls, "≤ 1 call")
	}
	line("Other routes", "orders "+reorderWarm+": AWS calls (round trips); it places an order from an earlier one, which it reads first", reorderWarm, calls,
		"≤ 1 call; floor 2 (no DynamoDB call reads one item and writes another)")
}

// callsSection writes the measured tables: before and after side by side,
// then this tree's tables as the tests wrote them, budgets and reasons
// included.
func (r *report) callsSection(p printer, before *tree) {
	p("## AWS calls and capacity units per route")
	p("")
	c := r.calls
	if c == nil || c.err != nil {
		p("Not measured: %v.", c.err)
		p("")
		return
	}
	how := "a fresh local cloud (MiniStack, `localstack/up.sh`) on port " + c.port + ", stopped afterwards"
	if c.reused {
		how = "the local cloud already running on port " + c.port + " (left running)"
	}
	p("`go test -tags integration -run '%s' %s` with `BENCH_CALLS_OUT`, on %s. The tests hand the services DynamoDB and KMS clients with a recording middleware (`internal/awscalls`): AWS calls per request, how many ran one after another (calls that overlap count once), and DynamoDB capacity by AWS's documented rules from the sizes of the items read and written. Each request runs against tables the test creates and seeds with the catalog.", callsTestRun, strings.Join(callsTestPackages, " "), how)
	p("")
	if before != nil && c.before != nil {
		p("**Before** is the code at %s measured by the same tests: the tree exported for the cold starts, with this tree's measuring files copied in (%s), as they did not exist there. The budgets are this tree's, so the run of the code before fails them; its tables are written all the same.", before.rev, "`"+strings.Join(callsTestFiles, "`, `")+"`")
		p("")
	}
	for _, run := range []struct {
		name string
		run  *callsRun
	}{{"before", c.before}, {"after", c.after}} {
		switch {
		case run.run == nil:
		case run.run.err != nil:
			p("> %s: not measured: %s", run.name, strings.ReplaceAll(run.run.err.Error(), "|", "/"))
			p("")
		case run.run.failed != "":
			p("> %s: go test failed (%s)", run.name, strings.ReplaceAll(run.run.failed, "|", "/"))
			p("")
		default:
			p("> %s: go test passed: every route within its budget.", run.name)
			p("")
		}
	}
	if c.before != nil && c.before.tables != nil && c.after != nil && c.after.tables != nil {
		for _, service := range []string{"orders", "users"} {
			p("### %s: before and after", service)
			p("")
			p("Calls (operations), sequential round trips, RCU and WCU by AWS's rules; `+ N` are the quota counter's write units, counted apart.")
			p("")
			p("| Request | Before: calls | Before: rounds | Before: RCU | Before: WCU | After: calls | After: rounds | After: RCU | After: WCU |")
			p("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
			seen := map[string]bool{}
			for _, req := range tableOrder(c.after.markdown, service) {
				seen[req] = true
				p("| %s | %s | %s |", req, cells(c.before, service, req), cells(c.after, service, req))
			}
			for _, req := range tableOrder(c.before.markdown, service) {
				if !seen[req] {
					p("| %s | %s | %s |", req, cells(c.before, service, req), cells(c.after, service, req))
				}
			}
			p("")
		}
	}
	if c.after != nil && c.after.markdown != "" {
		p("### After, as the tests wrote it (with the budgets)")
		p("")
		p("%s", strings.ReplaceAll(c.after.markdown, "\n### ", "\n#### "))
		p("")
	}
}

// cells is a request's four cells of one run.
func cells(run *callsRun, service, request string) string {
	row, ok := run.row(service, request)
	if !ok {
		return "– | – | – | –"
	}
	ops := row.ops
	if ops == "" || ops == "none" {
		ops = "none"
	}
	w := fmt.Sprint(row.wcu)
	if row.apart > 0 {
		w = fmt.Sprintf("%g + %g", row.wcu, row.apart)
	}
	return fmt.Sprintf("%d (%s) | %d | %g | %s", row.calls, ops, row.rounds, row.rcu, w)
}

// tableOrder lists the requests of a service's table in the order written.
func tableOrder(md, service string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(md, "\n") {
		if s, ok := strings.CutPrefix(line, "### "); ok {
			in = strings.TrimSpace(s) == service
			continue
		}
		if !in || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| route ") || strings.HasPrefix(line, "| ---") {
			continue
		}
		req, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " | ")
		out = append(out, req)
	}
	return out
}
