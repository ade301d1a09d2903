package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

	"github.com/serverless-shop/backend/functions/notifications/dedupe"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	"github.com/serverless-shop/backend/functions/notifications/notify"
	"github.com/serverless-shop/backend/functions/notifications/sender"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
)

const (
	queueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo"
	dlqURL   = "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq.fifo"
)

var now = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// eventFixtures holds the valid order events, kept by the package that owns
// their schema; this package's testdata/ keeps only the poison messages.
const eventFixtures = "../../../shared/events/testdata"

// fixture returns the bytes of testdata/name, a poison message.
func fixture(t *testing.T, name string) string {
	t.Helper()
	return readFile(t, filepath.Join("testdata", name))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// eventBody returns a valid event from an event fixture, with its event and
// order ids replaced so one batch can hold several distinct events.
func eventBody(t *testing.T, name, eventID, orderID string) string {
	t.Helper()
	var e shared.OrderEvent
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(eventFixtures, name))), &e); err != nil {
		t.Fatal(err)
	}
	e.ID, e.Order.ID, e.CorrelationID = eventID, orderID, "corr-"+eventID
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Parse(data); err != nil {
		t.Fatalf("event %s from %s is invalid: %v", eventID, name, err)
	}
	return string(data)
}

// message is an SQS record as Lambda delivers it from a FIFO queue.
func message(id, group string, receives int, body string) events.SQSMessage {
	attrs := map[string]string{"ApproximateReceiveCount": strconv.Itoa(receives)}
	if group != "" {
		attrs["MessageGroupId"] = group
	}
	return events.SQSMessage{
		MessageId:     id,
		ReceiptHandle: "rh-" + id,
		Body:          body,
		Attributes:    attrs,
		MessageAttributes: map[string]events.SQSMessageAttribute{
			"correlationId": {DataType: "String", StringValue: aws.String("msg-corr-" + id)},
		},
		EventSource: "aws:sqs",
	}
}

type claim struct {
	eventID, owner string
	now            time.Time
}

type finish struct{ eventID, owner, status, messageID, detail string }

type release struct{ eventID, owner string }

type sent struct {
	email mail.Email
	tags  []sender.Tag
}

// world holds the fakes' behaviour and records every call the handler makes.
type world struct {
	claimErr   map[string]error // by event id
	finishErr  error
	releaseErr error
	sendErr    map[string]error // by order id
	dlqErr     error
	visErr     error

	claims     []claim
	finishes   []finish
	releases   []release
	sent       []sent // every attempt, successful or not
	dlq        []*sqs.SendMessageInput
	visibility []*sqs.ChangeMessageVisibilityInput
	metrics    bytes.Buffer
	owners     int
}

// orderID reads the order id from a rendered subject ("Order <id> ...").
func orderID(e mail.Email) string {
	if f := strings.Fields(e.Subject); len(f) > 1 {
		return f[1]
	}
	return ""
}

func (w *world) handler(t *testing.T) *notify.Handler {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return notify.New(notify.Config{
		Dedupe: &fakeDedupe{
			ClaimFn: func(_ context.Context, eventID, owner string, at time.Time) error {
				w.claims = append(w.claims, claim{eventID, owner, at})
				return w.claimErr[eventID]
			},
			FinishFn: func(_ context.Context, eventID, owner, status, messageID, detail string) error {
				w.finishes = append(w.finishes, finish{eventID, owner, status, messageID, detail})
				return w.finishErr
			},
			ReleaseFn: func(_ context.Context, eventID, owner string) error {
				w.releases = append(w.releases, release{eventID, owner})
				return w.releaseErr
			},
		},
		Sender: &fakeSender{SendFn: func(_ context.Context, e mail.Email, tags ...sender.Tag) (string, error) {
			w.sent = append(w.sent, sent{e, tags})
			if err := w.sendErr[orderID(e)]; err != nil {
				return "", err
			}
			return "ses-" + orderID(e), nil
		}},
		Renderer: r,
		Queue: &fakeQueue{
			SendMessageFn: func(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
				w.dlq = append(w.dlq, in)
				if w.dlqErr != nil {
					return nil, w.dlqErr
				}
				return &sqs.SendMessageOutput{MessageId: aws.String("dlq-" + aws.ToString(in.MessageDeduplicationId))}, nil
			},
			ChangeMessageVisibilityFn: func(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
				w.visibility = append(w.visibility, in)
				if w.visErr != nil {
					return nil, w.visErr
				}
				return &sqs.ChangeMessageVisibilityOutput{}, nil
			},
		},
		QueueURL: queueURL,
		DLQURL:   dlqURL,
		Metrics:  metrics.New(&w.metrics, "notifications"),
		Log:      logging.New(io.Discard, "test"),
		NewID: func() string {
			w.owners++
			return "owner-" + strconv.Itoa(w.owners)
		},
		Now: func() time.Time { return now },
	})
}

