//go:build integration

package testcloud

import (
	"cmp"
	"fmt"
	"os"
	"testing"
)

// Capability is something of the local cloud that some tests depend on and
// that not every emulator has. MiniStack, the default, has all of them;
// LocalStack's free edition (LOCAL_CLOUD=localstack) lacks each of them
// (docs/local-cloud.md, What works where). A test that depends on one says
// so with Require, which skips it, with its reason, where the capability
// is missing.
type Capability string

const (
	// SourceAddressFromHeader: the REST API tells callers apart by the
	// first X-Forwarded-For hop (requestContext.identity.sourceIp), so the
	// tests play many clients, each from an address of its own, and the
	// local cloud runs production's per-address limits. LocalStack reports
	// every caller as 127.0.0.1; its deploy lifts the per-address limits
	// (localstack/params.sh), which would otherwise meet every
	// test's requests at once.
	SourceAddressFromHeader Capability = "the API takes the caller's address from X-Forwarded-For"
	// FunctionsReachHostLoopback: the deployed functions reach a server a
	// test starts on this machine's loopback (MiniStack runs them as
	// processes of this machine): the fault campaign's proxy, which the
	// functions' AWS_ENDPOINT_URL points at, and the SSRF test's canary.
	// LocalStack runs them in containers, whose 127.0.0.1 is their own.
	FunctionsReachHostLoopback Capability = "the functions reach this machine's loopback"
	// CustomResources: CloudFormation runs the template's custom resources
	// on every create and update. LocalStack's free edition deploys them as
	// placeholders (a Pro feature): localstack/deploy.sh runs them after
	// its deploy, but a stack update a test makes resets the functions'
	// configuration they feed (TOKEN_JWKS, SIGNING_KID) to "unknown".
	CustomResources Capability = "CloudFormation runs custom resources"
)

// Cloud is the local cloud the tests run against (LOCAL_CLOUD: ministack,
// the default, or localstack).
func Cloud() string {
	return cmp.Or(os.Getenv("LOCAL_CLOUD"), "ministack")
}

// Require skips the test, saying why, unless the local cloud has c; why
// says what of the test needs it. On MiniStack, which has them all, every
// test runs; an unknown LOCAL_CLOUD fails the test.
func Require(t testing.TB, c Capability, why string) {
	t.Helper()
	if msg := requirement(Cloud(), c, why); msg != "" {
		if Cloud() == "localstack" {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
}

// requirement is "" when cloud has c, and otherwise what Require reports:
// MiniStack has every capability, LocalStack's free edition none.
func requirement(cloud string, c Capability, why string) string {
	switch cloud {
	case "ministack":
		return ""
	case "localstack":
		return fmt.Sprintf("runs on MiniStack only: LocalStack's free edition lacks %q, which this test needs: %s", string(c), why)
	}
	return fmt.Sprintf("LOCAL_CLOUD=%s: not a local cloud the tests know (ministack or localstack)", cloud)
}
