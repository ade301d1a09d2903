//go:build integration

package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/functions/notifications/sesmail"
	"github.com/serverless-shop/backend/functions/notifications/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/outbox"
	"github.com/serverless-shop/backend/shared/sealed"
)

// rig is a notification handler wired to real local cloud services: its own
// FIFO queue with a dead-letter queue, its own dedupe table, SES and KMS.
type rig struct {
	t        *testing.T
	sqs      *sqs.Client
	queue    string
	dlq      string
	handler  *app.Handler
	metrics  bytes.Buffer
	sesCalls atomic.Int64
	sesOut   atomic.Bool // SES answers every send with throttling while set
	// asked is the backoff the handler asked for in all, in nanoseconds,
	// when the rig scales it down (rigOptions.fastBackoff).
	asked atomic.Int64
}

type rigOptions struct {
	failFirstSends int64  // SES answers the first n sends with a throttling error
	linkKey        string // the KMS key link tokens are sealed with; none for order events
	breaker        app.BreakerConfig
	// fastBackoff makes the handler's visibility changes take 1 s instead
	// of what it asked for, which r.asked adds up: the test-only time
	// scale that lets a test go through a message's whole retry schedule
	// (51 minutes) in seconds, on a real queue with a real redrive policy.
	fastBackoff bool
}

