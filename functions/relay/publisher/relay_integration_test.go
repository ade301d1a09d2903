//go:build integration

package publisher_test

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
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/functions/relay/publisher"
	"github.com/serverless-shop/backend/internal/testcloud"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/outbox"
)

// TestEventSurvivesCrashBetweenWriteAndPublish proves the outbox: a service
// writes a change and its event in one transaction and dies before anything
// is published; the relay then fails once, succeeds, and is run again on the
// same records (a crash after sending, before the stream checkpoint). The
// event reaches the queue exactly once.
func TestEventSurvivesCrashBetweenWriteAndPublish(t *testing.T) {
	ctx := context.Background()
	cfg := testcloud.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true, Stream: true})
	queueURL := testcloud.NewFIFOQueue(t, q, map[string]string{"VisibilityTimeout": "30"})
	dlqURL := testcloud.NewQueue(t, q)

	// 1. The service writes its change and the event in one transaction,
	// through the outbox contract, then "dies": nothing publishes.
	payload, err := os.ReadFile("../../../shared/events/testdata/order_created.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := shared.ParseOrder(payload)
	if err != nil {
		t.Fatal(err)
	}
	put, err := outbox.Put(table, outbox.Record{
		EventID: ev.ID, EventType: string(ev.Type), Group: ev.Order.ID, CorrelationID: ev.CorrelationID,
		// Now, not the fixture's past date: the item must not be expired.
		Payload: string(payload), OccurredAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	change := map[string]dbtypes.AttributeValue{
		"PK": &dbtypes.AttributeValueMemberS{Value: "CUSTOMER#" + ev.Customer.ID},
		"SK": &dbtypes.AttributeValueMemberS{Value: "ORDER#" + ev.Order.ID},
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dbtypes.TransactWriteItem{
		{Put: &dbtypes.Put{TableName: &table, Item: change}}, {Put: put},
	}}); err != nil {
		t.Fatal(err)
	}
	if n := testcloud.Depth(t, q, queueURL).Visible; n != 0 {
		t.Fatalf("%d messages on the queue before the relay ran", n)
	}

	batch := streamBatch(t, cfg, table, 2) // the change and the outbox item
	log := logging.New(io.Discard, "relay-test")

	// 2. The relay's first attempt cannot reach the queue: the batch fails
	// at the outbox record, so Lambda would retry from it.
	broken := publisher.New(q, queueURL+"-missing", dlqURL, log)
	resp, err := broken.Handle(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != outboxRecord(t, batch).Change.SequenceNumber {
		t.Fatalf("failed relay reported %+v, want the outbox record", resp.BatchItemFailures)
	}
	if n := testcloud.Depth(t, q, queueURL).Visible; n != 0 {
		t.Fatalf("%d messages after a failed relay", n)
	}

	// 3. The retry succeeds; a redelivery of the same records (crash after
	// sending, before the checkpoint) sends again.
	relay := publisher.New(q, queueURL, dlqURL, log)
	for attempt := range 2 {
		resp, err := relay.Handle(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("relay attempt %d: %+v, %v", attempt, resp, err)
		}
	}

	// 4. Exactly one message, carrying the event.
	msgs := drain(t, q, queueURL)
	if len(msgs) != 1 {
		t.Fatalf("queue holds %d messages, want exactly 1", len(msgs))
	}
	got, err := shared.ParseOrder([]byte(aws.ToString(msgs[0].Body)))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ev.ID || got.Order.ID != ev.Order.ID || got.CorrelationID != ev.CorrelationID || got.Type != shared.OrderCreated {
		t.Fatalf("relayed event = %+v", got)
	}
	if g := msgs[0].Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != ev.Order.ID {
		t.Fatalf("message group %q, want the order id", g)
	}
	if c := msgs[0].MessageAttributes[publisher.AttrCorrelationID]; aws.ToString(c.StringValue) != ev.CorrelationID {
		t.Fatalf("correlation attribute = %v", c.StringValue)
	}
}

// drain receives until the queue stays empty for a long poll, deleting what
// it receives.
func drain(t *testing.T, q *sqs.Client, url string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for range 10 {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			all = append(all, m)
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return all
}

func outboxRecord(t *testing.T, batch events.DynamoDBEvent) events.DynamoDBEventRecord {
	t.Helper()
	for _, r := range batch.Records {
		if pk := r.Change.Keys["PK"]; len(pk.String()) > 7 && pk.String()[:7] == outbox.Prefix {
			return r
		}
	}
	t.Fatal("no outbox record in the batch")
	return events.DynamoDBEventRecord{}
}

// streamBatch waits until the table's stream holds want records, and shapes
// them as the event Lambda would deliver to the relay.
func streamBatch(t *testing.T, cfg aws.Config, table string, want int) events.DynamoDBEvent {
	t.Helper()
	var records []streamtypes.Record
	var arn string
	testcloud.Eventually(t, 30*time.Second, fmt.Sprintf("%d stream records", want), func() bool {
		records, arn = testcloud.StreamRecords(t, cfg, table)
		return len(records) >= want
	})
	if len(records) != want {
		t.Fatalf("stream has %d records, want %d", len(records), want)
	}
	var batch events.DynamoDBEvent
	for _, r := range records {
		batch.Records = append(batch.Records, lambdaRecord(t, r, arn))
	}
	return batch
}

func lambdaRecord(t *testing.T, r streamtypes.Record, arn string) events.DynamoDBEventRecord {
	t.Helper()
	return events.DynamoDBEventRecord{
		EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventSource: "aws:dynamodb",
		EventSourceArn: arn, AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{
			Keys:           image(t, r.Dynamodb.Keys),
			NewImage:       image(t, r.Dynamodb.NewImage),
			SequenceNumber: aws.ToString(r.Dynamodb.SequenceNumber),
			StreamViewType: string(r.Dynamodb.StreamViewType),
		},
	}
}

// image converts stream attribute values to the Lambda event's form through
// the DynamoDB JSON both share.
func image(t *testing.T, in map[string]streamtypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	t.Helper()
	raw := map[string]any{}
	for k, v := range in {
		raw[k] = dynamoJSON(t, v)
	}
	b, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func dynamoJSON(t *testing.T, v streamtypes.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *streamtypes.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *streamtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *streamtypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *streamtypes.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range v.Value {
			m[k] = dynamoJSON(t, e)
		}
		return map[string]any{"M": m}
	case *streamtypes.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = dynamoJSON(t, e)
		}
		return map[string]any{"L": l}
	default:
		t.Fatalf("unhandled attribute type %T", v)
		return nil
	}
}

// TestPoisonIsDeadLetteredAndTheShardMovesOn writes an event the queue
// refuses for its content (U+FFFF, which SQS does not allow in a message
// body) between two good ones: the good ones reach the queue, the poison
// one the dead-letter queue with the reason, and the relay reports no
// failure, so the stream goes on.
func TestPoisonIsDeadLetteredAndTheShardMovesOn(t *testing.T) {
	ctx := context.Background()
	cfg := testcloud.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true, Stream: true})
	queueURL := testcloud.NewFIFOQueue(t, q, map[string]string{"VisibilityTimeout": "30"})
	dlqURL := testcloud.NewQueue(t, q)

	for i, payload := range []string{`{"n":"good one"}`, "{\"n\":\"poison \uffff\"}", `{"n":"good two"}`} {
		put, err := outbox.Put(table, outbox.Record{
			EventID: fmt.Sprintf("ev-poison-%d", i), EventType: "order.created", Group: fmt.Sprintf("order-%d", i),
			CorrelationID: "corr-poison", Payload: payload, OccurredAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item}); err != nil {
			t.Fatal(err)
		}
	}
	batch := streamBatch(t, cfg, table, 3)
	resp, err := publisher.New(q, queueURL, dlqURL, logging.New(io.Discard, "relay-test")).Handle(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failure", resp, err)
	}
	var relayed []string
	for _, m := range drain(t, q, queueURL) {
		relayed = append(relayed, aws.ToString(m.Body))
	}
	slices.Sort(relayed)
	if want := []string{`{"n":"good one"}`, `{"n":"good two"}`}; !slices.Equal(relayed, want) {
		t.Fatalf("queue got %q, want the two good events", relayed)
	}
	dead := drain(t, q, dlqURL)
	if len(dead) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1", len(dead))
	}
	var p publisher.Poison
	if err := json.Unmarshal([]byte(aws.ToString(dead[0].Body)), &p); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(p.PayloadBase64)
	if p.EventID != "ev-poison-1" || !strings.Contains(p.Reason, "InvalidMessageContents") || !strings.Contains(string(payload), "\uffff") {
		t.Fatalf("dead letter %+v (payload %q)", p, payload)
	}
}
