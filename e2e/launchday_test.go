//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/testcloud"
)

// TestLaunchDay plays a launch on the local stack, which runs production's
// limits (localstack/deploy.sh), every client from an address of its own
// (X-Forwarded-For). It runs after the other end-to-end tests, in a phase
// of its own (localstack/test.sh), so that its load meets none of theirs,
// and its steps run in an order that keeps the machine's two cores for the
// step that needs them:
//
//  1. 200 people sign up at home, each from an address of their own, and
//     log in once there.
//  2. Then they are all behind one address (a carrier-grade NAT): each
//     logs in with the device token of that first login, refreshes twice
//     and places 3 orders, 600 in all, 20 people at a time. None may meet
//     a 429. (Each person goes shopping as soon as they have verified
//     their email, so that the paced mail is never idle.)
//  3. While the 600 orders' emails go out at the paced rate: a flood from
//     one address, which must not cost the people behind the NAT a single
//     answer that is not 2xx; a logout replayed a thousand times, which
//     must leave one revocation entry; a user logging out and changing
//     their password 50 times each, limited to 10 revocations an hour.
//  4. The mail: one email per order, none dead-lettered, the mail circuit
//     never open, and no second with more emails than SesMaxSendRate.
//
// What holds step 2 at 1,000 people and more: a login with a device token
// of the account is not counted against its address at all; refreshes are
// limited per session and orders per customer
// (docs/decisions/0005-login-throttling.md).
//
// On LocalStack every caller is 127.0.0.1 and its deploy lifts the
// per-address limits (testcloud.SourceAddressFromHeader): steps 1 and 2
// then show the launch's volume and its mail, not that production's
// per-address limits spare the people behind one address, and the flood
// of step 3 is skipped.
func TestLaunchDay(t *testing.T) {
	const (
		people    = 200
		perPerson = 3
		width     = 20 // people at a time
		password  = "correct horse battery staple"
	)
	rate, err := strconv.Atoi(currentParameter(t, "SesMaxSendRate"))
	if err != nil || rate < 1 {
		t.Fatalf("SesMaxSendRate %q", currentParameter(t, "SesMaxSendRate"))
	}
	q := sqs.NewFromConfig(stack.aws)
	dlq := output(t, "OrderEventsDLQUrl")
	dlqBefore := testcloud.Depth(t, q, dlq)
	start := time.Now()
	run := start.UnixNano()
	// The users of step 3's revocation checks sign up first, so that their
	// verification emails go out before the 200 people's.
	replays, budget := signUp(t, "replays"), signUp(t, "budget")
	// The revocation list's check at 50,000 entries (functions/users/api)
	// writes 100,000 items, which holds the emulator's DynamoDB, one call
	// at a time, for half a minute: it waits for the quiet part of the
	// launch, the end of the mail, which this signals (localstack/test.sh).
	quiet := sync.OnceFunc(func() { launchDayQuiet(t) })
	t.Cleanup(quiet)

	crowd := newCrowd(people)
	nat := newAddress()
	var placed time.Time
	ok := t.Run("200 people sign up at home, then log in, refresh twice and order 3 times behind one address", func(t *testing.T) {
		inParallel(people, width, func(i int) {
			p := &crowd.people[i]
			p.email, p.home = fmt.Sprintf("launch-%d-%d@example.com", run, i), newAddress()
			crowd.expect(fire(p.home, "register", "POST", "/v1/auth/register", map[string]string{"email": p.email, "password": password, "name": "Person"}), http.StatusCreated)
		})
		placed = time.Now()
		// Each verifies the email as soon as it is there, logs in once at
		// home, then goes shopping behind the NAT: the emails of the
		// first orders go out while the last verification emails still
		// do, so the paced mail is never idle.
		verified := map[string]bool{}
		var wg sync.WaitGroup
		slots := make(chan struct{}, width)
		testcloud.Eventually(t, 2*time.Minute, "the 200 verification emails", func() bool {
			for _, m := range testcloud.Mailbox(t) {
				if len(m.To) != 1 || !strings.Contains(m.Subject, verificationSubject) || !strings.HasPrefix(m.To[0], fmt.Sprintf("launch-%d-", run)) || verified[m.To[0]] {
					continue
				}
				verified[m.To[0]] = true
				p, tok := crowd.person(m.To[0]), linkToken(t, m, "/verify-email")
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots }()
					crowd.shop(p, tok, nat, perPerson, run)
				})
			}
			return len(verified) == people
		})
		wg.Wait()
		crowd.report(t, "at home, then behind one address")
	})
	if !ok {
		t.FailNow()
	}
	orders := time.Since(placed)

	// Step 3, while the mail goes out.
	t.Run("a flood from one address spills onto nobody", func(t *testing.T) {
		testcloud.Require(t, testcloud.SourceAddressFromHeader,
			"the flood's address must be told apart from the one the people share, whose requests it must not cost a single answer")
		floodFromOneAddress(t, crowd, nat)
	})
	t.Run("a logout replayed a thousand times writes one entry", func(t *testing.T) {
		logoutReplays(t, replays)
	})
	t.Run("a user's revocations are limited to 10 an hour", func(t *testing.T) {
		revocationBudget(t, budget)
	})

	quiet()
	t.Run("600 orders mailed once each, paced to SES", func(t *testing.T) {
		total := people * perPerson
		deadline := time.Now().Add(time.Duration(2*total/rate)*time.Second + 2*time.Minute)
		for {
			byOrder := crowd.orderMails(testcloud.Mailbox(t))
			if len(byOrder) >= total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the emails of %d of %d orders are in the mailbox %v after they were placed", len(byOrder), total, time.Since(placed).Round(time.Second))
			}
			time.Sleep(2 * time.Second) // each read lists every email: not too often
		}
		testcloud.AwaitDrained(t, q, output(t, "OrderEventsQueueUrl"), 2*time.Minute)
		mails := testcloud.Mailbox(t)
		byOrder := crowd.orderMails(mails)
		var lastSent time.Time
		for _, p := range crowd.people {
			for _, id := range p.orders {
				if n := len(byOrder[id]); n != 1 {
					t.Errorf("order %s of %s: %d emails, want 1", id, p.email, n)
				}
				for _, m := range byOrder[id] {
					if m.Sent.After(lastSent) {
						lastSent = m.Sent
					}
				}
			}
		}
		if d := testcloud.Depth(t, q, dlq); !d.Empty() {
			t.Errorf("the events dead-letter queue holds %+v after the launch (%+v before it), want nothing", d, dlqBefore)
		}
		// What SES saw: every email since the launch began, in sliding
		// seconds.
		var sent []time.Time
		for _, m := range mails {
			if m.Sent.IsZero() {
				t.Fatal("the mailbox gives no send times")
			}
			if !m.Sent.Before(start) {
				sent = append(sent, m.Sent)
			}
		}
		busiest, at := busiestSecond(sent)
		if busiest > rate {
			t.Errorf("%d emails in the second from %s, more than SesMaxSendRate %d", busiest, at.Format(time.StampMilli), rate)
		}
		group := testcloud.LogGroup(t, stack.aws, output(t, "StackName"), "notifications")
		var metrics map[string]float64
		testcloud.Eventually(t, time.Minute, "the notification function's metrics", func() bool {
			metrics = emfSums(t, logLines(t, group, start.Add(-time.Second)))
			return metrics["EmailsSent"] >= float64(total+people)
		})
		if n := metrics["MailCircuitOpened"]; n != 0 {
			t.Errorf("MailCircuitOpened %v during the launch, want 0", n)
		}
		first, last := slices.MinFunc(sent, time.Time.Compare), slices.MaxFunc(sent, time.Time.Compare)
		t.Logf("%d orders placed in the %v after the sign-ups; their last email sent %v after the first sign-up's; %d emails from %s to %s, %.2f a second on average, at most %d in any sliding second (SesMaxSendRate %d)",
			total, orders.Round(time.Millisecond), lastSent.Sub(placed).Round(time.Millisecond), len(sent), first.Format(time.StampMilli), last.Format(time.StampMilli),
			float64(len(sent)-1)/last.Sub(first).Seconds(), busiest, rate)
		t.Logf("notification metrics: EmailsSent %v, MailCircuitOpened %v, MailOutOfTime %v, TransientFailures %v; the launch took %v",
			metrics["EmailsSent"], metrics["MailCircuitOpened"], metrics["MailOutOfTime"], metrics["TransientFailures"], time.Since(start).Round(time.Millisecond))
	})
}

