//go:build integration && faults

package faults_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/internal/faults"
	"github.com/serverless-shop/backend/internal/testcloud"
)

// roles are the functions the proxy stands in front of, by the logical id
// prefix of their function name. The relay is the orders relay: the
// campaign's traffic is orders (customers register before the faults).
var roles = map[string]string{
	"users": "UsersFunction", "orders": "OrdersFunction", "authorizer": "AuthorizerFunction",
	"relay": "OrdersRelayFunction", "notifications": "NotificationsFunction",
}

// TestFaultCampaign drives orders through the deployed stack while the
// proxy and the campaign inject faults, then prints and checks the
// account (docs/faults.md). make faults runs it long; make test bounded.
func TestFaultCampaign(t *testing.T) {
	testcloud.Require(t, testcloud.FunctionsReachHostLoopback,
		"the faults happen at a proxy on this machine's loopback, which the functions' AWS_ENDPOINT_URL points at")
	ctx := context.Background()
	out := testcloud.Outputs(t)
	cfg := testcloud.Config(t)
	// The campaign's settings, from the environment (docs/faults.md).
	seed := testcloud.Env(t, "FAULT_SEED", uint64(time.Now().UnixNano()%1_000_000_007),
		func(v string) (uint64, error) { return strconv.ParseUint(v, 10, 64) })
	duration := testcloud.Env(t, "FAULT_DURATION", 10*time.Minute, time.ParseDuration)
	outage := testcloud.Env(t, "FAULT_OUTAGE", 4*time.Minute, time.ParseDuration)
	drain := testcloud.Env(t, "FAULT_DRAIN", 15*time.Minute, time.ParseDuration)
	minFaults := testcloud.Env(t, "FAULT_MIN", 1000, strconv.Atoi)
	workers := testcloud.Env(t, "FAULT_WORKERS", 4, strconv.Atoi)
	duplicates := testcloud.Env(t, "FAULT_DUPLICATES", 4, strconv.Atoi) // event copies sent every 2 s
	ordersPerHr, _ := strconv.Atoi(out["OrdersPerHour"])
	if ordersPerHr <= 0 {
		t.Fatalf("stack output OrdersPerHour = %q", out["OrdersPerHour"])
	}
	// Enough customers that their hourly quotas outlast the traffic
	// (make test deploys a quota of 20 so a test can reach it).
	nCustomers := testcloud.Env(t, "FAULT_CUSTOMERS", min(60, max(8, 800/ordersPerHr)), strconv.Atoi)
	began := time.Now()
	progress = func(format string, args ...any) {
		fmt.Printf("fault campaign [%s]: %s\n", time.Since(began).Round(time.Second), fmt.Sprintf(format, args...))
	}
	fmt.Printf("fault campaign: seed %d (repeat with FAULT_SEED=%d), traffic %s, outages %s, at least %d faults, %d workers, %d customers\n",
		seed, seed, duration, outage, minFaults, workers, nCustomers)

	apiURL, err := os.ReadFile(filepath.Join(testcloud.StateDir(), "api-url"))
	if err != nil {
		t.Fatalf("no deployed stack: %v", err)
	}
	client := newAPI(strings.TrimSpace(string(apiURL)))
	plan := faults.NewPlan(seed, faults.DefaultRates)
	if os.Getenv("LOCAL_CLOUD") != "localstack" {
		// MiniStack's stream mappings ignore ReportBatchItemFailures and
		// move past a batch whose records the relay reported failed (on
		// AWS the mapping retries from the first failed record): the
		// relay's SDK must get each batch through within its three
		// attempts (docs/local-cloud.md).
		plan.Limit("relay", "SendMessageBatch", 2)
	}
	ledger := faults.NewLedger()
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	proxy := faults.NewProxy(testcloud.Endpoint(), plan, ledger, 15*time.Second, log)
	t.Cleanup(func() { _ = proxy.Close() })
	lam := lambda.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)

	// Customers register without faults: their verification mail is not
	// what the campaign measures.
	customers := registerCustomers(ctx, t, client, out["AppBaseUrl"], nCustomers+1)
	staff := customers[nCustomers]
	customers = customers[:nCustomers]
	makeStaff(ctx, t, client, staff)
	progress("%d customers and a staff member registered and verified", len(customers))

	pointFunctionsAt(ctx, t, lam, proxy)
	before := deadLetterIDs(ctx, t, q, out)

	// Traffic with faults.
	plan.Start()
	start := time.Now()
	relayStart := start.Add(duration / 10)
	sesStart := relayStart.Add(outage + duration/20)
	plan.SetSESOutage(faults.Window{Start: sesStart, End: sesStart.Add(outage)})
	traffic, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	var wg sync.WaitGroup
	wg.Go(func() { // the relay outage
		select {
		case <-time.After(time.Until(relayStart)):
		case <-traffic.Done():
			return
		}
		testcloud.SetMapping(ctx, t, lam, out["OrdersRelayEventSourceMappingId"], false)
		ledger.Fault(faults.RelayOutage)
		progress("relay outage for %s (its stream mapping disabled)", outage)
		select {
		case <-time.After(outage):
		case <-traffic.Done():
		}
		testcloud.SetMapping(ctx, t, lam, out["OrdersRelayEventSourceMappingId"], true)
		progress("relay back (stream mapping enabled)")
	})
	wg.Go(func() { duplicate(traffic, t, q, plan, ledger, duplicates) })

	results := drive(traffic, client, customers, staff, plan, workers, func() bool {
		elapsed := time.Since(start)
		return elapsed >= 3*duration || (elapsed >= duration && ledger.TotalFaults() >= minFaults)
	})
	stopTraffic()
	wg.Wait()
	testcloud.SetMapping(ctx, t, lam, out["OrdersRelayEventSourceMappingId"], true)
	progress("traffic stopped after %s with %d faults; draining", time.Since(start).Round(time.Second), ledger.TotalFaults())
	if path := os.Getenv("FAULT_DRAINING"); path != "" {
		// For make test, which starts the launch-day checks' own local
		// cloud meanwhile: the drain only waits.
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Errorf("FAULT_DRAINING: %v", err)
		}
	}

	// Drain: faults go on for at most a minute more (half the traffic's
	// duration if shorter; or to the end of the SES outage), or until every
	// acknowledged order and cancellation has its email or lies in a
	// dead-letter queue; then they stop, and the waiting goes on until that
	// holds and the events queue is empty. One deadline bounds it all.
	emails := map[string]bool{}
	for _, u := range customers {
		emails[u.Email] = true
	}
	var dead []faults.DeadLetter
	var mails map[faults.MailKey]int
	seenDead := map[string]map[string]sqstypes.Message{} // a read misses what the last one received: it is invisible for seconds
	read := func() {
		mails = orderMails(t, emails)
		dead = deadLetters(ctx, t, q, out, before, seenDead)
	}
	// accounted: no acknowledged work without its email, by the account's
	// rule (the traffic has stopped: results no longer change).
	accounted := func() bool {
		read()
		return len(faults.Reckon(faults.Observed{
			Acked: results.acked, AckedCancels: results.cancels, Transitions: results.transitions,
			Mails: mails, Rejected: rejectedMails(ledger.Snapshot()), DeadLetters: dead,
		}).WithoutEmail) == 0
	}
	drainStart := time.Now()
	deadline := drainStart.Add(drain)
	stopFaults := sync.OnceValue(func() time.Duration {
		plan.Stop()
		return time.Since(drainStart)
	})
	for done := accounted(); !done && time.Now().Before(deadline); done = accounted() {
		if time.Since(drainStart) > min(time.Minute, duration/2) && time.Now().After(sesStart.Add(outage)) {
			stopFaults()
		}
		time.Sleep(5 * time.Second) // the polling interval of a deadline-bound waiter
	}
	faultsStopped := stopFaults()
	for !testcloud.Depth(t, q, out["OrderEventsQueueUrl"]).Empty() && time.Now().Before(deadline) {
		time.Sleep(2 * time.Second) // likewise
	}
	read()
	progress("drained in %s (faults stopped after %s)", time.Since(drainStart).Round(time.Second), faultsStopped.Round(time.Second))

	snap := ledger.Snapshot()
	stored, cancelled, reached := storedOrders(ctx, t, dynamodb.NewFromConfig(cfg), out["OrdersTableName"], customers)
	published := map[faults.MailKey]bool{}
	for _, e := range snap.Events {
		if k, ok := faults.EventMail([]byte(e.Body)); ok && stored[k.OrderID] {
			published[k] = true
		}
	}
	after := map[faults.MailKey]bool{}
	for m := range snap.AcceptedUnanswered {
		if k, ok := faults.MailOf(m.Subject); ok {
			after[k] = true
		}
	}
	for id := range snap.FinishFailed {
		if k, ok := faults.EventMail([]byte(snap.Events[id].Body)); ok {
			after[k] = true
		}
	}
	client.mu.Lock()
	acc := faults.Reckon(faults.Observed{
		Seed: seed, MinFaults: minFaults, Faults: snap.Faults,
		Requests: client.requests, Statuses: client.statuses, TransitionStatuses: client.staff,
		Acked: results.acked, AckedCancels: results.cancels,
		Stored: stored, Cancelled: cancelled, Published: published,
		Transitions: results.transitions, Reached: reached,
		TransitionsSent: results.sent, Repeats: results.repeats, Refused: results.refused,
		Mails: mails, Rejected: rejectedMails(snap), AfterSESAccepted: after, DeadLetters: dead,
	})
	client.mu.Unlock()
	fmt.Println()
	acc.Print(os.Stdout)
	for _, v := range acc.Violations() {
		t.Errorf("fault campaign: %s", v)
	}
}