// emf parses the one EMF line flushed by a Handle call; nil if none.
func emf(t *testing.T, buf *bytes.Buffer) map[string]float64 {
	t.Helper()
	out := strings.TrimSuffix(buf.String(), "\n")
	if out == "" {
		return nil
	}
	if strings.Contains(out, "\n") {
		t.Fatalf("metrics flushed more than one line:\n%s", out)
	}
	var doc struct {
		Service string `json:"service"`
		AWS     struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("metrics line is not JSON: %v\n%s", err, out)
	}
	var values map[string]any
	if err := json.Unmarshal([]byte(out), &values); err != nil {
		t.Fatal(err)
	}
	if doc.Service != "notifications" {
		t.Errorf("metrics service = %q, want notifications", doc.Service)
	}
	if doc.AWS.Timestamp == 0 || len(doc.AWS.CloudWatchMetrics) != 1 {
		t.Fatalf("metrics line has no valid _aws block:\n%s", out)
	}
	cw := doc.AWS.CloudWatchMetrics[0]
	if cw.Namespace != metrics.Namespace || len(cw.Dimensions) != 1 || !slices.Equal(cw.Dimensions[0], []string{"service"}) {
		t.Errorf("metrics directive = %+v, want namespace %s and dimension service", cw, metrics.Namespace)
	}
	counts := map[string]float64{}
	for _, m := range cw.Metrics {
		if m.Unit != "Count" {
			t.Errorf("metric %s unit = %q, want Count", m.Name, m.Unit)
		}
		v, ok := values[m.Name].(float64)
		if !ok {
			t.Errorf("metric %s is declared but has no value:\n%s", m.Name, out)
		}
		counts[m.Name] = v
	}
	return counts
}

func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// equal compares slices, treating nil and empty alike.
func equal[T comparable](a, b []T) bool { return len(a) == 0 && len(b) == 0 || slices.Equal(a, b) }

