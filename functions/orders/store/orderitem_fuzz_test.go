package store_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/ddb"
)

// FuzzFromStream feeds FromStream stream records decoded from arbitrary
// JSON, starting from the records of testdata/stream.json and edge cases.
// It must never panic. A record it reads is an insert or change of an
// order item with everything the relay needs, and the item it describes,
// stored again, reads back as the same record; a record it passes over is
// not a write of an order item carrying an event.
func FuzzFromStream(f *testing.F) {
	for _, rec := range loadStream(f).Records {
		b, err := json.Marshal(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"eventName":"MODIFY","dynamodb":{"NewImage":{"SK":{"S":"ORDER#1"},"id":{"S":"1"},"eventId":{"N":"1"},"eventType":{"S":"x"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"SK":{"S":"ORDER#1"},"id":{"S":"1"},"eventId":{"S":""},"eventType":{"S":"x"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"SK":{"S":"ORDER#1"},"id":{"S":"1"},"eventId":{"S":"e"},"eventType":{"S":"x"},"createdAt":{"S":"yesterday"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"SK":{"S":"ORDER#1"},"id":{"S":"1"},"eventId":{"S":"e"},"eventType":{"S":"x"},"lines":{"L":[{"M":{"Quantity":{"N":"1e99"}}}]}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":{"SK":{"L":[{"S":"ORDER#1"}]},"eventId":{"S":"e"}}}}`,
		`{"eventName":"modify","dynamodb":{"NewImage":{"SK":{"S":"ORDER#1"},"id":{"S":"1"},"eventId":{"S":"e"},"eventType":{"S":"x"}}}}`,
		`{"eventName":"INSERT","dynamodb":{"NewImage":null}}`,
		`{"eventName":"REMOVE","dynamodb":{"Keys":{"SK":{"S":"ORDER#1"}}}}`,
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		var rec events.DynamoDBEventRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return
		}
		r, ok, err := store.FromStream(rec)
		img := rec.Change.NewImage
		sk := img["SK"]
		write := (rec.EventName == "INSERT" || rec.EventName == "MODIFY") &&
			sk.DataType() == events.DataTypeString && strings.HasPrefix(sk.String(), store.SKPrefix)
		_, carries := img[store.AttrEventID]
		switch {
		case err != nil:
			if ok || r.EventID != "" || r.Body != "" {
				t.Fatalf("FromStream = %+v, %v with the error %v; want nothing", r, ok, err)
			}
			if !write || !carries {
				t.Errorf("FromStream refused a record that is not the relay's: %v", err)
			}
			return
		case !ok:
			if write && carries {
				t.Errorf("FromStream passed over a %s of an order item carrying an event", rec.EventName)
			}
			return
		}
		if !write || !carries {
			t.Errorf("read a %s of %v as an order's event", rec.EventName, img)
		}
		if r.EventID == "" || r.EventType == "" || r.Group == "" || !json.Valid([]byte(r.Body)) {
			t.Errorf("read an incomplete record %+v", r)
		}

		// The item the record describes, stored again, reads as the same.
		var it store.Item
		if err := attributevalue.UnmarshalMap(ddb.FromStreamImage(img), &it); err != nil {
			t.Fatal(err)
		}
		stored, err := attributevalue.MarshalMap(it)
		if err != nil {
			t.Fatal(err)
		}
		again, ok, err := store.FromStream(events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{NewImage: testcloud.StreamImage(t, stored)}})
		if err != nil || !ok || again.Body != r.Body || again.EventID != r.EventID || again.Group != r.Group {
			t.Errorf("stored again, FromStream = %+v, %v, %v; want %+v", again, ok, err, r)
		}
	})
}