// progress prints a line of the campaign's progress with its elapsed time.
var progress = func(format string, args ...any) { fmt.Printf("fault campaign: "+format+"\n", args...) }

func rejectedMails(s faults.Snapshot) map[faults.MailKey]int {
	out := map[faults.MailKey]int{}
	for m, n := range s.Rejected {
		if k, ok := faults.MailOf(m.Subject); ok {
			out[k] += n
		}
	}
	return out
}

// orderMails counts the order emails sent to the campaign's customers, read
// through the harness's mailbox adapter.
func orderMails(t *testing.T, customers map[string]bool) map[faults.MailKey]int {
	out := map[faults.MailKey]int{}
	for _, m := range testcloud.Mailbox(t) {
		if k, ok := faults.MailOf(m.Subject); ok && len(m.To) > 0 && customers[strings.ToLower(m.To[0])] {
			out[k]++
		}
	}
	return out
}

func registerCustomers(ctx context.Context, t *testing.T, c *api, appBaseURL string, n int) []*customer {
	prefix := appBaseURL + "/verify-email?token="
	awaitToken := func(email string) (string, error) {
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			for _, m := range testcloud.MailTo(t, email, "Confirm your email address") {
				for _, f := range strings.Fields(m.Text) {
					if tok, ok := strings.CutPrefix(f, prefix); ok {
						return tok, nil
					}
				}
			}
			time.Sleep(500 * time.Millisecond)
		}
		return "", fmt.Errorf("no verification mail for %s within 3 minutes", email)
	}
	out := make([]*customer, n)
	errs := testcloud.Parallel(n, func(i int) error {
		u, err := c.register(ctx, fmt.Sprintf("campaign%d", i), awaitToken)
		out[i] = u
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("register customers: %v", err)
	}
	return out
}

