//go:build integration

package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/internal/testcloud"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/outbox"
	"github.com/serverless-shop/backend/shared/outbox/relay"
)

// The users relay (outbox.New with FromStream) on a table's real stream and
// real queues.

// TestEventSurvivesCrashBetweenWriteAndPublish proves the outbox: the store
// writes a change and its event in one transaction and dies before anything
// is published; the relay then fails once, succeeds, and is run again on the
// same records (a crash after sending, before the stream checkpoint). The
// event reaches the queue exactly once.
func TestEventSurvivesCrashBetweenWriteAndPublish(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)

	// 1. The store writes its change and the event in one transaction,
	// then "dies": nothing publishes.
	payload, err := os.ReadFile("../../../shared/events/testdata/account_verification_requested.json")
	must(t, err)
	parsed, err := shared.Parse(payload)
	must(t, err)
	ev := parsed.(shared.AccountEvent)
	// Now, not the fixture's past date: the item must not be expired.
	ev.OccurredAt, ev.Link.ExpiresAt = time.Now().UTC(), time.Now().UTC().Add(time.Hour)
	must(t, (&Store{db: c.db, table: c.table}).tx().put(userKey(ev.Account.ID)).event(ev).run(ctx, "test"))
	if n := testcloud.Depth(t, c.q, c.queueURL).Visible; n != 0 {
		t.Fatalf("%d messages on the queue before the relay ran", n)
	}

	batch := testcloud.StreamBatch(t, c.cfg, c.table, 2) // the change and the outbox item
	log := logging.New(io.Discard, "relay-test")

	// 2. The relay's first attempt cannot reach the queue: the batch fails
	// at the outbox record, so Lambda would retry from it.
	broken := relay.New(c.q, c.queueURL+"-missing", c.dlqURL, FromStream, log)
	resp, err := broken.Handle(ctx, batch)
	must(t, err)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != outboxRecord(t, batch).Change.SequenceNumber {
		t.Fatalf("failed relay reported %+v, want the outbox record", resp.BatchItemFailures)
	}
	if n := testcloud.Depth(t, c.q, c.queueURL).Visible; n != 0 {
		t.Fatalf("%d messages after a failed relay", n)
	}

	// 3. The retry succeeds; a redelivery of the same records (crash after
	// sending, before the checkpoint) sends again.
	pub := relay.New(c.q, c.queueURL, c.dlqURL, FromStream, log)
	for attempt := range 2 {
		resp, err := pub.Handle(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("relay attempt %d: %+v, %v", attempt, resp, err)
		}
	}

	// 4. Exactly one message, carrying the event.
	msgs := testcloud.Drain(t, c.q, c.queueURL)
	if len(msgs) != 1 {
		t.Fatalf("queue holds %d messages, want exactly 1", len(msgs))
	}
	got, err := shared.Parse([]byte(aws.ToString(msgs[0].Body)))
	must(t, err)
	if a, ok := got.(shared.AccountEvent); !ok || a.ID != ev.ID || a.Account.ID != ev.Account.ID || a.CorrelationID != ev.CorrelationID || a.Type != ev.Type {
		t.Fatalf("relayed event = %+v", got)
	}
	if g := msgs[0].Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != ev.Account.ID {
		t.Fatalf("message group %q, want the account id", g)
	}
	if c := msgs[0].MessageAttributes[outbox.AttrCorrelationID]; aws.ToString(c.StringValue) != ev.CorrelationID {
		t.Fatalf("correlation attribute = %v", c.StringValue)
	}
}

// cloud is what a relay test runs on: a table with a stream, the FIFO
// events queue and the relay's dead-letter queue, each the test's own.
type cloud struct {
	cfg              aws.Config
	db               *dynamodb.Client
	q                *sqs.Client
	table            string
	queueURL, dlqURL string
}

func newCloud(t *testing.T) cloud {
	t.Helper()
	c := cloud{cfg: testcloud.Config(t)}
	c.db, c.q = dynamodb.NewFromConfig(c.cfg), sqs.NewFromConfig(c.cfg)
	c.table = testcloud.NewTable(t, c.db, testcloud.TableSpec{SortKey: true, Stream: true})
	c.queueURL = testcloud.NewFIFOQueue(t, c.q, map[string]string{"VisibilityTimeout": "30"})
	c.dlqURL = testcloud.NewQueue(t, c.q)
	return c
}

func outboxRecord(t *testing.T, batch events.DynamoDBEvent) events.DynamoDBEventRecord {
	t.Helper()
	for _, r := range batch.Records {
		if pk := r.Change.Keys["PK"]; strings.HasPrefix(pk.String(), OutboxPrefix) {
			return r
		}
	}
	t.Fatal("no outbox record in the batch")
	return events.DynamoDBEventRecord{}
}

// TestPoisonIsDeadLetteredAndTheShardMovesOn writes an event the queue
// refuses for its content (U+FFFF, which SQS does not allow in a message
// body) between two good ones: the good ones reach the queue, the poison
// one the dead-letter queue with the reason, and the relay reports no
// failure, so the stream goes on.
func TestPoisonIsDeadLetteredAndTheShardMovesOn(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)

	for i, payload := range []string{`{"n":"good one"}`, "{\"n\":\"poison \uffff\"}", `{"n":"good two"}`} {
		put := outboxPut(t, c.table, outbox.Message{
			EventID: fmt.Sprintf("ev-poison-%d", i), EventType: shared.AccountVerificationRequested, Group: fmt.Sprintf("user-%d", i),
			CorrelationID: "corr-poison", Body: payload,
		}, time.Now())
		must(t, errOf(c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item})))
	}
	batch := testcloud.StreamBatch(t, c.cfg, c.table, 3)
	resp, err := relay.New(c.q, c.queueURL, c.dlqURL, FromStream, logging.New(io.Discard, "relay-test")).Handle(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failure", resp, err)
	}
	var relayed []string
	for _, m := range testcloud.Drain(t, c.q, c.queueURL) {
		relayed = append(relayed, aws.ToString(m.Body))
	}
	slices.Sort(relayed)
	if want := []string{`{"n":"good one"}`, `{"n":"good two"}`}; !slices.Equal(relayed, want) {
		t.Fatalf("queue got %q, want the two good events", relayed)
	}
	dead := testcloud.Drain(t, c.q, c.dlqURL)
	if len(dead) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1", len(dead))
	}
	var p relay.Poison
	must(t, json.Unmarshal([]byte(aws.ToString(dead[0].Body)), &p))
	payload, _ := base64.StdEncoding.DecodeString(p.PayloadBase64)
	if p.EventID != "ev-poison-1" || !strings.Contains(p.Reason, "InvalidMessageContents") || !strings.Contains(string(payload), "\uffff") {
		t.Fatalf("dead letter %+v (payload %q)", p, payload)
	}
}
