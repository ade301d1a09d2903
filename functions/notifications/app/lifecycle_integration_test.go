//go:build integration

package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/internal/testcloud"
	shared "github.com/serverless-shop/backend/shared/events"
)

// lifecycleCase is an event of the order's life cycle and what its email
// must say.
type lifecycleCase struct {
	fixture string
	subject string
	text    []string // in the text part
	html    []string // in the HTML part
}

// lifecycleCases are the emails of the order's life cycle after its
// creation; the shop's reason carries HTML specials, which the HTML part
// must escape.
var lifecycleCases = []lifecycleCase{
	{fixture: "order_confirmed.json", subject: "is being prepared", text: []string{"we have accepted your order"}},
	{fixture: "order_shipped.json", subject: "shipped: UPS 1Z999AA10123456784",
		text: []string{"Tracking number: 1Z999AA10123456784", "Track your parcel: https://www.ups.com/track?tracknum=1Z999AA10123456784"},
		html: []string{`<a href="https://www.ups.com/track?tracknum=1Z999AA10123456784">`}},
	{fixture: "order_delivered.json", subject: "delivered", text: []string{"was delivered on"}},
	{fixture: "order_cancelled_by_shop.json", subject: "cancelled by the shop",
		text: []string{"Reason: The pen's nib arrived damaged from our supplier & we have no other in stock."},
		html: []string{"The pen&#39;s nib arrived damaged from our supplier &amp; we have no other in stock."}},
}

// lifecycleEvent is the fixture of c as event i of run, to an address of
// its own.
func lifecycleEvent(c lifecycleCase, run string, i int) (e shared.OrderEvent, addr string) {
	addr = fmt.Sprintf("life-%s-%d@example.com", run, i)
	fixtureBody(c.fixture, &e, func(e *shared.OrderEvent) {
		e.ID, e.CorrelationID = fmt.Sprintf("life-%s-%d", run, i), fmt.Sprintf("corr-life-%s-%d", run, i)
		e.Order.ID, e.Customer.Email = fmt.Sprintf("ord-life-%s-%d", run, i), addr
	})
	return e, addr
}

// checkLifecycleMail checks that addr received exactly one email, the one
// of c.
func checkLifecycleMail(t *testing.T, c lifecycleCase, addr, orderID string) {
	t.Helper()
	got := testcloud.MailTo(t, addr, "")
	if len(got) != 1 {
		t.Errorf("%s: %d emails to %s, want exactly 1", c.fixture, len(got), addr)
		return
	}
	m := got[0]
	if !strings.HasPrefix(m.Subject, "Order "+orderID+" ") || !strings.HasSuffix(m.Subject, c.subject) {
		t.Errorf("%s: subject %q, want Order %s ... %s", c.fixture, m.Subject, orderID, c.subject)
	}
	for _, want := range append([]string{"Hello Ada Lovelace,", orderID}, c.text...) {
		if c.fixture == "order_cancelled_by_shop.json" && want == "Hello Ada Lovelace," {
			want = "Hello Grace Hopper,"
		}
		if !strings.Contains(m.Text, want) {
			t.Errorf("%s: the text part lacks %q:\n%s", c.fixture, want, m.Text)
		}
	}
	for _, want := range c.html {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("%s: the HTML part lacks %q:\n%s", c.fixture, want, m.HTML)
		}
	}
}

// TestLifecycleMailedOnce puts each event of the order's life cycle on a
// queue of its own twice, the second time under another deduplication id
// (as a redrive or a replay would), and checks that the handler mails each
// exactly once, with what the customer must read: the tracking number and
// link of a shipment, the shop's reason escaped.
func TestLifecycleMailedOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	run := runID()
	addrs := make([]string, len(lifecycleCases))
	orders := make([]string, len(lifecycleCases))
	for i, c := range lifecycleCases {
		var e shared.OrderEvent
		e, addrs[i] = lifecycleEvent(c, run, i)
		orders[i] = e.Order.ID
		r.sendOrder(e)
		r.send(e.Order.ID, e.ID+"-dup", e)
	}
	r.poll(2 * time.Minute)
	for i, c := range lifecycleCases {
		checkLifecycleMail(t, c, addrs[i], orders[i])
	}
	r.wantMetrics(map[string]int{app.MetricSent: len(lifecycleCases), app.MetricDuplicates: len(lifecycleCases), app.MetricPoison: 0})
}

// TestLifecycleMailedOnceByTheStack does the same through the deployed
// stack: the events go on its order events queue, where the relay puts
// them, and the notification function as deployed (its layouts embedded in
// the binary) mails them.
func TestLifecycleMailedOnceByTheStack(t *testing.T) {
	q := sqs.NewFromConfig(testcloud.Config(t))
	queue := testcloud.Outputs(t)["OrderEventsQueueUrl"]
	if queue == "" {
		t.Fatal("the stack has no output OrderEventsQueueUrl")
	}
	run := runID()
	addrs := make([]string, len(lifecycleCases))
	orders := make([]string, len(lifecycleCases))
	for i, c := range lifecycleCases {
		var e shared.OrderEvent
		e, addrs[i] = lifecycleEvent(c, "stack-"+run, i)
		orders[i] = e.Order.ID
		body := fixtureBody(c.fixture, &shared.OrderEvent{}, func(x *shared.OrderEvent) { *x = e })
		for _, dedup := range []string{e.ID, e.ID + "-dup"} {
			if _, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String(queue), MessageBody: aws.String(body),
				MessageGroupId: aws.String(e.Order.ID), MessageDeduplicationId: aws.String(dedup),
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	testcloud.Eventually(t, 2*time.Minute, "an email to every customer", func() bool {
		for _, addr := range addrs {
			if len(testcloud.MailTo(t, addr, "")) == 0 {
				return false
			}
		}
		return true
	})
	testcloud.AwaitDrained(t, q, queue, 2*time.Minute) // the duplicates handled too
	for i, c := range lifecycleCases {
		checkLifecycleMail(t, c, addrs[i], orders[i])
	}
}
