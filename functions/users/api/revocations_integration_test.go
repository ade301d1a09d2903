//go:build integration

package api_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/awscalls"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/revocation"
)

// TestLaunchDayRevocationsAtFiftyThousand checks what knowing the
// revocations costs when the table holds 50,000 live entries (about 54 a
// second over the quarter hour an entry lives): a warm environment's
// refresh that finds nothing new is one Query of one read unit; a new
// environment answers its first protected request without reading the
// list; and a token revoked a second after that environment started is
// refused there within the minute the product promises. Each environment
// is a users API with a checker of its own, on a client of its own whose
// calls are recorded as the call-budget tests record them.
func TestLaunchDayRevocationsAtFiftyThousand(t *testing.T) {
	awaitQuiet(t)
	r := newCallsRig(t)
	r.db, r.keys = r.shadowDB, r.shadowKMS // only the checkers' reads are recorded
	cfg := testcloud.Config(t)
	// environment is one execution environment of the users function.
	type environment struct {
		handler http.Handler
		reads   *awscalls.Recorder // the checker's calls
	}
	newEnvironment := func() environment {
		rec := awscalls.New(r.shadowDB)
		reader := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, rec.APIOption("dynamodb")) })
		// The local cloud's DynamoDB reads a Query's whole partition
		// (MiniStack evaluates the key condition on every item, about a
		// second and a half for the feed's 50,000 here), where DynamoDB
		// reads only the range asked for: each read is given longer than
		// the 2 s a function allows, which the emulator's reads of this
		// feed would exceed. What is asserted (calls, capacity by AWS's
		// rules, the minute) is unchanged.
		checker := revocation.NewChecker(revocation.NewTable(reader, r.revocations), 0, r.log).WithReadTimeout(20 * time.Second)
		return environment{handler: r.handler(checker), reads: rec}
	}
	do := func(env environment, route, body, bearer string) *apitest.Response {
		t.Helper()
		return send(t, env.handler, route, body, bearer, address)
	}

	// 50,000 revocations of other users, made over the last 14 minutes
	// (each lives 15.5), written as the users service writes them.
	const live = 50_000
	start := time.Now()
	var entries []revocation.Entry
	for i := range live {
		at := start.Add(-14*time.Minute + time.Duration(i)*(13*time.Minute)/live)
		entries = append(entries, revocation.Session(fmt.Sprintf("user-%05d", i), fmt.Sprintf("session-%05d", i), at, 15*time.Minute))
	}
	testcloud.PutRevocations(t, r.shadowDB, r.revocations, entries)
	t.Logf("wrote %d live revocations (%d items) in %v", live, 2*live, time.Since(start).Round(time.Millisecond))

	warm := newEnvironment()
	const email, password = "revocations@example.com", "correct horse battery staple"
	if resp := do(warm, "POST /v1/auth/register", `{"email":"`+email+`","password":"`+password+`","name":"Ada"}`, ""); resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d %s", resp.StatusCode, resp.Body)
	}
	resp := do(warm, "POST /v1/auth/login", `{"email":"`+email+`","password":"`+password+`"}`, "")
	var tokens struct{ AccessToken, RefreshToken string }
	if resp.JSON(t, &tokens); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Body)
	}
	me := func(env environment) int { return do(env, "GET /v1/users/me", "", tokens.AccessToken).StatusCode }
	reads := func(env environment) (calls int, rcu float64) {
		taken := env.reads.Take()
		rules, _ := awscalls.Sum(taken)
		return len(taken), rules.Read
	}

	// A warm environment: its first request looks the caller up and reads
	// the feed's last moments; its refresh, with nothing new, one Query.
	if s := me(warm); s != http.StatusOK {
		t.Fatalf("first request of the warm environment: %d", s)
	}
	calls, rcu := reads(warm)
	t.Logf("warm environment, first request: %d reads, %g RCU", calls, rcu)
	time.Sleep(revocation.DefaultRefresh)
	if s := me(warm); s != http.StatusOK {
		t.Fatalf("refresh of the warm environment: %d", s)
	}
	if calls, rcu = reads(warm); calls > 1 || rcu > 1 {
		t.Errorf("a warm refresh with nothing new cost %d reads and %g RCU; want at most 1 and 1", calls, rcu)
	}
	t.Logf("warm environment, refresh with nothing new: %d reads, %g RCU (AWS's rules)", calls, rcu)

	// A new environment's first protected request reads the caller's
	// entries and what the feed received since just before it started.
	fresh := newEnvironment()
	started := time.Now()
	if s := me(fresh); s != http.StatusOK {
		t.Fatalf("first request of a new environment: %d", s)
	}
	calls, rcu = reads(fresh)
	if everything := float64(live) * 100 / 4096; rcu > 2 || rcu >= everything {
		t.Errorf("a new environment's first request read %g RCU in %d calls; the list would be at least %g", rcu, calls, everything)
	}
	t.Logf("new environment, first request: %d reads, %g RCU, in %v", calls, rcu, time.Since(started).Round(time.Millisecond))

	// Revoked one second after the new environment started: refused there
	// within the minute.
	time.Sleep(time.Until(started.Add(time.Second)))
	if resp := do(warm, "POST /v1/auth/logout", `{"refreshToken":"`+tokens.RefreshToken+`"}`, tokens.AccessToken); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d %s", resp.StatusCode, resp.Body)
	}
	revokedAt := time.Now()
	testcloud.Eventually(t, time.Minute, "the revoked token refused by the new environment", func() bool {
		return me(fresh) == http.StatusUnauthorized
	})
	t.Logf("new environment refused the token revoked 1 s after it started %v after the logout", time.Since(revokedAt).Round(100*time.Millisecond))
}

// awaitQuiet waits, when LAUNCHDAY_QUIET names a file (localstack/test.sh
// sets it), until that file exists: e2e's TestLaunchDay writes it when the
// rest of its launch is over, so that the 100,000 items written here, which
// hold the emulator's DynamoDB (one call at a time) for half a minute, do
// not slow down the launch's requests. It waits 10 minutes at most.
func awaitQuiet(t *testing.T) {
	f := os.Getenv("LAUNCHDAY_QUIET")
	if f == "" {
		return
	}
	start := time.Now()
	for {
		if _, err := os.Stat(f); err == nil {
			t.Logf("waited %v for the quiet part of the launch", time.Since(start).Round(time.Second))
			return
		}
		if time.Since(start) > 10*time.Minute {
			t.Fatalf("LAUNCHDAY_QUIET: %s not written in 10 minutes", f)
		}
		time.Sleep(time.Second)
	}
}
