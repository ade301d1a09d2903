package app_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/sealed"
)

const (
	queueURL   = "https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo"
	dlqURL     = "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq.fifo"
	appBaseURL = "https://shop.example.com"
	// sealedPrefix marks the fake sealed tokens the world opens
	// ("sealed:<token>"); anything else never opens, like a corrupt
	// ciphertext.
	sealedPrefix = "sealed:"
)

var now = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// Errors the fakes return, worded as the AWS SDK, the sender and the opener
// word them.
var (
	errThrottled = errors.New("ProvisionedThroughputExceededException: slow down")
	errNetwork   = errors.New("send email: dial tcp: i/o timeout")
	errRejected  = fmt.Errorf("%w: MessageRejected: address blacklisted", app.ErrPermanent)
	errQueue     = errors.New("AWS.SimpleQueueService.NonExistentQueue")
	errKMS       = errors.New("open: operation error KMS: Decrypt, KMSInternalException: internal error")
	errWrongKey  = fmt.Errorf("%w: IncorrectKeyException", sealed.ErrCannotOpen)
)

type finish struct{ eventID, owner, status, messageID, detail string }

type sent struct {
	email mail.Email
	tags  []app.Tag
}

type openCall struct {
	sealed string
	ec     map[string]string
}

// world is the one fake of every port of the handler: the dedupe table,
// SES, KMS, SQS, and, when a test sets its pacer to itself, the pacer. It
// answers as its fields say and records what the handler did, in order, as
// a trace ("claim evt-1", "open evt-1", "send ord-1", "SENT evt-1",
// "release evt-1", "dlq m1", "delay m1", "settle"). It fails the test on a
// call no handler may make: a claim off the handler's clock or under an
// owner not fresh from NewID, a finish or release by another owner than
// the claim's, a dead letter that is not the message with its reason, a
// visibility change of another queue or message.
type world struct {
	t                          *testing.T
	claimErr                   map[string]error // by event id
	sendErr                    map[string]error // by mailKey
	openErr                    map[string]error // by event id
	sesErr                     error            // every send's answer, when set
	finishErr                  error
	releaseErr, dlqErr, visErr error
	clock                      time.Time // the handler's clock; now when zero
	breaker                    app.BreakerConfig
	pacer                      app.Pacer // nil, or the world (see Do)
	quota                      app.Quota
	inTime, turns              int  // as a pacer: InTime's true answers, the sends Do lets through
	settled                    bool // as a pacer: Settle's answer

	ids      int
	owners   map[string]string            // event id → owner of its claim
	records  map[string]events.SQSMessage // the batch, by message id
	trace    []string
	finishes []finish
	sent     []sent
	opens    []openCall
	dlq      []*sqs.SendMessageInput
	delays   map[string]int32 // visibility timeouts by message id
	logs     bytes.Buffer
	metrics  bytes.Buffer
}

func newWorld(t *testing.T) *world { return &world{t: t, owners: map[string]string{}} }

func (w *world) now() time.Time { return cmp.Or(w.clock, now) }

func (w *world) record(format string, args ...any) {
	w.trace = append(w.trace, fmt.Sprintf(format, args...))
}

// handler returns a handler wired to the world.
func (w *world) handler() *app.Handler {
	return app.New(app.Config{
		Dedupe: w, Sender: w, Renderer: mail.NewRenderer(), Opener: w, AppBaseURL: appBaseURL,
		Queue: w, QueueURL: queueURL, DLQURL: dlqURL,
		Metrics: metrics.New(&w.metrics, "notifications"), Log: logging.New(&w.logs, "test"),
		NewID: func() string { w.ids++; return "owner-" + strconv.Itoa(w.ids) },
		Now:   w.now, Breaker: w.breaker, Pacer: w.pacer, Quota: w.quota,
	})
}