func newRig(t *testing.T, opt rigOptions) *rig {
	t.Helper()
	ctx := context.Background()
	cfg := testcloud.Config(t)
	out := testcloud.Outputs(t)
	r := &rig{t: t, sqs: sqs.NewFromConfig(cfg)}
	r.dlq = testcloud.NewFIFOQueue(t, r.sqs, map[string]string{"VisibilityTimeout": "180"})
	dlq, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &r.dlq, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	redrive, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlq.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], "maxReceiveCount": app.MaxReceiveCount})
	r.queue = testcloud.NewFIFOQueue(t, r.sqs, map[string]string{"VisibilityTimeout": "180", "RedrivePolicy": string(redrive)})

	db := dynamodb.NewFromConfig(cfg)
	table := testcloud.NewTable(t, db, testcloud.TableSpec{})
	mailer := ses.NewFromConfig(cfg, func(o *ses.Options) {
		o.RetryMaxAttempts = 1 // let the handler see SES's answer itself
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countAndFail", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if r.sesCalls.Add(1) <= opt.failFirstSends || r.sesOut.Load() {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{Code: "Throttling", Message: "injected: Maximum sending rate exceeded.", Fault: smithy.FaultClient}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	})
	var ids atomic.Int64
	handlerQueue := r.sqs
	if opt.fastBackoff {
		handlerQueue = sqs.NewFromConfig(cfg, func(o *sqs.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				return s.Initialize.Add(middleware.InitializeMiddlewareFunc("fastBackoff", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if v, ok := in.Parameters.(*sqs.ChangeMessageVisibilityInput); ok {
						r.asked.Add(int64(time.Duration(v.VisibilityTimeout) * time.Second))
						scaled := *v
						scaled.VisibilityTimeout = 1
						in.Parameters = &scaled
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
			})
		})
	}
	r.handler = app.New(app.Config{
		Dedupe:     store.New(db, table),
		Sender:     sesmail.NewSender(mailer, out["SenderEmail"], out["EmailConfigurationSetName"]),
		Renderer:   mail.NewRenderer(),
		Opener:     sealed.NewOpener(kms.NewFromConfig(cfg), opt.linkKey),
		AppBaseURL: appBaseURL,
		Queue:      handlerQueue,
		QueueURL:   r.queue,
		DLQURL:     r.dlq,
		Metrics:    metrics.New(&r.metrics, "notifications"),
		Log:        logging.New(io.Discard, "notifications-test"),
		NewID:      func() string { return fmt.Sprint("owner-", ids.Add(1)) },
		Breaker:    opt.breaker,
		Now:        time.Now,
	})
	return r
}

// send enqueues body (a string as it is, anything else as JSON) as the
// relay does: in group, deduplicated by dedupID. The same event under
// another deduplication id is how a duplicate gets past FIFO deduplication.
func (r *rig) send(group, dedupID string, body any) {
	r.t.Helper()
	text, ok := body.(string)
	if !ok {
		b, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		text = string(b)
	}
	_, err := r.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: &r.queue, MessageBody: aws.String(text),
		MessageGroupId: aws.String(group), MessageDeduplicationId: aws.String(dedupID),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			outbox.AttrCorrelationID: {DataType: aws.String("String"), StringValue: aws.String("corr-" + dedupID)},
		},
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// sendOrder enqueues an order event in its order's group.
func (r *rig) sendOrder(e shared.OrderEvent) { r.send(e.Order.ID, e.ID, e) }

// poll plays the part of Lambda's SQS event source mapping: receive up to
// ten messages, invoke the handler, delete what it did not report as
// failed. It runs until the queue holds no message at all, visible, in
// flight (a retry waiting out its backoff) or delayed, and fails the test
// if that takes longer than deadline.
func (r *rig) poll(deadline time.Duration) {
	r.t.Helper()
	testcloud.Eventually(r.t, deadline, "the queue to drain", func() bool {
		return len(r.pollOnce()) == 0 && testcloud.Depth(r.t, r.sqs, r.queue).Empty()
	})
}

// pollOnce receives up to ten messages, invokes the handler with them and
// deletes what it did not report as failed, as Lambda's event source
// mapping does once. It returns the messages received.
func (r *rig) pollOnce() []sqstypes.Message {
	r.t.Helper()
	ctx := context.Background()
	out, err := r.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &r.queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		return nil
	}
	ev := events.SQSEvent{}
	for _, m := range out.Messages {
		rec := events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body), Attributes: m.Attributes, MessageAttributes: map[string]events.SQSMessageAttribute{}}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType)}
		}
		ev.Records = append(ev.Records, rec)
	}
	resp, err := r.handler.Handle(ctx, ev)
	if err != nil {
		r.t.Fatal(err)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range out.Messages {
		if !failed[aws.ToString(m.MessageId)] {
			if _, err := r.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &r.queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	return out.Messages
}

// metricTotal sums a metric over the EMF lines the handler wrote.
func (r *rig) metricTotal(name string) int {
	total := 0
	for _, line := range strings.Split(r.metrics.String(), "\n") {
		var doc map[string]any
		if json.Unmarshal([]byte(line), &doc) == nil {
			if v, ok := doc[name].(float64); ok {
				total += int(v)
			}
		}
	}
	return total
}

// wantMetrics checks the totals of metrics.
func (r *rig) wantMetrics(want map[string]int) {
	r.t.Helper()
	for name, n := range want {
		if got := r.metricTotal(name); got != n {
			r.t.Errorf("metric %s = %d, want %d", name, got, n)
		}
	}
}

// deadLetters drains the dead-letter queue and checks that it held n
// messages, each with a reason that says because, and returns them.
func (r *rig) deadLetters(n int, because string) []sqstypes.Message {
	r.t.Helper()
	dead := testcloud.Drain(r.t, r.sqs, r.dlq)
	if len(dead) != n {
		r.t.Fatalf("%d messages in the dead-letter queue, want %d", len(dead), n)
	}
	for _, m := range dead {
		if reason := aws.ToString(m.MessageAttributes[app.AttrPoisonReason].StringValue); !strings.Contains(reason, because) {
			r.t.Errorf("dead letter reason = %q, want it to say %q", reason, because)
		}
	}
	return dead
}

// event returns the order.created fixture as event i of this run, for a
// customer address of its own.
func event(run string, i int) (e shared.OrderEvent) {
	fixtureBody("order_created.json", &e, func(e *shared.OrderEvent) {
		e.ID, e.CorrelationID = fmt.Sprintf("ev-%s-%04d", run, i), fmt.Sprintf("corr-%s-%04d", run, i)
		e.Order.ID, e.Customer.Email = fmt.Sprintf("ord-%s-%04d", run, i), fmt.Sprintf("n-%s-%04d@example.com", run, i)
	})
	return e
}

func runID() string { return strconv.FormatInt(time.Now().UnixNano(), 36) }

// TestManyEventsOnceEach pushes N valid events with injected duplicates
// (the same event under another deduplication id passes FIFO
// deduplication, as a redrive or a replay would; the dedupe table must
// catch it) and poison messages (bad JSON, an unknown type, an unknown
// version) through the handler, with SES failing the first sends for now,
// and counts the outcome: each event mailed once (those SES failed on
// retry), each poison dead-lettered with its reason.
func TestManyEventsOnceEach(t *testing.T) {
	const n, duplicates, poison, throttled = 240, 40, 6, 3
	r := newRig(t, rigOptions{failFirstSends: throttled})
	run := runID()
	for i := range n {
		e := event(run, i)
		r.sendOrder(e)
		if i < duplicates {
			r.send(e.Order.ID, e.ID+"-dup", e)
		}
		if i%(n/poison) == 0 {
			bad := e
			bad.ID, bad.Version = "v9-"+e.ID, 9
			r.send("poison", fmt.Sprint("poison-", i), []any{`{"type":"order.created","version":1,"id":"broken"`, `{"type":"order.refunded","version":1,"id":"p"}`, bad}[i/(n/poison)%3])
		}
	}
	r.poll(5 * time.Minute)

	// Every address of this run is one event's: mailed once each, no extra.
	addrs, total := map[string]bool{}, 0
	for _, m := range testcloud.Mailbox(t) {
		for _, to := range m.To {
			if strings.HasPrefix(to, "n-"+run+"-") {
				addrs[to], total = true, total+1
			}
		}
	}
	mailed, extra := len(addrs), total-len(addrs)
	dead := len(r.deadLetters(poison, "invalid event"))
	t.Logf("valid events %d, duplicates injected %d, poison injected %d -> emails %d (extra %d), duplicates suppressed %d, dead-lettered %d",
		n, duplicates, poison, mailed, extra, r.metricTotal(app.MetricDuplicates), dead)
	if mailed != n || extra != 0 || r.metricTotal(app.MetricDuplicates) != duplicates {
		t.Fatalf("want %d emails, 0 extra, %d duplicates suppressed", n, duplicates)
	}
	r.wantMetrics(map[string]int{app.MetricSent: n, app.MetricPoison: poison, app.MetricRetried: throttled})
}
