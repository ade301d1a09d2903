//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// Launch-day tests run in a phase of their own, after the other end-to-end
// tests (go test -run '^TestLaunchDay'; the others run with -skip
// '^TestLaunchDay'), so none of them calls t.Parallel: what they measure is
// the stack alone.

// TestLaunchDayMailBurst: a burst of 600 orders from 30 customers, each
// at its own address, is mailed order by order, once each, with nothing
// dead-lettered and the mail circuit never opening, and never faster than
// SesMaxSendRate (10 a second on the local deploy) over any sliding second
// of the mailbox's timestamps: the burst waits on the queue instead of
// tripping SES's rate.
func TestLaunchDayMailBurst(t *testing.T) {
	const (
		customers = 30
		placing   = 20 // orders in flight at once
		signingUp = 10 // customers signing up at once
	)
	rate, err := strconv.Atoi(currentParameter(t, "SesMaxSendRate"))
	if err != nil || rate < 1 {
		t.Fatalf("SesMaxSendRate %q", currentParameter(t, "SesMaxSendRate"))
	}
	perCustomer, err := strconv.Atoi(output(t, "OrdersPerHour"))
	if err != nil || perCustomer < 1 {
		t.Fatalf("OrdersPerHour output %q", output(t, "OrdersPerHour"))
	}
	total := customers * perCustomer
	q := sqs.NewFromConfig(stack.aws)
	dlq := output(t, "OrderEventsDLQUrl")
	dlqBefore := testcloud.Depth(t, q, dlq)
	start := time.Now()

	// 30 customers, each from its own address of the IPv6 documentation
	// range, signed up a few at a time.
	shoppers := make([]shopper, customers)
	bounded(customers, signingUp, func(i int) {
		shoppers[i] = signUpFrom(t, fmt.Sprintf("launch-%02d", i), fmt.Sprintf("2001:db8:21::%x", i+1))
	})
	if t.Failed() {
		t.FailNow()
	}
	signedUp := time.Since(start)

	// Every customer's hour of orders, 20 in flight at once.
	ids := make([][]string, customers)
	for i := range ids {
		ids[i] = make([]string, perCustomer)
	}
	var throttled atomic.Int64
	burst := time.Now()
	bounded(total, placing, func(n int) {
		c, k := n%customers, n/customers
		ids[c][k] = shoppers[c].order(t, fmt.Sprintf("launch-%d-%d-%d", start.UnixNano(), c, k), &throttled)
	})
	if t.Failed() {
		t.FailNow()
	}
	placed := time.Since(burst)

	// Wait for every order's email, then for the queue to be empty, so
	// that counting finds any duplicate.
	// The mailbox is read every 2 s, not every 250 ms: each read lists
	// every email, and the emulator serving it shares the machine with the
	// functions being measured.
	deadline := time.Now().Add(3*time.Duration(total/rate)*time.Second + 2*time.Minute)
	for len(orderMails(testcloud.Mailbox(t), shoppers, ids)) < total {
		if time.Now().After(deadline) {
			t.Fatalf("the emails of %d orders are not all in the mailbox after %v", total, time.Since(burst).Round(time.Second))
		}
		time.Sleep(2 * time.Second)
	}
	testcloud.AwaitDrained(t, q, output(t, "OrderEventsQueueUrl"), 2*time.Minute)
	mails := testcloud.Mailbox(t)

	byOrder := orderMails(mails, shoppers, ids)
	for c := range shoppers {
		for _, id := range ids[c] {
			if n := len(byOrder[id]); n != 1 {
				t.Errorf("order %s of %s: %d emails, want 1", id, shoppers[c].Email, n)
			}
		}
	}
	if len(byOrder) != total {
		t.Errorf("emails for %d orders, want %d", len(byOrder), total)
	}
	var lastOrderSent time.Time
	for _, ms := range byOrder {
		for _, m := range ms {
			lastOrderSent = later(lastOrderSent, m.Sent)
		}
	}

	if d := testcloud.Depth(t, q, dlq); !d.Empty() {
		t.Errorf("the events dead-letter queue holds %+v after the burst (%+v before it), want nothing", d, dlqBefore)
	}

	// What SES saw: every email the mailbox took from the start on, the
	// sign-ups' too, in sliding seconds.
	var sent []time.Time
	for _, m := range mails {
		if m.Sent.IsZero() {
			t.Fatal("the mailbox gives no send times; this test reads MiniStack's Timestamp")
		}
		if !m.Sent.Before(start) {
			sent = append(sent, m.Sent)
		}
	}
	if len(sent) < total {
		t.Fatalf("%d emails sent since the test began, want at least %d", len(sent), total)
	}
	busiest, at := busiestSecond(sent)
	if busiest > rate {
		t.Errorf("%d emails in the second from %s, more than SesMaxSendRate %d", busiest, at.Format(time.StampMilli), rate)
	}

	// The function's own count, from its EMF lines: the mail circuit never
	// opened; EmailsSent shows the lines were read.
	group := "/aws/lambda/" + output(t, "StackName") + "-notifications"
	var metrics map[string]float64
	testcloud.Eventually(t, time.Minute, "the notification function's metrics of the burst", func() bool {
		metrics = emfSums(t, logLines(t, group, start.Add(-time.Second)))
		return metrics["EmailsSent"] >= float64(total+customers)
	})
	if n := metrics["MailCircuitOpened"]; n != 0 {
		t.Errorf("MailCircuitOpened %v during the burst, want 0", n)
	}

	first, last := slices.MinFunc(sent, time.Time.Compare), slices.MaxFunc(sent, time.Time.Compare)
	t.Logf("%d customers signed up in %v; %d orders placed in %v (%d gateway throttles retried); the last order email sent %v after the first order was placed",
		customers, signedUp.Round(time.Millisecond), total, placed.Round(time.Millisecond), throttled.Load(), lastOrderSent.Sub(burst).Round(time.Millisecond))
	t.Logf("%d emails from %s to %s: %.2f a second on average, at most %d in any sliding second (SesMaxSendRate %d)",
		len(sent), first.Format(time.StampMilli), last.Format(time.StampMilli), float64(len(sent)-1)/last.Sub(first).Seconds(), busiest, rate)
	t.Logf("notification metrics: EmailsSent %v, MailCircuitOpened %v, MailOutOfTime %v, TransientFailures %v, SesSendRatePercent %.1f (sum), SesQuotaUsedPercent %.3f (last read); test took %v",
		metrics["EmailsSent"], metrics["MailCircuitOpened"], metrics["MailOutOfTime"], metrics["TransientFailures"],
		metrics["SesSendRatePercent"], metrics["SesQuotaUsedPercent"], time.Since(start).Round(time.Millisecond))
}

