package app_test

import (
	"bytes"
	"cmp"
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

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/mail"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
	sealedpkg "github.com/serverless-shop/backend/shared/sealed"
)

const (
	queueURL   = "https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo"
	dlqURL     = "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq.fifo"
	appBaseURL = "https://shop.example.com"
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
	tags  []app.Tag
}

type openCall struct {
	sealed string
	ec     map[string]string
}

// world holds the fakes' behaviour and records every call the handler makes.
type world struct {
	claimErr   map[string]error // by event id
	finishErr  error
	releaseErr error
	sendErr    map[string]error // by mailKey
	openErr    map[string]error // by event id
	dlqErr     error
	visErr     error
	log        io.Writer // the handler's log; io.Discard when nil
	clock      time.Time // the handler's clock; now when zero
	pacer      app.Pacer
	quota      app.Quota
	onSend     func() // called at each send attempt, before it returns
	onClaim    func() // called at each claim, before it returns

	claims     []claim
	finishes   []finish
	releases   []release
	sent       []sent // every attempt, successful or not
	opens      []openCall
	dlq        []*sqs.SendMessageInput
	visibility []*sqs.ChangeMessageVisibilityInput
	metrics    bytes.Buffer
	owners     int
}

// mailKey names a rendered email in the fakes and the wanted outcomes: an
// order email by its order id, read from its subject ("Order <id> ..."),
// any other email by its recipient.
func mailKey(e mail.Email) string {
	if f := strings.Fields(e.Subject); len(f) > 1 && f[0] == "Order" {
		return f[1]
	}
	return e.To
}

// sealedPrefix marks the fake sealed tokens the fake opener opens, as in the
// account event fixtures ("sealed:verify-token"). Anything else will never
// open, like a corrupt ciphertext.
const sealedPrefix = "sealed:"

func (w *world) handler(t *testing.T) *app.Handler {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return app.New(app.Config{
		Dedupe: &fakeDedupe{
			ClaimFn: func(_ context.Context, eventID, owner string, at time.Time) error {
				w.claims = append(w.claims, claim{eventID, owner, at})
				if w.onClaim != nil {
					w.onClaim()
				}
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
		Sender: &fakeSender{SendFn: func(_ context.Context, e mail.Email, tags ...app.Tag) (string, error) {
			w.sent = append(w.sent, sent{e, tags})
			if w.onSend != nil {
				w.onSend()
			}
			if err := w.sendErr[mailKey(e)]; err != nil {
				return "", err
			}
			return "ses-" + mailKey(e), nil
		}},
		Renderer: r,
		Opener: &fakeOpener{OpenFn: func(_ context.Context, sealed []byte, ec map[string]string) ([]byte, error) {
			w.opens = append(w.opens, openCall{string(sealed), ec})
			if err := w.openErr[ec["eventId"]]; err != nil {
				return nil, err
			}
			token, ok := strings.CutPrefix(string(sealed), sealedPrefix)
			if !ok {
				return nil, fmt.Errorf("%w: InvalidCiphertextException", sealedpkg.ErrCannotOpen)
			}
			return []byte(token), nil
		}},
		AppBaseURL: appBaseURL,
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
		Log:      logging.New(cmp.Or(w.log, io.Discard), "test"),
		NewID: func() string {
			w.owners++
			return "owner-" + strconv.Itoa(w.owners)
		},
		Now:   func() time.Time { return cmp.Or(w.clock, now) },
		Pacer: w.pacer,
		Quota: w.quota,
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

// Errors the fakes return, worded as the AWS SDK and the sender word them.
var (
	errThrottled = errors.New("ProvisionedThroughputExceededException: slow down")
	errNetwork   = errors.New("send email: dial tcp: i/o timeout")
	errRejected  = fmt.Errorf("%w: MessageRejected: address blacklisted", app.ErrPermanent)
	errQueue     = errors.New("AWS.SimpleQueueService.NonExistentQueue")
)
