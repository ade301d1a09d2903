package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/ddb"
	shared "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/outbox"
)

// OutboxPrefix begins the partition key of every outbox item: an account
// event waiting for the users relay (functions/users/usersrelay), written in
// the same transaction as the change it announces.
const OutboxPrefix = "OUTBOX#"

// OutboxFilter is the users relay's event source mapping filter: inserts of
// outbox items only. template.yaml carries it; a test checks they agree.
const OutboxFilter = `{"eventName":["INSERT"],"dynamodb":{"Keys":{"PK":{"S":[{"prefix":"` + OutboxPrefix + `"}]}}}}`

// outboxTTL is how long an outbox item stays in the table after it is
// written: far longer than the relay ever lags, short enough to keep the
// table small.
const outboxTTL = 7 * 24 * time.Hour

// outboxItem is a message waiting for the relay, as stored.
type outboxItem struct {
	key
	EventID       string `dynamodbav:"eventId"`
	EventType     string `dynamodbav:"eventType"`
	Group         string `dynamodbav:"groupId"`
	CorrelationID string `dynamodbav:"correlationId"`
	Payload       string `dynamodbav:"payload"`
	ExpiresAt     int64  `dynamodbav:"expiresAt"`
}

// event adds the write that queues ev for the relay. The account's events
// keep their order (one message group per user).
func (t *tx) event(ev shared.AccountEvent) *tx {
	payload, err := json.Marshal(ev)
	t.err = errors.Join(t.err, err)
	return t.message(outbox.Message{
		EventID: ev.ID, EventType: ev.Type, Group: ev.Account.ID, CorrelationID: ev.CorrelationID, Body: string(payload),
	}, ev.OccurredAt)
}

// message adds the write of m, which occurred at at, once: the event id is
// the key, so a retried transaction cannot write it twice.
func (t *tx) message(m outbox.Message, at time.Time) *tx {
	return t.put(outboxItem{
		key: key{OutboxPrefix + m.EventID, "EVENT"}, EventID: m.EventID, EventType: m.EventType,
		Group: m.Group, CorrelationID: m.CorrelationID, Payload: m.Body, ExpiresAt: at.Add(outboxTTL).Unix(),
	}, absent())
}

// FromStream reads the message of a stream record of the users table for
// the relay (an outbox.Reader). ok is false for records that are not
// inserts of outbox items. An outbox item without its event id, type, group
// or payload, or with an attribute not of its type, is an error.
func FromStream(rec events.DynamoDBEventRecord) (outbox.Message, bool, error) {
	pk := rec.Change.NewImage["PK"]
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) || pk.DataType() != events.DataTypeString || !strings.HasPrefix(pk.String(), OutboxPrefix) {
		return outbox.Message{}, false, nil
	}
	r, ok := decode[outboxItem](ddb.FromStreamImage(rec.Change.NewImage))
	m := outbox.Message{EventID: r.EventID, EventType: r.EventType, Group: r.Group, CorrelationID: r.CorrelationID, Body: r.Payload}
	if !ok || m.EventID == "" || m.EventType == "" || m.Group == "" || m.Body == "" {
		return outbox.Message{}, false, fmt.Errorf("outbox item %s lacks eventId, eventType, groupId or payload, or holds one of another type", pk.String())
	}
	return m, true, nil
}
