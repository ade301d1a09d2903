package contract_test

import (
	"errors"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestNewServiceChecklist walks docs/extending.md's checklist for adding a
// service, for real: in a copy of the repository it adds a throwaway
// protected service, reviews (GET /v1/reviews, its own table), one step of
// the checklist after the other and in its order (newServiceSteps), builds
// its bootstrap with the Makefile's build-ReviewsFunction target (what sam
// build runs), and runs this package's tests and internal/capacity's on
// the copy. When the checklist and what those tests require drift apart,
// this test fails with the failures of the copy. Nothing is written to the
// repository itself.
//
// It compiles the copy's packages (with -trimpath, so that runs after the
// first share the build cache): about a minute on two cores the first
// time, seconds after. go test -short skips it.
func TestNewServiceChecklist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a copy of the repository")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make: the checklist builds the service as sam build does, with the Makefile")
	}
	dir := t.TempDir()
	copyRepository(t, root, dir)
	for _, step := range newServiceSteps {
		t.Logf("step: %s", step.name)
		step.apply(t, dir)
	}

	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		t.Skipf("the Makefile builds for x86_64 or arm64, not %s", runtime.GOARCH)
	}
	artifacts := t.TempDir()
	inCopy(t, dir, "make", "build-ReviewsFunction", "ARCH="+arch, "ARTIFACTS_DIR="+artifacts)
	if _, err := os.Stat(filepath.Join(artifacts, "bootstrap")); err != nil {
		t.Fatalf("make build-ReviewsFunction wrote no bootstrap: %v", err)
	}
	inCopy(t, dir, "go", "vet", "./functions/reviews/...")
	inCopy(t, dir, "go", "test", "-trimpath", "-count=1", "-skip", "^TestNewServiceChecklist$", "./internal/contract/", "./internal/capacity/")
}

// checklistStep is one step of docs/extending.md's "Adding a service".
type checklistStep struct {
	name  string
	apply func(t *testing.T, dir string)
}

// newServiceSteps are docs/extending.md's steps for a new service, in its
// order, done for the throwaway service reviews.
var newServiceSteps = []checklistStep{
	{"1. the service's packages: functions/reviews/api (and its domain, app and store)", func(t *testing.T, dir string) {
		copyFile(t, dir, "functions/reviews/store/store.go", "store.go")
		copyFile(t, dir, "functions/reviews/api/api.go", "api.go")
	}},
	{"2. functions/reviews/main.go: coldstart.Main, token.ConfigFrom, revocation.ConfigFrom", func(t *testing.T, dir string) {
		copyFile(t, dir, "functions/reviews/main.go", "main.go")
	}},
	{"3. template.yaml: ReviewsTable with the StatefulResources policies", func(t *testing.T, dir string) {
		edit(t, dir, "template.yaml", "  # -------------------------------------------------------------- queues\n", reviews(t, "table.yaml")+"\n", before)
	}},
	{"4. template.yaml: ReviewsLogGroup", func(t *testing.T, dir string) {
		edit(t, dir, "template.yaml", "  # ----------------------------------------------------------- functions\n", reviews(t, "loggroup.yaml")+"\n", before)
	}},
	{"5. template.yaml: ReviewsFunction (built from functions/reviews, the authorizer's token settings, the revocations grant, routes)", func(t *testing.T, dir string) {
		fn := strings.Replace(reviews(t, "function.yaml"), "          TOKEN_SETTINGS\n", authorizerTokenSettings(t, dir), 1)
		edit(t, dir, "template.yaml", "  # ----------------------------------------------------------------- API\n", fn+"\n", before)
	}},
	{"6. template.yaml: the alarm lists, DurationAlarms, ReviewsErrorsAlarm", func(t *testing.T, dir string) {
		edit(t, dir, "template.yaml", "    - [Authorizer, Users, Orders, UsersRelay, OrdersRelay, Notifications]", "    - [Authorizer, Users, Orders, UsersRelay, OrdersRelay, Notifications, Reviews]", replace)
		edit(t, dir, "template.yaml", "    Notifications: {Milliseconds: 24000}\n", "    Reviews: {Milliseconds: 8000}\n", after)
		edit(t, dir, "template.yaml", "  UsersRelayLagAlarm:\n", reviews(t, "errors-alarm.yaml")+"\n", before)
		edit(t, dir, "template.yaml", "  Fn::ForEach::TableThrottleAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations]", "  Fn::ForEach::TableThrottleAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations, Reviews]", replace)
		edit(t, dir, "template.yaml", "  Fn::ForEach::TableReadQuotaAlarms:\n    - Table\n    - [Users, Orders, Revocations]", "  Fn::ForEach::TableReadQuotaAlarms:\n    - Table\n    - [Users, Orders, Revocations, Reviews]", replace)
		edit(t, dir, "template.yaml", "  Fn::ForEach::TableWriteQuotaAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations]", "  Fn::ForEach::TableWriteQuotaAlarms:\n    - Table\n    - [Users, Orders, Notifications, Revocations, Reviews]", replace)
	}},
	{"7. template.yaml: the dashboard's errors, duration and throttles graphs", func(t *testing.T, dir string) {
		for _, metric := range []string{"Errors", "Duration", "Throttles"} {
			last := `["AWS/Lambda", "` + metric + `", "FunctionName", "${NotificationsFunction}", {"label": "notifications"}]`
			edit(t, dir, "template.yaml", last+"]", last+",\n                  "+`["AWS/Lambda", "`+metric+`", "FunctionName", "${ReviewsFunction}", {"label": "reviews"}]]`, replace)
		}
	}},
	{"8. api/openapi.yaml: the operations, their bodies named in components/schemas", func(t *testing.T, dir string) {
		edit(t, dir, "api/openapi.yaml", "\nsecurity:\n  - bearer: []\n", reviews(t, "openapi-path.yaml"), before)
		edit(t, dir, "api/openapi.yaml", "\n  schemas:\n", reviews(t, "openapi-schema.yaml"), after)
	}},
	{"9. internal/contract/services_test.go: the router", func(t *testing.T, dir string) {
		edit(t, dir, "internal/contract/services_test.go", "\tordersapi \"github.com/serverless-shop/backend/functions/orders/api\"\n", "\treviewsapi \"github.com/serverless-shop/backend/functions/reviews/api\"\n", after)
		edit(t, dir, "internal/contract/services_test.go", "\t\t\"OrdersFunction\": ordersapi.NewHandler(log, ordersapi.Config{Verifier: verifier}),\n", "\t\t\"ReviewsFunction\": reviewsapi.NewHandler(log, reviewsapi.Config{Verifier: verifier}),\n", after)
	}},
	{"10. README.md and docs/operations.md: the alarm counts (7 more on AWS, 5 more locally)", func(t *testing.T, dir string) {
		// Errors, throttles, duration, table read and write throttles
		// everywhere; the table's read and write quota alarms on AWS only.
		addToCount(t, dir, "README.md", regexp.MustCompile(`(\d+)( alarms \(\$0\.10)`), 7)
		addToCount(t, dir, "docs/operations.md", regexp.MustCompile(`(\d+)( CloudWatch alarms in prod)`), 7)
		addToCount(t, dir, "docs/operations.md", regexp.MustCompile(`(\d+)( locally;)`), 5)
	}},
}