// launchDayQuiet tells whoever waits on the file LAUNCHDAY_QUIET names (if
// set) that TestLaunchDay has reached its quiet part, or ended.
func launchDayQuiet(t *testing.T) {
	if f := os.Getenv("LAUNCHDAY_QUIET"); f != "" {
		if err := os.WriteFile(f, []byte(time.Now().Format(time.RFC3339Nano)+"\n"), 0o644); err != nil {
			t.Errorf("LAUNCHDAY_QUIET: %v", err)
		}
	}
}

// person is one of the crowd of TestLaunchDay.
type person struct {
	email, home     string
	device          string
	access, refresh string
	orders          []string
}

// crowd is TestLaunchDay's people and what their requests got.
type crowd struct {
	people []person
	index  map[string]int // email → person

	mu       sync.Mutex
	statuses map[string]map[int]int // what → status → count
	failed   []string
}

func newCrowd(n int) *crowd {
	return &crowd{people: make([]person, n), statuses: map[string]map[int]int{}}
}

// person returns the person with email.
func (c *crowd) person(email string) *person {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.index == nil {
		c.index = map[string]int{}
		for i, p := range c.people {
			c.index[p.email] = i
		}
	}
	return &c.people[c.index[email]]
}

// expect counts an answer and reports whether it has the status.
func (c *crowd) expect(s shot, status int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.statuses[s.what] == nil {
		c.statuses[s.what] = map[int]int{}
	}
	c.statuses[s.what][s.status]++
	if s.err != nil || s.status != status {
		c.failed = append(c.failed, s.String())
		return false
	}
	return true
}