// makeStaff makes the verified account u staff with make staff, as an
// operator does (ENV=local, EMULATOR_PORT naming the cloud, as e2e's
// tests do), and logs it in again: the promotion ended its sessions.
func makeStaff(ctx context.Context, t *testing.T, c *api, u *customer) {
	cmd := exec.CommandContext(ctx, "make", "-s", "--no-print-directory", "staff", "ENV=local", "EMAIL="+u.Email)
	cmd.Dir = testcloud.RepoRoot()
	cmd.Env = append(os.Environ(), "EMULATOR_PORT="+testcloud.Port())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make staff EMAIL=%s: %v: %s", u.Email, err, out)
	}
	if err := c.login(ctx, u); err != nil {
		t.Fatalf("staff member's login: %v", err)
	}
}

// pointFunctionsAt gives every function of roles its own proxy listener as
// its AWS endpoint, and puts the endpoints back when the test ends.
func pointFunctionsAt(ctx context.Context, t *testing.T, lam *lambda.Client, proxy *faults.Proxy) {
	var names []string
	for p := lambda.NewListFunctionsPaginator(lam, &lambda.ListFunctionsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list functions: %v", err)
		}
		for _, f := range page.Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	for role, logical := range roles {
		i := slices.IndexFunc(names, func(n string) bool { return strings.Contains(n, "-"+logical+"-") })
		if i < 0 {
			t.Fatalf("no function %s deployed", logical)
		}
		name := names[i]
		endpoint, err := proxy.Listen(role)
		if err != nil {
			t.Fatal(err)
		}
		original := setEndpoint(ctx, t, lam, name, endpoint)
		t.Cleanup(func() { setEndpoint(context.Background(), t, lam, name, original) })
	}
}