// handle runs one batch through h, its messages named m1, m2... in order,
// and returns the ids reported failed ("m1 m3") and the metrics flushed
// ("EmailsSent=2 PoisonMessages=1"). The world's records are of this batch.
func (w *world) handle(ctx context.Context, h *app.Handler, msgs ...events.SQSMessage) (failed, metricLine string) {
	w.t.Helper()
	w.records, w.trace, w.finishes, w.sent, w.opens, w.dlq, w.delays = map[string]events.SQSMessage{}, nil, nil, nil, nil, nil, map[string]int32{}
	w.logs.Reset()
	w.metrics.Reset()
	ev := events.SQSEvent{Records: slices.Clone(msgs)}
	for i := range ev.Records {
		m := &ev.Records[i]
		m.MessageId = fmt.Sprint("m", i+1)
		m.ReceiptHandle = "rh-" + m.MessageId
		m.MessageAttributes = map[string]events.SQSMessageAttribute{"correlationId": {DataType: "String", StringValue: aws.String("msg-corr-" + m.MessageId)}}
		w.records[m.MessageId] = *m
	}
	resp, err := h.Handle(ctx, ev)
	if err != nil || resp.BatchItemFailures == nil {
		w.t.Fatalf("Handle = %+v, %v; want a list of failures (none: empty, not null) and no error, which would redeliver every message", resp, err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	// The metrics: one flush, read as "name=value" in the order of names
	// (shared/metrics' tests have the rest of the EMF line).
	var kv []string
	if out := w.metrics.Bytes(); len(out) > 0 {
		var values map[string]any
		if bytes.Count(out, []byte("\n")) != 1 || json.Unmarshal(out, &values) != nil {
			w.t.Fatalf("metrics are not one EMF line:\n%s", out)
		}
		for name, v := range values {
			if name != "_aws" && name != "service" && name != "level" {
				kv = append(kv, fmt.Sprintf("%s=%g", name, v))
			}
		}
		slices.Sort(kv)
	}
	return strings.Join(ids, " "), strings.Join(kv, " ")
}

// logLine returns the first JSON log line whose message contains msg, or nil.
func (w *world) logLine(msg string) map[string]any {
	for _, raw := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var line map[string]any
		if err := json.Unmarshal([]byte(raw), &line); err != nil {
			w.t.Fatalf("log line is not JSON: %v\n%s", err, raw)
		}
		if m, _ := line["message"].(string); strings.Contains(m, msg) {
			return line
		}
	}
	return nil
}

func (w *world) Claim(_ context.Context, eventID, owner string, at time.Time) error {
	w.record("claim %s", eventID)
	if !at.Equal(w.now()) || owner != "owner-"+strconv.Itoa(w.ids) {
		w.t.Errorf("Claim(%s, %s, %v), want a fresh owner at the handler's clock %v", eventID, owner, at, w.now())
	}
	w.owners[eventID] = owner
	return w.claimErr[eventID]
}

func (w *world) Finish(_ context.Context, eventID, owner, status, messageID, detail string) error {
	w.record("%s %s", status, eventID)
	w.checkOwner("Finish", eventID, owner)
	w.finishes = append(w.finishes, finish{eventID, owner, status, messageID, detail})
	return w.finishErr
}

func (w *world) Release(_ context.Context, eventID, owner string) error {
	w.record("release %s", eventID)
	w.checkOwner("Release", eventID, owner)
	return w.releaseErr
}

func (w *world) checkOwner(call, eventID, owner string) {
	if w.owners[eventID] != owner {
		w.t.Errorf("%s(%s) by %s, want the claim's owner %s", call, eventID, owner, w.owners[eventID])
	}
}

// mailKey names a rendered email: an order email by its order id, read
// from its subject ("Order <id> ..."), any other by its recipient.
func mailKey(e mail.Email) string {
	if f := strings.Fields(e.Subject); len(f) > 1 && f[0] == "Order" {
		return f[1]
	}
	return e.To
}

func (w *world) Send(_ context.Context, e mail.Email, tags ...app.Tag) (string, error) {
	w.record("send %s", mailKey(e))
	w.sent = append(w.sent, sent{e, tags})
	if err := cmp.Or(w.sesErr, w.sendErr[mailKey(e)]); err != nil {
		return "", err
	}
	return "ses-" + mailKey(e), nil
}

func (w *world) Open(_ context.Context, box []byte, ec map[string]string) ([]byte, error) {
	w.record("open %s", ec["eventId"])
	w.opens = append(w.opens, openCall{string(box), ec})
	if err := w.openErr[ec["eventId"]]; err != nil {
		return nil, err
	}
	token, ok := strings.CutPrefix(string(box), sealedPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: InvalidCiphertextException", sealed.ErrCannotOpen)
	}
	return []byte(token), nil
}

func (w *world) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	src := w.records[aws.ToString(in.MessageDeduplicationId)]
	w.record("dlq %s", src.MessageId)
	w.dlq = append(w.dlq, in)
	reason, source := in.MessageAttributes[app.AttrPoisonReason], in.MessageAttributes["sourceMessageId"]
	if n := len(aws.ToString(reason.StringValue)); aws.ToString(in.QueueUrl) != dlqURL || aws.ToString(in.MessageBody) != src.Body ||
		aws.ToString(in.MessageGroupId) != cmp.Or(src.Attributes["MessageGroupId"], "poison") || in.DelaySeconds != 0 ||
		aws.ToString(reason.DataType) != "String" || n == 0 || n > 1024 ||
		aws.ToString(source.DataType) != "String" || aws.ToString(source.StringValue) != src.MessageId {
		w.t.Errorf("dead letter %+v is not message %q in its group (or poison), with its id and a reason of 1 to 1024 bytes", in, src.MessageId)
	}
	if w.dlqErr != nil {
		return nil, w.dlqErr
	}
	return &sqs.SendMessageOutput{MessageId: aws.String("dlq-" + src.MessageId)}, nil
}