func TestHandleBatch(t *testing.T) {
	errThrottled := errors.New("ProvisionedThroughputExceededException: slow down")
	errNetwork := errors.New("send email: dial tcp: i/o timeout")
	errRejected := fmt.Errorf("%w: MessageRejected: address blacklisted", sender.ErrPermanent)
	errQueue := errors.New("AWS.SimpleQueueService.NonExistentQueue")

	type want struct {
		failed     []string          // message ids, in order
		claimed    []string          // event ids, in order
		sent       []string          // order ids of send attempts, in order
		dlq        []string          // message ids moved to the DLQ
		visibility []string          // message ids whose visibility changed
		finished   map[string]string // event id → status
		released   []string          // event ids
		metrics    map[string]float64
	}
	tests := []struct {
		name    string
		records func(t *testing.T) []events.SQSMessage
		setup   func(w *world)
		want    want
	}{
		{
			name: "empty batch",
			records: func(*testing.T) []events.SQSMessage {
				return nil
			},
			want: want{},
		},
		{
			name: "all valid",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
					message("m3", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-1")),
				}
			},
			want: want{
				claimed:  []string{"evt-1", "evt-2", "evt-3"},
				sent:     []string{"ord-1", "ord-2", "ord-1"},
				finished: map[string]string{"evt-1": dedupe.Sent, "evt-2": dedupe.Sent, "evt-3": dedupe.Sent},
				metrics:  map[string]float64{notify.MetricSent: 3},
			},
		},
		{
			name: "poison bad JSON among valid",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-9", 1, fixture(t, "poison_bad_json.json")),
					message("m3", "ord-3", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-3")),
				}
			},
			want: want{
				claimed:  []string{"evt-1", "evt-3"},
				sent:     []string{"ord-1", "ord-3"},
				dlq:      []string{"m2"},
				finished: map[string]string{"evt-1": dedupe.Sent, "evt-3": dedupe.Sent},
				metrics:  map[string]float64{notify.MetricSent: 2, notify.MetricPoison: 1},
			},
		},
		{
			name: "poison unknown type among valid",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-3", 1, fixture(t, "poison_unknown_type.json")),
					message("m3", "ord-3", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-3")),
				}
			},
			want: want{
				claimed:  []string{"evt-1", "evt-3"},
				sent:     []string{"ord-1", "ord-3"},
				dlq:      []string{"m2"},
				finished: map[string]string{"evt-1": dedupe.Sent, "evt-3": dedupe.Sent},
				metrics:  map[string]float64{notify.MetricSent: 2, notify.MetricPoison: 1},
			},
		},
		{
			name: "poison version 2 among valid",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-4", 1, fixture(t, "poison_version2.json")),
					message("m2", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m3", "ord-4", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-4")),
				}
			},
			want: want{
				claimed:  []string{"evt-1", "evt-3"},
				sent:     []string{"ord-1", "ord-4"},
				dlq:      []string{"m1"},
				finished: map[string]string{"evt-1": dedupe.Sent, "evt-3": dedupe.Sent},
				metrics:  map[string]float64{notify.MetricSent: 2, notify.MetricPoison: 1},
			},
		},
		{
			name: "several poison messages",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "a", 1, fixture(t, "poison_bad_json.json")),
					message("m2", "b", 1, fixture(t, "poison_unknown_type.json")),
					message("m3", "c", 1, fixture(t, "poison_version2.json")),
					message("m4", "d", 1, ""),
				}
			},
			want: want{
				dlq:     []string{"m1", "m2", "m3", "m4"},
				metrics: map[string]float64{notify.MetricPoison: 4},
			},
		},
		{
			name: "DLQ send fails",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-9", 2, fixture(t, "poison_bad_json.json")),
					message("m2", "ord-9", 1, eventBody(t, "order_created.json", "evt-2", "ord-9")),
					message("m3", "ord-3", 1, eventBody(t, "order_created.json", "evt-3", "ord-3")),
				}
			},
			setup: func(w *world) { w.dlqErr = errQueue },
			want: want{
				failed:     []string{"m1", "m2"},
				claimed:    []string{"evt-3"},
				sent:       []string{"ord-3"},
				dlq:        []string{"m1"},
				visibility: []string{"m1"},
				finished:   map[string]string{"evt-3": dedupe.Sent},
				metrics:    map[string]float64{notify.MetricSent: 1, notify.MetricPoison: 1, notify.MetricRetried: 1},
			},
		},
		{
			name: "duplicate suppressed",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				}
			},
			setup: func(w *world) { w.claimErr = map[string]error{"evt-1": dedupe.ErrDone} },
			want: want{
				claimed:  []string{"evt-1", "evt-2"},
				sent:     []string{"ord-2"},
				finished: map[string]string{"evt-2": dedupe.Sent},
				metrics:  map[string]float64{notify.MetricSent: 1, notify.MetricDuplicates: 1},
			},
		},
		{
			name: "wrapped duplicate suppressed",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				}
			},
			setup: func(w *world) { w.claimErr = map[string]error{"evt-1": fmt.Errorf("claim evt-1: %w", dedupe.ErrDone)} },
			want: want{
				claimed: []string{"evt-1"},
				metrics: map[string]float64{notify.MetricDuplicates: 1},
			},
		},
		{
			name: "claim busy",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
					message("m3", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-1")),
				}
			},
			setup: func(w *world) { w.claimErr = map[string]error{"evt-1": dedupe.ErrBusy} },
			want: want{
				failed:     []string{"m1", "m3"},
				claimed:    []string{"evt-1", "evt-2"},
				sent:       []string{"ord-2"},
				visibility: []string{"m1"},
				finished:   map[string]string{"evt-2": dedupe.Sent},
				metrics:    map[string]float64{notify.MetricSent: 1, notify.MetricRetried: 1},
			},
		},
		{
			name: "claim fails",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				}
			},
			setup: func(w *world) { w.claimErr = map[string]error{"evt-1": errThrottled} },
			want: want{
				failed:     []string{"m1"},
				claimed:    []string{"evt-1", "evt-2"},
				sent:       []string{"ord-2"},
				visibility: []string{"m1"},
				finished:   map[string]string{"evt-2": dedupe.Sent},
				metrics:    map[string]float64{notify.MetricSent: 1, notify.MetricRetried: 1},
			},
		},
		{
			name: "transient send error holds back the rest of its group",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 3, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
					message("m3", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-1")),
					message("m4", "ord-2", 1, eventBody(t, "order_cancelled.json", "evt-4", "ord-2")),
					message("m5", "ord-1", 1, fixture(t, "poison_bad_json.json")),
				}
			},
			setup: func(w *world) { w.sendErr = map[string]error{"ord-1": errNetwork} },
			want: want{
				failed:     []string{"m1", "m3", "m5"},
				claimed:    []string{"evt-1", "evt-2", "evt-4"},
				sent:       []string{"ord-1", "ord-2", "ord-2"},
				visibility: []string{"m1"},
				finished:   map[string]string{"evt-2": dedupe.Sent, "evt-4": dedupe.Sent},
				released:   []string{"evt-1"},
				metrics:    map[string]float64{notify.MetricSent: 2, notify.MetricRetried: 1},
			},
		},
		{
			name: "transient send error without a group holds nothing back",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "", 1, eventBody(t, "order_cancelled.json", "evt-2", "ord-1")),
				}
			},
			setup: func(w *world) { w.sendErr = map[string]error{"ord-1": errNetwork} },
			want: want{
				failed:     []string{"m1", "m2"},
				claimed:    []string{"evt-1", "evt-2"},
				sent:       []string{"ord-1", "ord-1"},
				visibility: []string{"m1", "m2"},
				released:   []string{"evt-1", "evt-2"},
				metrics:    map[string]float64{notify.MetricRetried: 2},
			},
		},
		{
			name: "release fails",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				}
			},
			setup: func(w *world) {
				w.sendErr = map[string]error{"ord-1": errNetwork}
				w.releaseErr = errThrottled
			},
			want: want{
				failed:     []string{"m1"},
				claimed:    []string{"evt-1"},
				sent:       []string{"ord-1"},
				visibility: []string{"m1"},
				released:   []string{"evt-1"},
				metrics:    map[string]float64{notify.MetricRetried: 1},
			},
		},
		{
			name: "visibility change fails",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				}
			},
			setup: func(w *world) {
				w.sendErr = map[string]error{"ord-1": errNetwork}
				w.visErr = errQueue
			},
			want: want{
				failed:     []string{"m1"},
				claimed:    []string{"evt-1"},
				sent:       []string{"ord-1"},
				visibility: []string{"m1"},
				released:   []string{"evt-1"},
				metrics:    map[string]float64{notify.MetricRetried: 1},
			},
		},
		{
			name: "permanent rejection",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-2", "ord-1")),
					message("m3", "ord-3", 1, eventBody(t, "order_created.json", "evt-3", "ord-3")),
				}
			},
			setup: func(w *world) { w.sendErr = map[string]error{"ord-3": errRejected} },
			want: want{
				claimed:  []string{"evt-1", "evt-2", "evt-3"},
				sent:     []string{"ord-1", "ord-1", "ord-3"},
				finished: map[string]string{"evt-1": dedupe.Sent, "evt-2": dedupe.Sent, "evt-3": dedupe.Rejected},
				metrics:  map[string]float64{notify.MetricSent: 2, notify.MetricRejected: 1},
			},
		},
		{
			name: "recording fails after the email is out",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				}
			},
			setup: func(w *world) {
				w.finishErr = errThrottled
				w.sendErr = map[string]error{"ord-2": errRejected}
			},
			want: want{
				claimed:  []string{"evt-1", "evt-2"},
				sent:     []string{"ord-1", "ord-2"},
				finished: map[string]string{"evt-1": dedupe.Sent, "evt-2": dedupe.Rejected},
				metrics:  map[string]float64{notify.MetricSent: 1, notify.MetricRejected: 1},
			},
		},
		{
			name: "everything at once",
			records: func(t *testing.T) []events.SQSMessage {
				return []events.SQSMessage{
					message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),   // sent
					message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),   // duplicate
					message("m3", "ord-3", 1, fixture(t, "poison_version2.json")),                     // poison
					message("m4", "ord-4", 2, eventBody(t, "order_created.json", "evt-4", "ord-4")),   // transient
					message("m5", "ord-5", 1, eventBody(t, "order_created.json", "evt-5", "ord-5")),   // rejected
					message("m6", "ord-4", 1, eventBody(t, "order_cancelled.json", "evt-6", "ord-4")), // held back
					message("m7", "ord-7", 1, eventBody(t, "order_created.json", "evt-7", "ord-7")),   // busy
				}
			},
			setup: func(w *world) {
				w.claimErr = map[string]error{"evt-2": dedupe.ErrDone, "evt-7": dedupe.ErrBusy}
				w.sendErr = map[string]error{"ord-4": errNetwork, "ord-5": errRejected}
			},
			want: want{
				failed:     []string{"m4", "m6", "m7"},
				claimed:    []string{"evt-1", "evt-2", "evt-4", "evt-5", "evt-7"},
				sent:       []string{"ord-1", "ord-4", "ord-5"},
				dlq:        []string{"m3"},
				visibility: []string{"m4", "m7"},
				finished:   map[string]string{"evt-1": dedupe.Sent, "evt-5": dedupe.Rejected},
				released:   []string{"evt-4"},
				metrics: map[string]float64{
					notify.MetricSent: 1, notify.MetricDuplicates: 1, notify.MetricPoison: 1,
					notify.MetricRetried: 2, notify.MetricRejected: 1,
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			if tc.setup != nil {
				tc.setup(w)
			}
			records := tc.records(t)
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records})
			if err != nil {
				t.Fatalf("Handle returned an error: %v (a batch error would redeliver every message)", err)
			}

			if got := failedIDs(resp); !equal(got, tc.want.failed) {
				t.Errorf("batch item failures = %v, want %v", got, tc.want.failed)
			}
			var claimed []string
			for _, c := range w.claims {
				claimed = append(claimed, c.eventID)
			}
			if !equal(claimed, tc.want.claimed) {
				t.Errorf("claimed = %v, want %v", claimed, tc.want.claimed)
			}
			var sentTo []string
			for _, s := range w.sent {
				sentTo = append(sentTo, orderID(s.email))
			}
			if !equal(sentTo, tc.want.sent) {
				t.Errorf("send attempts = %v, want %v", sentTo, tc.want.sent)
			}
			var dlq []string
			for _, in := range w.dlq {
				dlq = append(dlq, aws.ToString(in.MessageDeduplicationId))
			}
			if !equal(dlq, tc.want.dlq) {
				t.Errorf("moved to the DLQ = %v, want %v", dlq, tc.want.dlq)
			}
			var vis []string
			for _, in := range w.visibility {
				vis = append(vis, strings.TrimPrefix(aws.ToString(in.ReceiptHandle), "rh-"))
			}
			if !equal(vis, tc.want.visibility) {
				t.Errorf("visibility changed = %v, want %v", vis, tc.want.visibility)
			}
			finished := map[string]string{}
			for _, f := range w.finishes {
				if _, dup := finished[f.eventID]; dup {
					t.Errorf("Finish called twice for %s", f.eventID)
				}
				finished[f.eventID] = f.status
			}
			if len(finished) != len(tc.want.finished) {
				t.Errorf("finished = %v, want %v", finished, tc.want.finished)
			}
			for id, status := range tc.want.finished {
				if finished[id] != status {
					t.Errorf("Finish(%s) status = %q, want %q", id, finished[id], status)
				}
			}
			var released []string
			for _, r := range w.releases {
				released = append(released, r.eventID)
			}
			if !equal(released, tc.want.released) {
				t.Errorf("released = %v, want %v", released, tc.want.released)
			}

			seen := map[string]bool{}
			for _, id := range failedIDs(resp) {
				if seen[id] {
					t.Errorf("message %s reported as failed twice", id)
				}
				seen[id] = true
			}

			got := emf(t, &w.metrics)
			if len(got) != len(tc.want.metrics) {
				t.Errorf("metrics = %v, want %v", got, tc.want.metrics)
			}
			for name, n := range tc.want.metrics {
				if got[name] != n {
					t.Errorf("metric %s = %v, want %v", name, got[name], n)
				}
			}
		})
	}
}

