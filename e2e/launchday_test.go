//go:build integration

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// The launch-day checks run in a phase of their own, after the other
// end-to-end tests (localstack/test.sh): they load the local stack, and
// their figures should not depend on what else runs. They play many
// clients, each from its own address (X-Forwarded-For), against the
// production limits the local cloud runs.

// shot is one request of a load test: what it was and what it got.
type shot struct {
	what   string
	status int
	body   []byte
	err    error
}

// fire sends one request from addr without failing the test, so that it
// can run on any goroutine; headers alternate names and values.
func fire(addr, what, method, path string, body any, headers ...string) shot {
	var rd io.Reader
	if body != nil {
		enc, err := json.Marshal(body)
		if err != nil {
			return shot{what: what, err: err}
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, stack.apiURL+path, rd)
	if err != nil {
		return shot{what: what, err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return shot{what: what, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return shot{what: what, status: resp.StatusCode, body: b, err: err}
}

func (s shot) String() string {
	if s.err != nil {
		return fmt.Sprintf("%s: %v", s.what, s.err)
	}
	return fmt.Sprintf("%s: %d %s", s.what, s.status, s.body)
}

// inParallel runs f(i) for i < n, at most width at once.
func inParallel(n, width int, f func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, width)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			f(i)
		})
	}
	wg.Wait()
}

// revocationEntries counts a user's entries in the revocation feed, the
// list every verifier reads (each entry is also kept under its user).
func revocationEntries(t *testing.T, userID string) int {
	t.Helper()
	db := dynamodb.NewFromConfig(stack.aws)
	filter := expression.Name("userId").Equal(expression.Value(userID)).And(expression.Name("PK").Equal(expression.Value("FEED")))
	expr, err := expression.NewBuilder().WithFilter(filter).Build()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName: aws.String(output(t, "RevocationsTableName")), ConsistentRead: aws.Bool(true),
		FilterExpression: expr.Filter(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
	}
	return n
}

// TestLaunchDayLogoutReplaysWriteNothing replays one logout a thousand
// times, with another live session's access token (the logged-out one's
// is refused within seconds): every replay answers 204, and the
// revocation list holds one entry for it, not a thousand.
func TestLaunchDayLogoutReplaysWriteNothing(t *testing.T) {
	t.Parallel()
	u := signUp(t, "replays")
	other := u
	other.login(t)
	addr := clientAddress(t.Name())
	const replays = 1000
	var bad atomic.Int64
	inParallel(replays, 8, func(int) {
		s := fire(addr, "logout", "POST", "/v1/auth/logout", map[string]string{"refreshToken": u.Refresh}, other.bearer()...)
		if s.err != nil || s.status != http.StatusNoContent {
			if bad.Add(1) <= 3 {
				t.Errorf("replayed logout: %v", s)
			}
		}
	})
	if n := revocationEntries(t, u.ID); n != 1 {
		t.Fatalf("%d revocation entries after %d logouts of one session, want 1", n, replays)
	}
	t.Logf("%d logouts of one session: 1 revocation entry", replays)
}

// TestLaunchDayRevocationsPerUserAreLimited has a user log out and change
// their password 50 times each, in turn: past the user's budget of the
// hour (10) both answer 429, and the list holds at most 10 of their
// entries.
func TestLaunchDayRevocationsPerUserAreLimited(t *testing.T) {
	t.Parallel()
	u := signUp(t, "budget")
	const rounds = 50
	var done, limited int
	// tally counts an answer; a 204 ended the session, which a new login
	// replaces.
	tally := func(a response) {
		t.Helper()
		switch a.StatusCode {
		case http.StatusNoContent:
			done++
			u.login(t)
		case http.StatusTooManyRequests:
			if a.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: 429 without Retry-After", a.Request.URL.Path)
			}
			expectProblem(t, a, http.StatusTooManyRequests)
			limited++
		default:
			t.Fatalf("%s: %d %s", a.Request.URL.Path, a.StatusCode, a.body)
		}
	}
	for i := range rounds {
		tally(call(t, "POST", "/v1/auth/logout", map[string]string{"refreshToken": u.Refresh}, u.bearer()...))
		next := fmt.Sprintf("the passphrase number %d", i)
		c := call(t, "POST", "/v1/users/me/password", map[string]string{"currentPassword": u.Password, "newPassword": next}, u.bearer()...)
		if c.StatusCode == http.StatusNoContent {
			u.Password = next
		}
		tally(c)
	}
	entries := revocationEntries(t, u.ID)
	if limited == 0 || done > 10 || entries > 10 {
		t.Fatalf("%d logouts and password changes: %d done, %d limited, %d revocation entries; want at most 10 done and 10 entries", 2*rounds, done, limited, entries)
	}
	t.Logf("%d logouts and password changes: %d done, %d answered 429, %d revocation entries", 2*rounds, done, limited, entries)
}