func (w *world) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	id := strings.TrimPrefix(aws.ToString(in.ReceiptHandle), "rh-")
	w.record("delay %s", id)
	if _, ok := w.records[id]; !ok || aws.ToString(in.QueueUrl) != queueURL {
		w.t.Errorf("visibility change of %s on %s, want a message of the batch on the source queue", aws.ToString(in.ReceiptHandle), aws.ToString(in.QueueUrl))
	}
	w.delays[id] = in.VisibilityTimeout
	if w.visErr != nil {
		return nil, w.visErr
	}
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// InTime answers true inTime times.
func (w *world) InTime(context.Context) bool { w.inTime--; return w.inTime >= 0 }

// Do runs send in its turn while turns are left, and refuses it after.
func (w *world) Do(_ context.Context, send func() error) error {
	if w.turns == 0 {
		return errors.New("pace: no time left")
	}
	w.turns--
	return send()
}

func (w *world) Settle(context.Context) bool { w.record("settle"); return w.settled }

func (w *world) Rate() int { return 10 }

func (w *world) Interval() time.Duration { return 200 * time.Millisecond }

// quotaUsed reports a fixed reading of the sending quota.
type quotaUsed float64

func (q quotaUsed) Used(context.Context) (float64, bool) { return float64(q), true }

// fixture returns a file of testdata/, or of shared/events/testdata/,
// which holds the valid events, kept by the package that owns their schema.
func fixture(name string) string {
	for _, dir := range []string{"testdata", "../../../shared/events/testdata"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return string(data)
		}
	}
	panic("no fixture " + name)
}

// msg is an SQS message as Lambda delivers it from a FIFO queue, received
// once; handle names it.
func msg(group, body string) events.SQSMessage {
	attrs := map[string]string{"ApproximateReceiveCount": "1"}
	if group != "" {
		attrs["MessageGroupId"] = group
	}
	return events.SQSMessage{Body: body, Attributes: attrs, EventSource: "aws:sqs"}
}