// TestHandleOwnership checks that each delivery claims with its own owner
// and the handler's clock, and finishes or releases with that same owner.
func TestHandleOwnership(t *testing.T) {
	w := &world{sendErr: map[string]error{"ord-2": errors.New("timeout")}}
	records := []events.SQSMessage{
		message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
		message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
	}
	if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
		t.Fatal(err)
	}
	want := []claim{{"evt-1", "owner-1", now}, {"evt-2", "owner-2", now}}
	if !slices.Equal(w.claims, want) {
		t.Errorf("claims = %+v, want %+v", w.claims, want)
	}
	wantFinish := []finish{{eventID: "evt-1", owner: "owner-1", status: dedupe.Sent, messageID: "ses-ord-1"}}
	if !slices.Equal(w.finishes, wantFinish) {
		t.Errorf("finishes = %+v, want %+v", w.finishes, wantFinish)
	}
	wantRelease := []release{{"evt-2", "owner-2"}}
	if !slices.Equal(w.releases, wantRelease) {
		t.Errorf("releases = %+v, want %+v", w.releases, wantRelease)
	}
}

// TestHandleRejectionRecorded checks what a permanent rejection records.
func TestHandleRejectionRecorded(t *testing.T) {
	errRejected := fmt.Errorf("%w: MessageRejected: address on suppression list", sender.ErrPermanent)
	w := &world{sendErr: map[string]error{"ord-1": errRejected}}
	records := []events.SQSMessage{message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1"))}
	if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
		t.Fatal(err)
	}
	want := []finish{{eventID: "evt-1", owner: "owner-1", status: dedupe.Rejected, detail: errRejected.Error()}}
	if !slices.Equal(w.finishes, want) {
		t.Errorf("finishes = %+v, want %+v", w.finishes, want)
	}
	if len(w.releases) != 0 || len(w.visibility) != 0 || len(w.dlq) != 0 {
		t.Errorf("rejection released %v, changed visibility of %d, moved %d; want none", w.releases, len(w.visibility), len(w.dlq))
	}
}