// shopper is a customer of the burst, at its own address.
type shopper struct {
	user
	addr string
}

// from adds the shopper's address to a request's headers: the local API
// takes the caller's address from X-Forwarded-For.
func (s shopper) from(headers ...string) []string {
	return append(headers, "X-Forwarded-For", s.addr)
}

// signUpFrom registers a customer from addr, verifies its email from the
// mailbox and logs it in, every request from addr.
func signUpFrom(t *testing.T, tag, addr string) shopper {
	t.Helper()
	s := shopper{user: user{Email: uniqueEmail(t, tag), Name: "Launch " + tag, Password: "correct horse battery staple"}, addr: addr}
	var reg struct{ ID string }
	expect(t, call(t, "POST", "/v1/auth/register", map[string]string{"email": s.Email, "password": s.Password, "name": s.Name}, s.from()...), 201).json(t, &reg)
	s.ID = reg.ID
	tok := linkToken(t, awaitMail(t, s.Email, verificationSubject), "/verify-email")
	expect(t, call(t, "POST", "/v1/auth/verify-email", map[string]string{"token": tok}, s.from()...), 204)
	var pair tokenPair
	expect(t, call(t, "POST", "/v1/auth/login", map[string]string{"email": s.Email, "password": s.Password}, s.from()...), 200).json(t, &pair)
	s.Access, s.Refresh, s.Device = pair.AccessToken, pair.RefreshToken, pair.DeviceToken
	return s
}

// order places one order and returns its id. A request the gateway
// throttled (429 too-many-requests, before any function ran) is sent again
// after its Retry-After, with the same Idempotency-Key, and counted.
func (s shopper) order(t *testing.T, key string, throttled *atomic.Int64) string {
	t.Helper()
	for {
		r := call(t, "POST", "/v1/orders", items("COF-ESP-250", 1), s.from(append(s.bearer(), "Idempotency-Key", key)...)...)
		if r.StatusCode == http.StatusTooManyRequests {
			if p := expectProblem(t, r, http.StatusTooManyRequests); strings.HasSuffix(p.Type, "#too-many-requests") {
				throttled.Add(1)
				wait, _ := strconv.Atoi(r.Header.Get("Retry-After"))
				time.Sleep(time.Duration(max(wait, 1)) * time.Second)
				continue
			}
		}
		var o orderDoc
		expect(t, r, http.StatusCreated).json(t, &o)
		return o.ID
	}
}

// bounded runs do(0) to do(n-1), at most limit at once. A do that fails
// its test ends its own goroutine only; the caller checks t.Failed.
func bounded(n, limit int, do func(i int)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, limit)
	for i := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			do(i)
		}()
	}
	wg.Wait()
}

// orderMails groups the emails about the shoppers' orders by order id: an
// email to a shopper whose subject names one of its orders.
func orderMails(mails []testcloud.Mail, shoppers []shopper, ids [][]string) map[string][]testcloud.Mail {
	owner := map[string]int{} // order id → shopper
	for c := range shoppers {
		for _, id := range ids[c] {
			owner[id] = c
		}
	}
	out := map[string][]testcloud.Mail{}
	for _, m := range mails {
		f := strings.Fields(m.Subject)
		if len(f) < 2 || f[0] != "Order" {
			continue
		}
		c, ok := owner[f[1]]
		if !ok || !slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, shoppers[c].Email) }) {
			continue
		}
		out[f[1]] = append(out[f[1]], m)
	}
	return out
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// busiestSecond is the most of times in any half-open second [t, t+1s),
// and where it starts (a busiest window can always start at one of them).
func busiestSecond(times []time.Time) (int, time.Time) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, time.Time.Compare)
	most, at, j := 0, time.Time{}, 0
	for i := range ts {
		for j < len(ts) && ts[j].Before(ts[i].Add(time.Second)) {
			j++
		}
		if j-i > most {
			most, at = j-i, ts[i]
		}
	}
	return most, at
}

// emfSums adds up, per metric, the values of the embedded-metric-format
// lines among a function's log lines (the last value, for the quota
// reading, which is a level rather than a count).
func emfSums(t *testing.T, lines []string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, l := range lines {
		if !strings.Contains(l, `"_aws"`) {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("EMF line is not JSON: %v\n%s", err, l)
		}
		for name, v := range doc {
			f, ok := v.(float64)
			if !ok || math.IsNaN(f) {
				continue
			}
			if name == "SesQuotaUsedPercent" {
				out[name] = f
				continue
			}
			out[name] += f
		}
	}
	return out
}