// setEndpoint sets a function's AWS_ENDPOINT_URL, waits for the update and
// returns the value it had.
func setEndpoint(ctx context.Context, t *testing.T, lam *lambda.Client, name, endpoint string) string {
	conf, err := lam.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &name})
	if err != nil {
		t.Fatalf("function %s: %v", name, err)
	}
	vars := map[string]string{}
	if conf.Environment != nil {
		maps.Copy(vars, conf.Environment.Variables)
	}
	original := vars["AWS_ENDPOINT_URL"]
	vars["AWS_ENDPOINT_URL"] = endpoint
	if _, err := lam.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: &name, Environment: &lambdatypes.Environment{Variables: vars},
	}); err != nil {
		t.Fatalf("point %s at %s: %v", name, endpoint, err)
	}
	if err := lambda.NewFunctionUpdatedV2Waiter(lam).Wait(ctx, &lambda.GetFunctionInput{FunctionName: &name}, 2*time.Minute); err != nil {
		t.Fatalf("update of %s: %v", name, err)
	}
	return original
}

// results are the orders, cancellations and staff transitions the clients
// had acknowledged.
type results struct {
	mu          sync.Mutex
	acked       map[string]bool
	cancels     map[string]bool
	transitions map[faults.MailKey]bool // What: one of faults.StaffWhats
	sent        int                     // staff transition requests (each with its retries)
	repeats     int                     // of those, repeats of one transition
	refused     []string                // transitions answered 4xx
}

var skus = []string{"COF-ESP-250", "COF-ETH-250", "TEA-SENCHA-100", "GIFT-SAMPLER"}

// drive runs the workers until done says so or every customer's quota is
// used. One in four workers (at least one) is the staff member, the others
// customers: each customer places orders, half with an Idempotency-Key,
// cancels one in ten of those acknowledged, and hands half of the others
// to staff (when staff is not busy), who take them along the life cycle
// (lifeCycle). Orders either customer or staff cancel, never both: a
// staff cancel finds an order the customer cancelled done (200), and its
// email is the customer's.
func drive(ctx context.Context, c *api, customers []*customer, staff *customer, plan *faults.Plan, workers int, done func() bool) *results {
	r := &results{acked: map[string]bool{}, cancels: map[string]bool{}, transitions: map[faults.MailKey]bool{}}
	staffWorkers := max(1, workers/4)
	toStaff := make(chan string, 16)
	var next atomic.Int64
	var buyers, staffs sync.WaitGroup
	for range max(1, workers-staffWorkers) {
		buyers.Go(func() {
			for ctx.Err() == nil && !done() {
				u := customers[int(next.Add(1))%len(customers)]
				if u.overQuota.Load() {
					if !slices.ContainsFunc(customers, func(u *customer) bool { return !u.overQuota.Load() }) {
						return
					}
					continue
				}
				id := c.placeOrder(ctx, u, plan.Float64() < 0.5, []map[string]any{{"sku": skus[plan.Intn(len(skus))], "quantity": 1 + plan.Intn(3)}})
				if id == "" {
					continue
				}
				r.mu.Lock()
				r.acked[id] = true
				r.mu.Unlock()
				if plan.Float64() < 0.1 {
					if c.cancel(ctx, u, id) {
						r.mu.Lock()
						r.cancels[id] = true
						r.mu.Unlock()
					}
				} else if plan.Float64() < 0.5 {
					select {
					case toStaff <- id:
					default: // staff are busy
					}
				}
			}
		})
	}
	for range staffWorkers {
		staffs.Go(func() {
			for id := range toStaff {
				if ctx.Err() == nil && !done() {
					r.lifeCycle(ctx, c, staff, plan, id)
				}
			}
		})
	}
	buyers.Wait()
	close(toStaff)
	staffs.Wait()
	return r
}