// TestHandleEmail checks the email handed to the sender and its tags.
func TestHandleEmail(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		wantSubject string
		wantType    string
	}{
		{name: "order created", fixture: "order_created.json", wantSubject: "Order ord-1 confirmed: $1,279.55", wantType: shared.OrderCreated},
		{name: "order cancelled", fixture: "order_cancelled.json", wantSubject: "Order ord-1 cancelled", wantType: shared.OrderCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			body := eventBody(t, tc.fixture, "evt-1", "ord-1")
			e, err := shared.Parse([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			records := []events.SQSMessage{message("m1", "ord-1", 1, body)}
			if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
				t.Fatal(err)
			}
			if len(w.sent) != 1 {
				t.Fatalf("sent %d emails, want 1", len(w.sent))
			}
			got := w.sent[0]
			if got.email.To != e.Customer.Email {
				t.Errorf("To = %q, want %q", got.email.To, e.Customer.Email)
			}
			if got.email.Subject != tc.wantSubject {
				t.Errorf("Subject = %q, want %q", got.email.Subject, tc.wantSubject)
			}
			if !strings.Contains(got.email.Text, e.Customer.Name) || !strings.Contains(got.email.HTML, e.Customer.Name) {
				t.Errorf("email parts do not greet %q", e.Customer.Name)
			}
			wantTags := []sender.Tag{{Name: "eventType", Value: tc.wantType}, {Name: "correlationId", Value: "corr-evt-1"}}
			if !slices.Equal(got.tags, wantTags) {
				t.Errorf("tags = %+v, want %+v", got.tags, wantTags)
			}
		})
	}
}

