package store

import (
	_ "embed"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/outbox"
)

//go:embed testdata/stream.json
var streamFixture []byte

func stream(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	must(t, json.Unmarshal(streamFixture, &ev))
	return ev
}

func TestFromStream(t *testing.T) {
	t.Parallel()
	recs := stream(t).Records
	tests := []struct {
		name string
		rec  events.DynamoDBEventRecord
		want outbox.Message
		ok   bool
	}{
		{name: "outbox insert", rec: recs[0], ok: true, want: outbox.Message{
			EventID: "01JNQ000000000000000000002", EventType: "order.created", Group: "01JNQ000000000000000000001",
			CorrelationID: "corr-12345678", Body: `{"type":"order.created"}`,
		}},
		{name: "another item of the table", rec: recs[1]},
		{name: "not an insert", rec: recs[2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok, err := FromStream(tc.rec)
			if err != nil || ok != tc.ok || got != tc.want {
				t.Fatalf("FromStream = %+v, %v, %v; want %+v, %v", got, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestFromStreamRefusesAnIncompleteItem(t *testing.T) {
	t.Parallel()
	for _, field := range []string{"eventId", "eventType", "groupId", "payload"} {
		rec := stream(t).Records[0]
		delete(rec.Change.NewImage, field)
		if _, ok, err := FromStream(rec); err == nil || ok {
			t.Errorf("without %s: ok %v, error %v; want an error", field, ok, err)
		}
	}
}

// TestWhatPutWritesTheRelayReads checks the contract end to end: the item
// the store writes, as the table's stream delivers it, is read back as the
// same message.
func TestWhatPutWritesTheRelayReads(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 2, 12, 30, 15, 0, time.UTC)
	in := outbox.Message{EventID: "01JNQ0000000000000000000EV", EventType: "account.verification_requested", Group: "user-1",
		CorrelationID: "corr-1", Body: `{"id":"01JNQ0000000000000000000EV"}`}
	put := outboxPut(t, "users", in, at)
	if *put.TableName != "users" || !strings.Contains(*put.ConditionExpression, "attribute_not_exists") {
		t.Errorf("put = table %s, condition %s", *put.TableName, *put.ConditionExpression)
	}
	if ttl := put.Item["expiresAt"].(*types.AttributeValueMemberN).Value; ttl != "1741523415" {
		t.Errorf("expiresAt = %s, want seven days after the event", ttl)
	}
	rec := events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: testcloud.StreamImage(t, put.Item)}}
	got, ok, err := FromStream(rec)
	if err != nil || !ok || got != in {
		t.Fatalf("read back %+v, %v, %v; want %+v", got, ok, err, in)
	}
}

// must fails t at once on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// errOf is the error of a call that returns it after a value.
func errOf[V any](_ V, err error) error { return err }

// outboxPut is the write of m, which occurred at at, into table.
func outboxPut(t testing.TB, table string, m outbox.Message, at time.Time) *types.Put {
	t.Helper()
	tx := (&Store{table: table}).tx().message(m, at)
	if tx.err != nil {
		t.Fatalf("outbox item %+v: %v", m, tx.err)
	}
	return tx.items[0].Put
}