// lifeCycle takes order id along a path of staff's transitions drawn from
// plan: cancelled by the shop while pending (1 in 8), or confirmed and
// then cancelled by the shop (1 in 8), left confirmed (1 in 8), shipped
// and left (1 in 8) or delivered (1 in 2). A transition is sent only once
// the one before it was acknowledged. One in ten is sent three times at
// once, one in ten again after its answer: the repeats must be 200 and
// cause no second email.
func (r *results) lifeCycle(ctx context.Context, c *api, staff *customer, plan *faults.Plan, id string) {
	path := plan.Float64()
	step := func(action, what string, body any) bool {
		copies, again := 1, false
		switch u := plan.Float64(); {
		case u < 0.1:
			copies = 3
		case u < 0.2:
			again = true
		}
		answers := make([]answer, copies)
		var wg sync.WaitGroup
		for i := range copies {
			wg.Go(func() { answers[i] = c.transition(ctx, staff, id, action, body) })
		}
		wg.Wait()
		acked := slices.ContainsFunc(answers, func(a answer) bool { return a.status/100 == 2 })
		if acked && again {
			answers = append(answers, c.transition(ctx, staff, id, action, body))
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.sent += len(answers)
		r.repeats += len(answers) - 1
		for _, a := range answers {
			if a.status/100 == 4 {
				r.refused = append(r.refused, fmt.Sprintf("%s %s: %s", id, action, a))
			}
		}
		if acked {
			r.transitions[faults.MailKey{OrderID: id, What: what}] = true
		}
		return acked
	}
	shopCancel := func() {
		step("cancel", faults.ShopCancelled, map[string]string{"reason": "The roastery could not fill this order"})
	}
	if path < 0.125 {
		shopCancel()
		return
	}
	if !step("confirm", faults.Confirmed, nil) {
		return
	}
	switch {
	case path < 0.25:
		shopCancel()
		return
	case path < 0.375:
		return
	}
	shipment := map[string]string{"carrier": "DHL", "trackingNumber": "CAMPAIGN-" + id}
	if !step("ship", faults.Shipped, shipment) || path < 0.5 {
		return
	}
	step("deliver", faults.Delivered, nil)
}

// duplicate sends, every two seconds, copies of up to copies events the
// relay published, shuffled, to the events queue again, each with a new
// deduplication id so that SQS takes it: duplicate and out-of-order
// deliveries that only the notification function's dedupe can absorb.
func duplicate(ctx context.Context, t *testing.T, q *sqs.Client, plan *faults.Plan, ledger *faults.Ledger, copies int) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		snap := ledger.Snapshot()
		for i := range min(copies, len(snap.EventOrder)) { // none before the first event
			e := snap.Events[snap.EventOrder[plan.Intn(len(snap.EventOrder))]]
			attrs := map[string]sqstypes.MessageAttributeValue{}
			for k, v := range e.Attributes {
				attrs[k] = sqstypes.MessageAttributeValue{DataType: aws.String(v.DataType), StringValue: aws.String(v.StringValue)}
			}
			_, err := q.SendMessage(ctx, &sqs.SendMessageInput{
				QueueUrl: aws.String(e.QueueURL), MessageBody: aws.String(e.Body), MessageGroupId: aws.String(e.Group),
				MessageDeduplicationId: aws.String(fmt.Sprintf("dup-%d-%d", time.Now().UnixNano(), i)),
				MessageAttributes:      attrs,
			})
			if err == nil {
				ledger.Fault(faults.DuplicateDelivery)
			} else if ctx.Err() == nil {
				t.Logf("duplicate delivery: %v", err)
			}
		}
	}
}

// deadLetterIDs reads the messages in the dead-letter queues before the
// campaign, by id, so that the account counts only its own.
func deadLetterIDs(ctx context.Context, t *testing.T, q *sqs.Client, out map[string]string) map[string]sqstypes.Message {
	seen := map[string]sqstypes.Message{}
	for _, url := range []string{out["OrderEventsDLQUrl"], out["RelayDeadLetterQueueUrl"]} {
		receiveAll(ctx, t, q, url, seen)
	}
	return seen
}

// receiveAll reads every message of a queue without consuming it: each is
// received under a short visibility timeout and left there. The messages
// are added to seen, by id, which a caller that reads again keeps: the
// messages the last read received stay invisible for a few seconds.
func receiveAll(ctx context.Context, t *testing.T, q *sqs.Client, url string, seen map[string]sqstypes.Message) {
	for empty := 0; empty < 2; {
		o, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 4, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("read dead-letter queue: %v", err)
		}
		fresh := 0
		for _, m := range o.Messages {
			if _, ok := seen[aws.ToString(m.MessageId)]; !ok {
				fresh++
				seen[aws.ToString(m.MessageId)] = m
			}
		}
		if fresh == 0 {
			empty++
		}
	}
}