// report logs the answers counted since the last report, fails the test on
// any unexpected one, and starts counting afresh.
func (c *crowd) report(t *testing.T, where string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("%d people %s: %v", len(c.people), where, c.statuses)
	if len(c.failed) > 0 {
		t.Errorf("%d requests failed; the first: %v", len(c.failed), c.failed[:min(5, len(c.failed))])
	}
	c.statuses, c.failed = map[string]map[int]int{}, nil
}

// shop is one person's launch: verify the email with tok and log in once
// at home, then, behind nat, log in with the device token of that login,
// refresh twice and place orders.
func (c *crowd) shop(p *person, tok, nat string, orders int, run int64) {
	const password = "correct horse battery staple"
	var pair tokenPair
	got := func(s shot) bool { return c.expect(s, http.StatusOK) && json.Unmarshal(s.body, &pair) == nil }
	if !c.expect(fire(p.home, "verify-email", "POST", "/v1/auth/verify-email", map[string]string{"token": tok}), http.StatusOK) ||
		!got(fire(p.home, "first login at home", "POST", "/v1/auth/login", map[string]string{"email": p.email, "password": password})) {
		return
	}
	p.device = pair.DeviceToken
	if !got(fire(nat, "login behind the NAT", "POST", "/v1/auth/login", map[string]string{"email": p.email, "password": password, "deviceToken": p.device})) {
		return
	}
	p.device = pair.DeviceToken
	for range 2 {
		if !got(fire(nat, "refresh", "POST", "/v1/auth/refresh", map[string]string{"refreshToken": pair.RefreshToken})) {
			return
		}
	}
	p.access, p.refresh = pair.AccessToken, pair.RefreshToken
	for k := range orders {
		s := fire(nat, "order", "POST", "/v1/orders", items("COF-ESP-250", 1), "Authorization", "Bearer "+p.access, "Idempotency-Key", fmt.Sprintf("launch-%d-%s-%d", run, p.email, k))
		var o orderDoc
		if c.expect(s, http.StatusCreated) && json.Unmarshal(s.body, &o) == nil {
			c.mu.Lock()
			p.orders = append(p.orders, o.ID)
			c.mu.Unlock()
		}
	}
}