// TestLaunchDayFloodFromOneAddress floods login, refresh and password
// reset from one address at 60 requests a second for 30 s, while another
// address logs in, refreshes, reads its profile and asks for a reset:
// every one of the other address's requests must succeed. The flood meets
// its own address's limits; nothing it does may spill onto anyone else
// (no 429, 503 or 504 for the other address).
func TestLaunchDayFloodFromOneAddress(t *testing.T) {
	victim := signUp(t, "bystander")
	victimAddr := clientAddress(t.Name())
	flooder := newAddress()
	const rate, lasting = 60, 30 * time.Second

	var (
		mu      sync.Mutex
		flood   = map[string]map[int]int{} // what → status → count
		probes  []shot
		wg      sync.WaitGroup
		stopped = make(chan struct{})
	)
	count := func(s shot) {
		mu.Lock()
		defer mu.Unlock()
		if flood[s.what] == nil {
			flood[s.what] = map[int]int{}
		}
		flood[s.what][s.status]++
	}
	junkRefresh := "rt1." + victim.ID + ".AAAAAAAAAAAAAAAAAAAAAA." + "A234567890123456789012345678901234567890123"
	start := time.Now()
	tick := time.NewTicker(time.Second / rate)
	sent := 0
	wg.Go(func() { // the bystander, one request after another
		refresh := victim.Refresh
		for i := 0; ; i++ {
			select {
			case <-stopped:
				return
			default:
			}
			var s shot
			switch i % 4 {
			case 0:
				s = fire(victimAddr, "login", "POST", "/v1/auth/login", map[string]string{"email": victim.Email, "password": victim.Password, "deviceToken": victim.Device})
				var tok tokenPair
				if json.Unmarshal(s.body, &tok) == nil && tok.DeviceToken != "" {
					victim.Device = tok.DeviceToken
				}
			case 1:
				s = fire(victimAddr, "refresh", "POST", "/v1/auth/refresh", map[string]string{"refreshToken": refresh})
				var tok tokenPair
				if json.Unmarshal(s.body, &tok) == nil && tok.RefreshToken != "" {
					refresh = tok.RefreshToken
					victim.Access = tok.AccessToken
				}
			case 2:
				s = fire(victimAddr, "me", "GET", "/v1/users/me", nil, victim.bearer()...)
			case 3:
				s = fire(victimAddr, "password-reset", "POST", "/v1/auth/password-reset", map[string]string{"email": fmt.Sprintf("bystander-%d-%d@example.com", time.Now().UnixNano(), i)})
			}
			mu.Lock()
			probes = append(probes, s)
			mu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	})
	for time.Since(start) < lasting {
		<-tick.C
		i := sent
		sent++
		wg.Go(func() {
			switch i % 3 {
			case 0:
				count(fire(flooder, "login", "POST", "/v1/auth/login", map[string]string{"email": fmt.Sprintf("flood-%d@example.com", i), "password": "Summer2026!Summer"}))
			case 1:
				count(fire(flooder, "refresh", "POST", "/v1/auth/refresh", map[string]string{"refreshToken": junkRefresh}))
			case 2:
				count(fire(flooder, "password-reset", "POST", "/v1/auth/password-reset", map[string]string{"email": victim.Email}))
			}
		})
	}
	tick.Stop()
	close(stopped)
	wg.Wait()
	took := time.Since(start)

	var failed []string
	for _, s := range probes {
		if s.err != nil || s.status/100 != 2 {
			failed = append(failed, s.String())
		}
	}
	var summary []string
	for what, statuses := range flood {
		summary = append(summary, fmt.Sprintf("%s %v", what, statuses))
	}
	sort.Strings(summary)
	t.Logf("flood: %d requests from one address in %v (%.0f a second): %v", sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), summary)
	t.Logf("bystander: %d requests from another address, %d not 2xx", len(probes), len(failed))
	if float64(sent)/took.Seconds() < 50 {
		t.Errorf("the flood reached %.0f requests a second, want at least 50", float64(sent)/took.Seconds())
	}
	if len(probes) < 40 || len(failed) > 0 {
		t.Fatalf("the bystander's %d requests: %d failed: %v", len(probes), len(failed), failed)
	}
}