// deadLetters reads the campaign's dead-lettered messages with their
// reasons: the notification function's poison (poisonReason attribute) or
// the redrive policy's (receive count exceeded); the relay's poison
// (reason in the body) or its stream mapping's failure records. seen holds
// each queue's messages read so far, by URL.
func deadLetters(ctx context.Context, t *testing.T, q *sqs.Client, out map[string]string, before map[string]sqstypes.Message, seen map[string]map[string]sqstypes.Message) []faults.DeadLetter {
	var dead []faults.DeadLetter
	read := func(url string) map[string]sqstypes.Message {
		if seen[url] == nil {
			seen[url] = map[string]sqstypes.Message{}
		}
		receiveAll(ctx, t, q, url, seen[url])
		return seen[url]
	}
	for id, m := range read(out["OrderEventsDLQUrl"]) {
		if _, ok := before[id]; ok {
			continue
		}
		k, _ := faults.EventMail([]byte(aws.ToString(m.Body)))
		reason := "redrive policy: maxReceiveCount receives failed"
		if a, ok := m.MessageAttributes["poisonReason"]; ok {
			reason = "poison: " + aws.ToString(a.StringValue)
		}
		dead = append(dead, faults.DeadLetter{Queue: "notifications", OrderID: k.OrderID, What: k.What, Reason: reason})
	}
	for id, m := range read(out["RelayDeadLetterQueueUrl"]) {
		if _, ok := before[id]; ok {
			continue
		}
		var rec struct {
			Reason, EventType, Group string
			PayloadBase64            string                     `json:"payloadBase64"`
			RequestContext           struct{ Condition string } `json:"requestContext"`
		}
		_ = json.Unmarshal([]byte(aws.ToString(m.Body)), &rec)
		d := faults.DeadLetter{Queue: "relay", Reason: "poison: " + rec.Reason}
		if rec.Reason == "" {
			d.Reason = "stream mapping gave up: " + rec.RequestContext.Condition
		} else {
			// The event as the service wrote it says who cancelled.
			payload, _ := base64.StdEncoding.DecodeString(rec.PayloadBase64)
			k, ok := faults.EventMail(payload)
			if !ok {
				k, _ = faults.EventTypeMail(rec.Group, rec.EventType, "")
			}
			d.OrderID, d.What = k.OrderID, k.What
		}
		dead = append(dead, d)
	}
	return dead
}

// reachedBy names the staff transition that leads to each status: the
// emails they cause.
var reachedBy = map[string]string{"CONFIRMED": faults.Confirmed, "SHIPPED": faults.Shipped, "DELIVERED": faults.Delivered}

// storedOrders scans the orders table for the campaign customers' orders,
// the cancelled ones, and the staff transitions their histories show (a
// cancellation by staff says so in cancelledBy).
func storedOrders(ctx context.Context, t *testing.T, db *dynamodb.Client, table string, customers []*customer) (stored, cancelled map[string]bool, reached map[faults.MailKey]bool) {
	ours := map[string]bool{}
	for _, u := range customers {
		ours["CUSTOMER#"+u.ID] = true
	}
	stored, cancelled, reached = map[string]bool{}, map[string]bool{}, map[faults.MailKey]bool{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName:                 &table,
		FilterExpression:          aws.String("begins_with(SK, :o)"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":o": &ddbtypes.AttributeValueMemberS{Value: "ORDER#"}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("scan orders: %v", err)
		}
		for _, item := range page.Items {
			pk, _ := item["PK"].(*ddbtypes.AttributeValueMemberS)
			id, _ := item["id"].(*ddbtypes.AttributeValueMemberS)
			st, _ := item["status"].(*ddbtypes.AttributeValueMemberS)
			if pk == nil || id == nil || !ours[pk.Value] {
				continue
			}
			stored[id.Value] = true
			if st != nil && st.Value == "CANCELLED" {
				cancelled[id.Value] = true
				if by, _ := item["cancelledBy"].(*ddbtypes.AttributeValueMemberS); by != nil && by.Value == "staff" {
					reached[faults.MailKey{OrderID: id.Value, What: faults.ShopCancelled}] = true
				}
			}
			history, _ := item["history"].(*ddbtypes.AttributeValueMemberL)
			for _, h := range historyOf(history) {
				if what, ok := reachedBy[h]; ok {
					reached[faults.MailKey{OrderID: id.Value, What: what}] = true
				}
			}
		}
	}
	return stored, cancelled, reached
}

// historyOf lists the statuses of an order item's history: a list of maps
// whose status the store's marshalling names Status.
func historyOf(l *ddbtypes.AttributeValueMemberL) []string {
	if l == nil {
		return nil
	}
	var out []string
	for _, v := range l.Value {
		m, _ := v.(*ddbtypes.AttributeValueMemberM)
		if m == nil {
			continue
		}
		for _, name := range []string{"Status", "status"} {
			if st, ok := m.Value[name].(*ddbtypes.AttributeValueMemberS); ok {
				out = append(out, st.Value)
			}
		}
	}
	return out
}
