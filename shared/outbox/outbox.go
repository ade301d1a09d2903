// Package outbox is the contract of the transactional outbox between a
// service and the relay: the item a service writes into its own table in
// the same transaction as the change it announces, and that the relay reads
// from the table's stream and sends to the queue. Writer and reader use
// this one type, and the relay's stream filter (template.yaml) its Prefix.
package outbox

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Prefix begins the partition key of every outbox item. The relay's event
// source mapping lets only inserts of such items through (FilterPattern).
const Prefix = "OUTBOX#"

// FilterPattern is the event source mapping filter of the relay: inserts of
// outbox items only. template.yaml carries it; a test checks they agree.
const FilterPattern = `{"eventName":["INSERT"],"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"` + Prefix + `"}]}}}}`

// TTL is how long an outbox item stays in its table after it is written:
// far longer than the relay ever lags, short enough to keep tables small.
const TTL = 7 * 24 * time.Hour

// sortKey is the sort key of every outbox item.
const sortKey = "EVENT"

// Record is an event waiting to be relayed.
type Record struct {
	EventID       string
	EventType     string
	Group         string // queue message group: a group's events arrive in order
	CorrelationID string
	Payload       string // the event, as the queue's consumers read it
	OccurredAt    time.Time
}

// item is a Record as stored.
type item struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	EventID       string `dynamodbav:"eventId"`
	EventType     string `dynamodbav:"eventType"`
	Group         string `dynamodbav:"groupId"`
	CorrelationID string `dynamodbav:"correlationId"`
	Payload       string `dynamodbav:"payload"`
	ExpiresAt     int64  `dynamodbav:"expiresAt"`
}

// Put is the transaction item that writes r into table, once: the event id
// is the key, so a retried transaction cannot write it twice.
func Put(table string, r Record) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(item{
		PK: Prefix + r.EventID, SK: sortKey, EventID: r.EventID, EventType: r.EventType,
		Group: r.Group, CorrelationID: r.CorrelationID, Payload: r.Payload,
		ExpiresAt: r.OccurredAt.Add(TTL).Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("outbox item %s: %w", r.EventID, err)
	}
	return &types.Put{TableName: &table, Item: av, ConditionExpression: aws.String("attribute_not_exists(PK)")}, nil
}

// FromStream reads the record of a stream record. ok is false for records
// that are not inserts of outbox items: they are not the relay's. An outbox
// item without its event id, type, group or payload is an error.
func FromStream(rec events.DynamoDBEventRecord) (r Record, ok bool, err error) {
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
		return Record{}, false, nil
	}
	img := rec.Change.NewImage
	pk := str(img, "PK")
	if !strings.HasPrefix(pk, Prefix) {
		return Record{}, false, nil
	}
	r = Record{
		EventID: str(img, "eventId"), EventType: str(img, "eventType"), Group: str(img, "groupId"),
		CorrelationID: str(img, "correlationId"), Payload: str(img, "payload"),
	}
	if r.Group == "" {
		// Items written before the group had its own name carried the
		// order id; they are relayed within seconds of an upgrade.
		r.Group = str(img, "orderId")
	}
	if r.EventID == "" || r.EventType == "" || r.Group == "" || r.Payload == "" {
		return Record{}, false, fmt.Errorf("outbox item %s lacks eventId, eventType, groupId or payload", pk)
	}
	return r, true, nil
}

func str(img map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}