// fixtureBody reads an event fixture into e, edits it and returns it as a
// message body.
func fixtureBody[E any](name string, e *E, edit func(*E)) string {
	if err := json.Unmarshal([]byte(fixture(name)), e); err != nil {
		panic(err)
	}
	edit(e)
	data, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// order is a message of the order event fixture order_<typ>.json with its
// ids replaced, in its order's group.
func order(typ, eventID, orderID string) events.SQSMessage {
	return msg(orderID, fixtureBody("order_"+typ+".json", &shared.OrderEvent{}, func(e *shared.OrderEvent) {
		e.ID, e.Order.ID, e.CorrelationID = eventID, orderID, "corr-"+eventID
	}))
}

// orders are order.created messages of events evt-<from>.. and orders
// ord-<from>.., each in its own group.
func orders(from, n int) []events.SQSMessage {
	var msgs []events.SQSMessage
	for i := from; i < from+n; i++ {
		msgs = append(msgs, order("created", fmt.Sprint("evt-", i), fmt.Sprint("ord-", i)))
	}
	return msgs
}

// tokenOf is the link token sealed in an account event: one per event,
// shaped like a real one.
func tokenOf(eventID string) string { return "ev1." + eventID + ".c2VjcmV0LXZhbHVl" }

// account is a message of the account event fixture account_<typ>.json
// ("verification_requested" or "password_reset_requested") with its ids
// replaced, addressed to <accountID>@example.com, its token sealed for the
// world, edits applied, in its account's group.
func account(typ, eventID, accountID string, edits ...func(*shared.AccountEvent)) events.SQSMessage {
	return msg(accountID, fixtureBody("account_"+typ+".json", &shared.AccountEvent{}, func(e *shared.AccountEvent) {
		e.ID, e.CorrelationID = eventID, "corr-"+eventID
		e.Account.ID, e.Account.Email = accountID, accountID+"@example.com"
		e.Link.SealedToken = []byte(sealedPrefix + tokenOf(eventID))
		for _, edit := range edits {
			edit(e)
		}
	}))
}

const (
	verify = "verification_requested"
	reset  = "password_reset_requested"
)

// expiring makes an account event's link expire at t.
func expiring(t time.Time) func(*shared.AccountEvent) {
	return func(e *shared.AccountEvent) { e.OccurredAt, e.Link.ExpiresAt = t.Add(-30*time.Minute), t }
}

// unopenable gives an account event a sealed token that never opens.
func unopenable(e *shared.AccountEvent) { e.Link.SealedToken = []byte("corrupt ciphertext") }

// batchCase is a batch and all the handler must do with it: the messages
// it reports failed, every call it makes (the world's trace), the metrics
// it flushes, and what each dead letter's reason says.
type batchCase struct {
	name    string
	msgs    []events.SQSMessage
	setup   func(w *world)
	failed  string
	trace   string
	metrics string
	reason  []string
	check   func(t *testing.T, w *world)
}

// runBatches runs each case through a handler of a world of its own.
func runBatches(t *testing.T, cases []batchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			failed, metricLine := w.handle(context.Background(), w.handler(), tc.msgs...)
			if trace := strings.Join(w.trace, ", "); failed != tc.failed || trace != tc.trace || metricLine != tc.metrics {
				t.Errorf("failed %q, calls %q, metrics %q;\nwant   %q, calls %q, metrics %q", failed, trace, metricLine, tc.failed, tc.trace, tc.metrics)
			}
			for _, in := range w.dlq {
				for _, sub := range tc.reason {
					if reason := aws.ToString(in.MessageAttributes[app.AttrPoisonReason].StringValue); !strings.Contains(reason, sub) {
						t.Errorf("%s = %q, want it to contain %q", app.AttrPoisonReason, reason, sub)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, w)
			}
		})
	}
}