// authorizerTokenSettings copies the lines of the token settings from
// AuthorizerFunction's environment in the copy's template.yaml, as the
// checklist says to.
func authorizerTokenSettings(t *testing.T, dir string) string {
	t.Helper()
	_, fn, ok := strings.Cut(readFile(t, dir, "template.yaml"), "\n  AuthorizerFunction:\n")
	fn, _, _ = strings.Cut(fn, "\n\n")
	lines := regexp.MustCompile(`(?m)^ +(TOKEN_JWKS|TOKEN_ISSUER|TOKEN_AUDIENCE|ACCESS_TOKEN_TTL): .*\n`).FindAllString(fn+"\n", -1)
	if !ok || len(lines) != len(tokenSettings) {
		t.Fatalf("template.yaml: AuthorizerFunction's token settings not found (%d lines)", len(lines))
	}
	return strings.Join(lines, "")
}

// copyRepository copies the repository's files from src to dst, without
// its git metadata, its installed tools and its build output.
func copyRepository(t *testing.T, src, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, ".local": true, "build": true, ".aws-sam": true}
	top, err := os.ReadDir(src)
	for _, e := range top {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		switch {
		case err != nil || skip[e.Name()]:
		case e.IsDir():
			err = os.CopyFS(to, os.DirFS(from))
		case e.Type().IsRegular():
			var b []byte
			if b, err = os.ReadFile(from); err == nil {
				err = os.WriteFile(to, b, 0o644)
			}
		}
	}
	if err != nil {
		t.Fatalf("copy the repository: %v", err)
	}
}

// inCopy runs a command in the copy and fails the test with its output
// when it fails.
func inCopy(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in the copy with the new service, %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// change rewrites a file of the copy, or writes a new one, with f; a Go
// file comes out gofmt'ed.
func change(t *testing.T, dir, file string, f func(old string) string) {
	t.Helper()
	path := filepath.Join(dir, file)
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	out := []byte(f(string(old)))
	if strings.HasSuffix(file, ".go") {
		if out, err = format.Source(out); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Where edit puts its text: before the anchor, after it, or instead of it.
const (
	before = iota
	after
	replace
)

// edit changes a file of the copy at the one place anchor occurs.
func edit(t *testing.T, dir, file, anchor, text string, where int) {
	t.Helper()
	change(t, dir, file, func(old string) string {
		if n := strings.Count(old, anchor); n != 1 {
			t.Fatalf("%s: the checklist's anchor occurs %d times, want once: %q", file, n, anchor)
		}
		text = [...]string{before: text + anchor, after: anchor + text, replace: text}[where]
		return strings.Replace(old, anchor, text, 1)
	})
}

// addToCount adds n to the number a pattern's first group matches, once.
func addToCount(t *testing.T, dir, file string, pattern *regexp.Regexp, n int) {
	t.Helper()
	change(t, dir, file, func(old string) string {
		m := pattern.FindStringSubmatchIndex(old)
		if m == nil {
			t.Fatalf("%s: no count matching %s", file, pattern)
		}
		count, _ := strconv.Atoi(old[m[2]:m[3]])
		return old[:m[2]] + strconv.Itoa(count+n) + old[m[3]:]
	})
}

// copyFile writes a file of the throwaway service (testdata/reviews) into
// the copy.
func copyFile(t *testing.T, dir, file, name string) {
	t.Helper()
	change(t, dir, file, func(string) string { return reviews(t, name) })
}

// reviews reads a file of the throwaway service from testdata/reviews.
func reviews(t *testing.T, name string) string {
	t.Helper()
	return readFile(t, "testdata", "reviews", name)
}
