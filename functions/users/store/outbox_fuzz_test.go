package store

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/outbox"
)

// FuzzFromStream feeds FromStream stream records decoded from arbitrary
// JSON, starting from the records of testdata/stream.json and edge cases.
// It must never panic. A record it reads is an insert of an outbox item
// with everything the relay needs, and the item outboxPut writes for that
// message reads back as the same message; a record it passes over is not an insert
// of an outbox item; a record it refuses is one, without its parts.
func FuzzFromStream(f *testing.F) {
	var fixture struct{ Records []json.RawMessage }
	if err := json.Unmarshal(streamFixture, &fixture); err != nil || len(fixture.Records) == 0 {
		f.Fatalf("testdata/stream.json: %d records, %v", len(fixture.Records), err)
	}
	for _, rec := range fixture.Records {
		f.Add([]byte(rec))
	}
	for _, s := range []string{
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"PK":{"S":"OUTBOX#"},"eventId":{"N":"1"},"eventType":{"S":"x"},"groupId":{"NULL":true},"payload":{"B":"eA=="}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"PK":{"L":[{"S":"OUTBOX#1"}]},"payload":{"M":{"S":{"S":"x"}}}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"PK":{"S":"OUTBOX#1"},"eventId":{"S":"1"},"eventType":{"S":"order.created"},"groupId":{"S":""},"orderId":{"S":""},"payload":{"S":"{}"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"PK":{"S":"OUTBOX#1","N":"1"},"eventId":{"S":"1","S":"2"},"eventType":{"SS":["x"]},"groupId":{"S":"g"},"payload":{"S":""}}}}`,
		`{"eventName":"insert","dynamodb":{"NewImage":{"PK":{"S":"OUTBOX#1"},"eventId":{"S":"1"},"eventType":{"S":"x"},"groupId":{"S":"g"},"payload":{"S":"p"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"PK":{"S":"outbox#1"},"eventId":{"S":"1"},"eventType":{"S":"x"},"groupId":{"S":"g"},"payload":{"S":"p"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":null}}`,
		`{"eventName":"REMOVE","dynamodb":{"OldImage":{"PK":{"S":"OUTBOX#1"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"PK":{"NULL":false},"x":{"N":"1e999999"},"y":{"BOOL":"yes"},"z":{}}}}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		var rec events.DynamoDBEventRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return
		}
		r, ok, err := FromStream(rec)
		pk, isString := stringValue(rec.Change.NewImage["PK"])
		outboxInsert := rec.EventName == "INSERT" && isString && strings.HasPrefix(pk, OutboxPrefix)
		switch {
		case err != nil:
			if ok || r != (outbox.Message{}) {
				t.Fatalf("FromStream = %+v, %v with the error %v; want nothing", r, ok, err)
			}
			if !outboxInsert {
				t.Errorf("FromStream refused a %s of the item %q, which is not the relay's: %v", rec.EventName, pk, err)
			}
			return
		case !ok:
			if r != (outbox.Message{}) {
				t.Fatalf("FromStream = %+v for a record that is not the relay's", r)
			}
			if outboxInsert {
				t.Errorf("FromStream passed over an insert of the outbox item %q", pk)
			}
			return
		}

		if !outboxInsert {
			t.Errorf("read a %s of the item %q as an outbox insert", rec.EventName, pk)
		}
		if r.EventID == "" || r.EventType == "" || r.Group == "" || r.Body == "" {
			t.Errorf("read an incomplete record %+v", r)
		}

		// What outboxPut writes for r, the relay reads as r.
		put := outboxPut(t, "users", r, time.Now())
		again, ok, err := FromStream(events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: testcloud.StreamImage(t, put.Item)}})
		if err != nil || !ok || again != r {
			t.Errorf("outboxPut then FromStream = %+v, %v, %v; want %+v", again, ok, err, r)
		}
	})
}

// stringValue is the value of a string attribute.
func stringValue(v events.DynamoDBAttributeValue) (string, bool) {
	if v.DataType() != events.DataTypeString {
		return "", false
	}
	return v.String(), true
}