// orderMails groups the emails about the crowd's orders by order id: an
// email to the person whose subject names one of their orders.
func (c *crowd) orderMails(mails []testcloud.Mail) map[string][]testcloud.Mail {
	owner := map[string]string{} // order id → email
	for _, p := range c.people {
		for _, id := range p.orders {
			owner[id] = p.email
		}
	}
	out := map[string][]testcloud.Mail{}
	for _, m := range mails {
		f := strings.Fields(m.Subject)
		if len(f) < 2 || f[0] != "Order" || owner[f[1]] == "" {
			continue
		}
		if slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, owner[f[1]]) }) {
			out[f[1]] = append(out[f[1]], m)
		}
	}
	return out
}

// floodFromOneAddress floods login, refresh and password reset from one
// address for 30 s at three times its limit per second
// (SourceRequestsPerSecond), while people behind another
// address (nat) log in with their device tokens, refresh, read their
// profile and orders and ask for password resets: every one of their
// requests must succeed. The flood meets its own address's limits; nothing
// it does may spill onto anyone else (no 429, 503 or 504 elsewhere).
func floodFromOneAddress(t *testing.T, c *crowd, nat string) {
	flooder := newAddress()
	// Three times the limit keeps the address's limits answering most of
	// the flood, which is what may not spill. A flood the local cloud
	// cannot serve would show its two cores, not the service: on AWS
	// each request has a Lambda environment of its own.
	perSecond, err := strconv.Atoi(currentParameter(t, "SourceRequestsPerSecond"))
	if err != nil || perSecond < 1 {
		t.Fatalf("SourceRequestsPerSecond %q", currentParameter(t, "SourceRequestsPerSecond"))
	}
	rate, lasting := 3*perSecond, 30*time.Second
	var (
		mu      sync.Mutex
		flood   = map[string]map[int]int{}
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
	junkRefresh := "rt1.01KB0000000000000000000000.AAAAAAAAAAAAAAAAAAAAAA.A234567890123456789012345678901234567890123"
	// Four of the people keep using the shop, one request after another.
	for b := range 4 {
		p := &c.people[b]
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopped:
					return
				default:
				}
				var s shot
				switch i % 5 {
				case 0:
					s = fire(nat, "login", "POST", "/v1/auth/login", map[string]string{"email": p.email, "password": "correct horse battery staple", "deviceToken": p.device})
					var pair tokenPair
					if json.Unmarshal(s.body, &pair) == nil && pair.DeviceToken != "" {
						p.device = pair.DeviceToken
					}
				case 1:
					s = fire(nat, "refresh", "POST", "/v1/auth/refresh", map[string]string{"refreshToken": p.refresh})
					var pair tokenPair
					if json.Unmarshal(s.body, &pair) == nil && pair.RefreshToken != "" {
						p.access, p.refresh = pair.AccessToken, pair.RefreshToken
					}
				case 2:
					s = fire(nat, "me", "GET", "/v1/users/me", nil, "Authorization", "Bearer "+p.access)
				case 3:
					s = fire(nat, "orders", "GET", "/v1/orders", nil, "Authorization", "Bearer "+p.access)
				case 4:
					s = fire(nat, "password-reset", "POST", "/v1/auth/password-reset", map[string]string{"email": fmt.Sprintf("nobody-%d-%d@example.com", b, i)})
				}
				mu.Lock()
				probes = append(probes, s)
				mu.Unlock()
				time.Sleep(300 * time.Millisecond)
			}
		})
	}
	// Paced by the clock, not by a ticker, which drops the ticks a busy
	// machine cannot take: a late sender catches up, so the flood keeps
	// its rate on average.
	start := time.Now()
	sent := 0
	for ; sent < int(lasting.Seconds())*rate; sent++ {
		time.Sleep(time.Until(start.Add(time.Duration(sent) * time.Second / time.Duration(rate))))
		i := sent
		wg.Go(func() {
			switch i % 3 {
			case 0:
				count(fire(flooder, "login", "POST", "/v1/auth/login", map[string]string{"email": fmt.Sprintf("flood-%d@example.com", i), "password": "Summer2026!Summer"}))
			case 1:
				count(fire(flooder, "refresh", "POST", "/v1/auth/refresh", map[string]string{"refreshToken": junkRefresh}))
			case 2:
				count(fire(flooder, "password-reset", "POST", "/v1/auth/password-reset", map[string]string{"email": c.people[0].email}))
			}
		})
	}
	offered := float64(sent) / time.Since(start).Seconds() // the flood as sent, before waiting for its answers
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
	t.Logf("flood: %d requests from one address sent at %.0f a second, all answered in %v: %v", sent, offered, took.Round(time.Millisecond), summary)
	t.Logf("the people behind another address meanwhile: %d requests, %d not 2xx", len(probes), len(failed))
	if offered < 0.9*float64(rate) {
		t.Errorf("the flood was sent at %.0f requests a second, want at least %.0f", offered, 0.9*float64(rate))
	}
	if len(probes) < 100 || len(failed) > 0 {
		t.Fatalf("%d requests of the people behind another address, %d failed: %v", len(probes), len(failed), failed[:min(5, len(failed))])
	}
}