func TestHandlePoisonToDLQ(t *testing.T) {
	tests := []struct {
		name       string
		group      string
		body       func(t *testing.T) string
		wantGroup  string
		wantReason []string // substrings of the poisonReason attribute
	}{
		{
			name:       "bad JSON",
			group:      "ord-9",
			body:       func(t *testing.T) string { return fixture(t, "poison_bad_json.json") },
			wantGroup:  "ord-9",
			wantReason: []string{"invalid event", "unexpected EOF"},
		},
		{
			name:       "unknown type",
			group:      "ord-3",
			body:       func(t *testing.T) string { return fixture(t, "poison_unknown_type.json") },
			wantGroup:  "ord-3",
			wantReason: []string{"invalid event", `unknown type "order.shipped"`},
		},
		{
			name:       "version 2",
			group:      "ord-4",
			body:       func(t *testing.T) string { return fixture(t, "poison_version2.json") },
			wantGroup:  "ord-4",
			wantReason: []string{"invalid event", "unsupported version 2"},
		},
		{
			name:       "trailing data",
			group:      "ord-1",
			body:       func(t *testing.T) string { return eventBody(t, "order_created.json", "evt-1", "ord-1") + "{}" },
			wantGroup:  "ord-1",
			wantReason: []string{"trailing data"},
		},
		{
			name:  "inconsistent total",
			group: "ord-1",
			body: func(t *testing.T) string {
				return strings.Replace(eventBody(t, "order_created.json", "evt-1", "ord-1"), `"total":127955`, `"total":1`, 1)
			},
			wantGroup:  "ord-1",
			wantReason: []string{"order.total is not the sum of its lines"},
		},
		{
			name:       "oversized",
			group:      "ord-1",
			body:       func(*testing.T) string { return `{"type":"` + strings.Repeat("x", shared.MaxBytes) + `"}` },
			wantGroup:  "ord-1",
			wantReason: []string{"exceeds"},
		},
		{
			name:       "very long reason is truncated",
			group:      "ord-1",
			body:       func(*testing.T) string { return `{"type":"` + strings.Repeat("x", 5000) + `"}` },
			wantGroup:  "ord-1",
			wantReason: []string{"unknown type"},
		},
		{
			name:       "standard queue message gets a group",
			group:      "",
			body:       func(t *testing.T) string { return fixture(t, "poison_version2.json") },
			wantGroup:  "poison",
			wantReason: []string{"unsupported version 2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			body := tc.body(t)
			records := []events.SQSMessage{message("m1", tc.group, 1, body)}
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 {
				t.Errorf("poison message reported as failed: %v", failedIDs(resp))
			}
			if len(w.claims) != 0 || len(w.sent) != 0 || len(w.visibility) != 0 {
				t.Errorf("poison message was claimed (%d), sent (%d) or delayed (%d)", len(w.claims), len(w.sent), len(w.visibility))
			}
			if len(w.dlq) != 1 {
				t.Fatalf("moved %d messages to the DLQ, want 1", len(w.dlq))
			}
			in := w.dlq[0]
			if got := aws.ToString(in.QueueUrl); got != dlqURL {
				t.Errorf("QueueUrl = %q, want the DLQ %q", got, dlqURL)
			}
			if aws.ToString(in.MessageBody) != body {
				t.Errorf("MessageBody is not the original body")
			}
			if got := aws.ToString(in.MessageGroupId); got != tc.wantGroup {
				t.Errorf("MessageGroupId = %q, want %q", got, tc.wantGroup)
			}
			if got := aws.ToString(in.MessageDeduplicationId); got != "m1" {
				t.Errorf("MessageDeduplicationId = %q, want the source message id m1", got)
			}
			if in.DelaySeconds != 0 {
				t.Errorf("DelaySeconds = %d, want 0", in.DelaySeconds)
			}
			reason, ok := in.MessageAttributes[notify.AttrPoisonReason]
			if !ok {
				t.Fatalf("no %s attribute in %v", notify.AttrPoisonReason, in.MessageAttributes)
			}
			if got := aws.ToString(reason.DataType); got != "String" {
				t.Errorf("%s DataType = %q, want String", notify.AttrPoisonReason, got)
			}
			text := aws.ToString(reason.StringValue)
			if text == "" || len(text) > 1024 {
				t.Errorf("%s has %d bytes, want 1 to 1024", notify.AttrPoisonReason, len(text))
			}
			for _, sub := range tc.wantReason {
				if !strings.Contains(text, sub) {
					t.Errorf("%s = %q, want it to contain %q", notify.AttrPoisonReason, text, sub)
				}
			}
			source := in.MessageAttributes["sourceMessageId"]
			if aws.ToString(source.StringValue) != "m1" || aws.ToString(source.DataType) != "String" {
				t.Errorf("sourceMessageId = %+v, want String m1", source)
			}
			if got := emf(t, &w.metrics); got[notify.MetricPoison] != 1 || len(got) != 1 {
				t.Errorf("metrics = %v, want only %s = 1", got, notify.MetricPoison)
			}
		})
	}
}