// TestLaunchDayManyPeopleBehindOneAddress has 200 people who signed up at
// home meet behind one address (a carrier-grade NAT) on launch day and,
// 20 at a time, log in (with the device token of their first login),
// refresh twice and place an order: none may meet a 429. What holds it at
// 1,000 and more: a login with a device token of the account is not
// counted against its address at all; refreshes are limited per session
// and orders per customer (docs/decisions/0005-login-throttling.md).
func TestLaunchDayManyPeopleBehindOneAddress(t *testing.T) {
	t.Parallel()
	const people, width = 200, 20
	const password = "correct horse battery staple"
	nat := newAddress()
	run := time.Now().UnixNano()
	var mu sync.Mutex
	var problems []string
	statuses := map[string]map[int]int{}
	note := func(s shot, want int) bool {
		mu.Lock()
		defer mu.Unlock()
		if statuses[s.what] == nil {
			statuses[s.what] = map[int]int{}
		}
		statuses[s.what][s.status]++
		if s.err != nil || s.status != want {
			problems = append(problems, s.String())
			return false
		}
		return true
	}
	fail := func() {
		t.Helper()
		if len(problems) > 0 {
			t.Fatalf("%d requests failed; the first: %v", len(problems), problems[:min(5, len(problems))])
		}
	}
	start := time.Now()
	// At home, each from an address of their own: sign up, verify the
	// email, log in once.
	emails, homes, devices := make([]string, people), make([]string, people), make([]string, people)
	inParallel(people, width, func(i int) {
		emails[i], homes[i] = fmt.Sprintf("nat-%d-%d@example.com", run, i), newAddress()
		note(fire(homes[i], "register", "POST", "/v1/auth/register", map[string]string{"email": emails[i], "password": password, "name": "Person"}), http.StatusCreated)
	})
	fail()
	tokens := map[string]string{}
	testcloud.Eventually(t, 2*time.Minute, "the verification emails", func() bool {
		for _, m := range testcloud.Mailbox(t) {
			if len(m.To) == 1 && strings.Contains(m.Subject, verificationSubject) && strings.HasPrefix(m.To[0], fmt.Sprintf("nat-%d-", run)) {
				tokens[m.To[0]] = linkToken(t, m, "/verify-email")
			}
		}
		return len(tokens) == people
	})
	inParallel(people, width, func(i int) {
		if !note(fire(homes[i], "verify-email", "POST", "/v1/auth/verify-email", map[string]string{"token": tokens[emails[i]]}), http.StatusNoContent) {
			return
		}
		s := fire(homes[i], "first login", "POST", "/v1/auth/login", map[string]string{"email": emails[i], "password": password})
		var tok tokenPair
		if note(s, http.StatusOK) && json.Unmarshal(s.body, &tok) == nil {
			devices[i] = tok.DeviceToken
		}
	})
	fail()
	signedUp := time.Since(start)

	// Launch day, all behind one address.
	start = time.Now()
	inParallel(people, width, func(i int) {
		s := fire(nat, "login", "POST", "/v1/auth/login", map[string]string{"email": emails[i], "password": password, "deviceToken": devices[i]})
		var tok tokenPair
		if !note(s, http.StatusOK) || json.Unmarshal(s.body, &tok) != nil {
			return
		}
		for range 2 {
			s = fire(nat, "refresh", "POST", "/v1/auth/refresh", map[string]string{"refreshToken": tok.RefreshToken})
			if !note(s, http.StatusOK) || json.Unmarshal(s.body, &tok) != nil {
				return
			}
		}
		note(fire(nat, "order", "POST", "/v1/orders", items("COF-ESP-250", 1), "Authorization", "Bearer "+tok.AccessToken), http.StatusCreated)
	})
	t.Logf("%d people signed up at home in %v; behind one address they logged in, refreshed twice and ordered in %v (%d requests): %v",
		people, signedUp.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), 4*people, statuses)
	fail()
}
