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
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/functions/relay/publisher"
	"github.com/serverless-shop/backend/internal/testcloud"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/orderitem"
	"github.com/serverless-shop/backend/shared/outbox"
)

// TestEventSurvivesCrashBetweenWriteAndPublish proves the outbox: a service
// writes a change and its event in one transaction and dies before anything
// is published; the relay then fails once, succeeds, and is run again on the
// same records (a crash after sending, before the stream checkpoint). The
// event reaches the queue exactly once.
func TestEventSurvivesCrashBetweenWriteAndPublish(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)

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
	put, err := outbox.Put(c.table, outbox.Record{
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
	if _, err := c.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dbtypes.TransactWriteItem{
		{Put: &dbtypes.Put{TableName: &c.table, Item: change}}, {Put: put},
	}}); err != nil {
		t.Fatal(err)
	}
	if n := testcloud.Depth(t, c.q, c.queueURL).Visible; n != 0 {
		t.Fatalf("%d messages on the queue before the relay ran", n)
	}

	batch := testcloud.StreamBatch(t, c.cfg, c.table, 2) // the change and the outbox item
	log := logging.New(io.Discard, "relay-test")

	// 2. The relay's first attempt cannot reach the queue: the batch fails
	// at the outbox record, so Lambda would retry from it.
	broken := publisher.New(c.q, c.queueURL+"-missing", c.dlqURL, log)
	resp, err := broken.Handle(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != outboxRecord(t, batch).Change.SequenceNumber {
		t.Fatalf("failed relay reported %+v, want the outbox record", resp.BatchItemFailures)
	}
	if n := testcloud.Depth(t, c.q, c.queueURL).Visible; n != 0 {
		t.Fatalf("%d messages after a failed relay", n)
	}

	// 3. The retry succeeds; a redelivery of the same records (crash after
	// sending, before the checkpoint) sends again.
	relay := publisher.New(c.q, c.queueURL, c.dlqURL, log)
	for attempt := range 2 {
		resp, err := relay.Handle(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("relay attempt %d: %+v, %v", attempt, resp, err)
		}
	}

	// 4. Exactly one message, carrying the event.
	msgs := drain(t, c.q, c.queueURL)
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

// TestPoisonIsDeadLetteredAndTheShardMovesOn writes an event the queue
// refuses for its content (U+FFFF, which SQS does not allow in a message
// body) between two good ones: the good ones reach the queue, the poison
// one the dead-letter queue with the reason, and the relay reports no
// failure, so the stream goes on.
func TestPoisonIsDeadLetteredAndTheShardMovesOn(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)

	for i, payload := range []string{`{"n":"good one"}`, "{\"n\":\"poison \uffff\"}", `{"n":"good two"}`} {
		put, err := outbox.Put(c.table, outbox.Record{
			EventID: fmt.Sprintf("ev-poison-%d", i), EventType: "order.created", Group: fmt.Sprintf("order-%d", i),
			CorrelationID: "corr-poison", Payload: payload, OccurredAt: time.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item}); err != nil {
			t.Fatal(err)
		}
	}
	batch := testcloud.StreamBatch(t, c.cfg, c.table, 3)
	resp, err := publisher.New(c.q, c.queueURL, c.dlqURL, logging.New(io.Discard, "relay-test")).Handle(ctx, batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failure", resp, err)
	}
	var relayed []string
	for _, m := range drain(t, c.q, c.queueURL) {
		relayed = append(relayed, aws.ToString(m.Body))
	}
	slices.Sort(relayed)
	if want := []string{`{"n":"good one"}`, `{"n":"good two"}`}; !slices.Equal(relayed, want) {
		t.Fatalf("queue got %q, want the two good events", relayed)
	}
	dead := drain(t, c.q, c.dlqURL)
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

// TestOrderWritesReachTheQueueInOrder writes an order as the orders
// service does, carrying its event (shared/orderitem), then cancels it with
// one UpdateItem: the relay, run on the table's real stream twice (a
// redelivery), puts exactly the two events on the FIFO queue, created
// before cancelled, in the order's message group.
func TestOrderWritesReachTheQueueInOrder(t *testing.T) {
	ctx := context.Background()
	c := newCloud(t)

	now := time.Now().UTC().Truncate(time.Millisecond)
	const orderID = "01JNQORDER0000000000000077"
	it := orderitem.Item{
		PK: "CUSTOMER#user-ada", SK: orderitem.SKPrefix + orderID, ID: orderID,
		CustomerID: "user-ada", CustomerEmail: "ada@example.com", CustomerName: "Ada", Status: "PENDING",
		Lines: []orderitem.Line{{SKU: "COF-ESP-250", Name: "Espresso beans", Quantity: 2, UnitPrice: 1450, LineTotal: 2900}},
		Total: 2900, Currency: "EUR", CreatedAt: now, UpdatedAt: now, Version: 1,
		EventID: "ev-placed-77", EventType: shared.OrderCreated, CorrelationID: "corr-placed",
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &c.table, Item: item}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &c.table, Key: map[string]dbtypes.AttributeValue{"PK": item["PK"], "SK": item["SK"]},
		UpdateExpression:         aws.String("SET #s = :s, updatedAt = :at, version = version + :one, eventId = :id, eventType = :type, correlationId = :corr"),
		ExpressionAttributeNames: map[string]string{"#s": orderitem.AttrStatus},
		ExpressionAttributeValues: map[string]dbtypes.AttributeValue{
			":s": &dbtypes.AttributeValueMemberS{Value: "CANCELLED"}, ":at": &dbtypes.AttributeValueMemberS{Value: now.Add(time.Second).Format(time.RFC3339Nano)},
			":one": &dbtypes.AttributeValueMemberN{Value: "1"}, ":id": &dbtypes.AttributeValueMemberS{Value: "ev-cancelled-77"},
			":type": &dbtypes.AttributeValueMemberS{Value: shared.OrderCancelled}, ":corr": &dbtypes.AttributeValueMemberS{Value: "corr-cancel"},
		},
	}); err != nil {
		t.Fatal(err)
	}

	batch := testcloud.StreamBatch(t, c.cfg, c.table, 2)
	relay := publisher.New(c.q, c.queueURL, c.dlqURL, logging.New(io.Discard, "relay-test"))
	for attempt := range 2 {
		if resp, err := relay.Handle(ctx, batch); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("relay attempt %d: %+v, %v", attempt, resp, err)
		}
	}
	msgs := drain(t, c.q, c.queueURL)
	var got []string
	for _, m := range msgs {
		ev, err := shared.ParseOrder([]byte(aws.ToString(m.Body)))
		if err != nil {
			t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
		}
		if g := m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != orderID {
			t.Errorf("message group %q, want the order id", g)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %d", ev.Type, ev.ID, ev.CorrelationID, ev.Order.Status, ev.Order.Total))
	}
	want := []string{
		"order.created ev-placed-77 corr-placed PENDING 2900",
		"order.cancelled ev-cancelled-77 corr-cancel CANCELLED 2900",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("queue holds %q, want %q", got, want)
	}
}
