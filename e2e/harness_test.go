//go:build integration

package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/testcloud"
)

// stack is what the deploy script wrote about the deployed stack.
var stack struct {
	apiURL  string
	outputs map[string]string
	aws     aws.Config
	doc     *openapi3.T    // api/openapi.yaml
	spec    routers.Router // its routes, which every answer must match
}

func TestMain(m *testing.M) {
	if err := loadStack(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// loadStack reads the API URL and stack outputs from the state of the
// local cloud on EMULATOR_PORT (or API_URL), and builds an AWS
// configuration for that cloud.
func loadStack() error {
	stack.apiURL = os.Getenv("API_URL")
	if stack.apiURL == "" {
		b, err := os.ReadFile(filepath.Join(testcloud.StateDir(), "api-url"))
		if err != nil {
			return fmt.Errorf("no deployed stack on port %s: %w (run the tests with make test, or make dev first)", testcloud.Port(), err)
		}
		stack.apiURL = strings.TrimSpace(string(b))
	}
	stack.outputs = testcloud.Outputs(setupTB{})
	stack.aws = testcloud.Config(setupTB{})
	var err error
	if stack.doc, err = openapi3.NewLoader().LoadFromFile(filepath.Join("..", "api", "openapi.yaml")); err != nil {
		return fmt.Errorf("load openapi.yaml: %w", err)
	}
	stack.spec, err = legacy.NewRouter(stack.doc, openapi3.SetRegexCompiler(apitest.ECMAPattern))
	return err
}

// setupTB lets TestMain use helpers that take a testing.TB; a failure
// there ends the run.
type setupTB struct{ testing.TB }

func (setupTB) Helper() {}
func (setupTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e setup: "+format+"\n", args...)
	os.Exit(1)
}

// conformsToSpec checks every answer against api/openapi.yaml: a request
// the document has an operation for gets a documented status and a body of
// its schema, from the service or from the gateway; a method a path of the
// document does not have gets the service's 405 problem with Allow listing
// the path's methods (or the 401 of a protected path without a valid
// token); any other request gets the gateway's 404 problem. (That every
// answer carries X-Request-Id, Client.Do checks.)
func conformsToSpec(t *testing.T, resp *apitest.Response) {
	t.Helper()
	req := resp.Request
	route, params, err := findRoute(req)
	if err != nil && len(specMethods(req)) > 0 {
		if resp.StatusCode == http.StatusUnauthorized {
			return // a protected path without a valid token (Client.Do checked the problem)
		}
		resp.Problem(t, http.StatusMethodNotAllowed, "method-not-allowed")
		if got, want := resp.Header.Get("Allow"), strings.Join(specMethods(req), ", "); got != want {
			t.Fatalf("%s %s: 405 with Allow %q, want %q", req.Method, req.URL.Path, got, want)
		}
		return
	}
	if err != nil {
		resp.Problem(t, http.StatusNotFound, "not-found")
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(strings.NewReader(resp.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, RegexCompiler: apitest.ECMAPattern},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Fatalf("%s %s: answer %d does not match openapi.yaml: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, resp.Body)
	}
}

// specMethods lists the methods api/openapi.yaml has for the path of req,
// as an Allow header lists them.
// findRoute is the operation of api/openapi.yaml req is for. The router
// matches /v1/admin/products to /v1/admin/products/{sku} with an empty sku:
// no operation of the API has an empty path parameter.
func findRoute(req *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := stack.spec.FindRoute(req)
	if err == nil && slices.Contains(slices.Collect(maps.Values(params)), "") {
		return nil, nil, routers.ErrPathNotFound
	}
	return route, params, err
}

func specMethods(req *http.Request) []string {
	var methods []string
	for _, m := range []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"} {
		r := req.Clone(context.Background())
		r.Method = m
		if _, _, err := findRoute(r); err == nil {
			methods = append(methods, m)
		}
	}
	return methods
}

func output(t *testing.T, key string) string {
	t.Helper()
	v, ok := stack.outputs[key]
	if !ok {
		t.Fatalf("stack output %s missing", key)
	}
	return v
}

// httpClient is the tests' HTTP client; api is the test client over it.
var (
	httpClient = &http.Client{Timeout: 30 * time.Second}
	api        = &apitest.Client{HTTP: httpClient}
)

// clientAddress is the address a test (or subtest) plays its client from:
// one of its own in the IPv6 documentation range (2001:db8::/32), derived
// from the test's name. The local API, as API Gateway behind a trusted proxy would,
// takes the caller's address from the first X-Forwarded-For hop, and the
// local cloud runs production's per-address limits: each test is a client
// of its own, as it would be on AWS.
func clientAddress(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	sum := h.Sum64()
	return fmt.Sprintf("2001:db8:%x:%x:%x::1", uint16(sum>>48), uint16(sum>>32), uint32(sum)&0xffff)
}

// newAddress returns an address no other client of this run uses: a
// client address of a random name.
func newAddress() string { return clientAddress(rand.Text()) }

// call sends a request to the API from the test's own address
// (clientAddress; a X-Forwarded-For header in headers says otherwise),
// through the one test client (apitest: body and headers as NewRequest
// takes them, every answer checked as Client.Do checks it), and checks the
// answer against the OpenAPI document.
func call(t *testing.T, method, path string, body any, headers ...string) *apitest.Response {
	t.Helper()
	r := api.Do(t, apitest.NewRequest(method, stack.apiURL+path, body, append([]string{"X-Forwarded-For", clientAddress(t.Name())}, headers...)...))
	conformsToSpec(t, r)
	return r
}

// race sends n requests at once and returns the answers in call order.
func race(n int, send func() *apitest.Response) []*apitest.Response {
	out := make([]*apitest.Response, n)
	testcloud.Parallel(n, func(i int) error { out[i] = send(); return nil })
	return out
}

// winners counts the answers with status win and fails the test on any
// status other than win and the allowed losing ones.
func winners(t *testing.T, answers []*apitest.Response, win int, lose ...int) int {
	t.Helper()
	n := 0
	for _, r := range answers {
		switch {
		case r.StatusCode == win:
			n++
		case !slices.Contains(lose, r.StatusCode):
			t.Fatalf("%s %s: status %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, r.Body)
		}
	}
	return n
}

// uniqueEmail returns an address no other test run uses.
func uniqueEmail(t *testing.T, tag string) string {
	return fmt.Sprintf("%s-%d@example.com", tag, time.Now().UnixNano())
}