// logoutReplays replays one logout a thousand times, with another live
// session's access token (the logged-out one's is refused within
// seconds): every replay answers 204, and the revocation list holds one
// entry for it, not a thousand.
func logoutReplays(t *testing.T, u user) {
	other := u
	other.login(t)
	addr := newAddress()
	const replays = 1000
	var bad atomic.Int64
	inParallel(replays, 8, func(int) {
		s := fire(addr, "logout", "POST", "/v1/auth/logout", map[string]string{"refreshToken": u.Refresh}, other.bearer()...)
		if (s.err != nil || s.status != http.StatusNoContent) && bad.Add(1) <= 3 {
			t.Errorf("replayed logout: %v", s)
		}
	})
	if n := revocationEntries(t, u.ID); n != 1 {
		t.Fatalf("%d revocation entries after %d logouts of one session, want 1", n, replays)
	}
	t.Logf("%d logouts of one session: 1 revocation entry", replays)
}

// revocationBudget has a user log out and change their password 50 times
// each, in turn: past the user's budget of the hour (10) both answer 429,
// and the list holds at most 10 of their entries.
func revocationBudget(t *testing.T, u user) {
	const rounds = 50
	var done, limited int
	// tally counts an answer; a 204 ended the session, which a new login
	// replaces.
	tally := func(a *apitest.Response) {
		t.Helper()
		switch a.StatusCode {
		case http.StatusNoContent:
			done++
			u.login(t)
		case http.StatusTooManyRequests:
			if a.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: 429 without Retry-After", a.Request.URL.Path)
			}
			a.Problem(t, http.StatusTooManyRequests, "")
			limited++
		default:
			t.Fatalf("%s: %d %s", a.Request.URL.Path, a.StatusCode, a.Body)
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

// shot is one request of a load test: what it was and what it got.
type shot struct {
	what   string
	status int
	body   []byte
	err    error
}

func (s shot) String() string {
	if s.err != nil {
		return fmt.Sprintf("%s: %v", s.what, s.err)
	}
	return fmt.Sprintf("%s: %d %s", s.what, s.status, s.body)
}

// fire sends one request from addr without failing the test, so that it
// can run on any goroutine; headers alternate names and values.
func fire(addr, what, method, path string, body any, headers ...string) shot {
	req := apitest.NewRequest(method, stack.apiURL+path, body, append([]string{"Content-Type", "application/json", "X-Forwarded-For", addr}, headers...)...)
	resp, err := httpClient.Do(req)
	if err != nil {
		return shot{what: what, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return shot{what: what, status: resp.StatusCode, body: b, err: err}
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