func TestHandleVisibilityBackoff(t *testing.T) {
	tests := []struct {
		name     string
		receives string // the ApproximateReceiveCount attribute
		want     int    // receives passed to Backoff
	}{
		{name: "first receive", receives: "1", want: 1},
		{name: "third receive", receives: "3", want: 3},
		{name: "fifth receive", receives: "5", want: 5},
		{name: "capped", receives: "40", want: 40},
		{name: "attribute missing", receives: "", want: 0},
		{name: "attribute garbled", receives: "many", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{sendErr: map[string]error{"ord-1": errors.New("connection reset")}}
			msg := message("m1", "ord-1", 0, eventBody(t, "order_created.json", "evt-1", "ord-1"))
			msg.Attributes["ApproximateReceiveCount"] = tc.receives
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
			if err != nil {
				t.Fatal(err)
			}
			if got := failedIDs(resp); !slices.Equal(got, []string{"m1"}) {
				t.Errorf("batch item failures = %v, want [m1]", got)
			}
			if len(w.visibility) != 1 {
				t.Fatalf("changed visibility %d times, want once", len(w.visibility))
			}
			in := w.visibility[0]
			if got := aws.ToString(in.QueueUrl); got != queueURL {
				t.Errorf("QueueUrl = %q, want the source queue %q", got, queueURL)
			}
			if got := aws.ToString(in.ReceiptHandle); got != "rh-m1" {
				t.Errorf("ReceiptHandle = %q, want rh-m1", got)
			}
			lo := int32(notify.Backoff(tc.want, 0) / time.Second)
			hi := int32(notify.Backoff(tc.want, 1) / time.Second)
			if in.VisibilityTimeout < lo || in.VisibilityTimeout > hi {
				t.Errorf("VisibilityTimeout = %d, want within Backoff(%d) = [%d, %d]", in.VisibilityTimeout, tc.want, lo, hi)
			}
		})
	}
}
