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
	// GatewayThrottles: the stage's throttles and a usage plan's limits are
	// enforced (the gateway's 429 THROTTLED). LocalStack's free edition
	// stores them and enforces none. No test depends on it today: the
	// stage's limits are checked as deployed (TestOWASP_API4).
	GatewayThrottles Capability = "the gateway enforces throttles"
	// RESTAuthorizer: the REST API runs the Lambda REQUEST authorizer on
	// protected methods. LocalStack's free edition runs none (a Pro
	// feature); the services verify every token themselves, so no test
	// depends on it today (TestGatewayAnswersAreProblems and
	// TestAuthorizerRefusesBadTokens accept either's 401; TestOWASP_API5
	// checks the deployed authorizer configuration).
	RESTAuthorizer Capability = "the REST API runs the Lambda authorizer"
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
