// Package outbox relays events from the orders table's outbox to the order
// events queue. It is the publishing half of the transactional outbox: the
// orders service writes an event in the same transaction as the order, the
// table's stream hands the new item to this relay, and the relay sends it.
//
// Delivery is at least once from the stream; the queue is FIFO and each
// message carries the event id as its deduplication id, so a record relayed
// twice (a retry after a crash) is enqueued once.
package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/shared/logging"
)

// SQS is the part of the SQS API the relay uses.
type SQS interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Message attribute names set on every relayed event.
const (
	AttrEventType     = "eventType"
	AttrCorrelationID = "correlationId"
)

// outboxPrefix is the partition key prefix of outbox items (see the orders
// store); the event source mapping filters on it as well.
const outboxPrefix = "OUTBOX#"

// Relay sends outbox records to the queue.
type Relay struct {
	sqs      SQS
	queueURL string
	log      *slog.Logger
}

// New returns a relay to the FIFO queue at queueURL.
func New(c SQS, queueURL string, log *slog.Logger) *Relay {
	return &Relay{sqs: c, queueURL: queueURL, log: log}
}

type message struct {
	record        events.DynamoDBEventRecord
	eventID       string
	eventType     string
	orderID       string
	correlationID string
	payload       string
}

// Handle relays a batch of stream records in order. On the first record that
// cannot be sent it stops and reports that record as the batch item failure:
// Lambda then retries from it, keeping the stream's order, and the records
// before it are not sent again.
func (r *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var pending []message
	for _, rec := range ev.Records {
		m, ok, err := parse(rec)
		if err != nil {
			// An outbox item this service wrote itself cannot be malformed
			// unless the table was edited by hand; skipping it keeps the
			// shard moving, and the error line makes it visible.
			r.log.ErrorContext(ctx, "outbox record skipped", slog.String("eventId", rec.EventID), slog.String(logging.KeyError, err.Error()))
			continue
		}
		if ok {
			pending = append(pending, m)
		}
	}
	for _, batch := range batches(pending) {
		if failed, err := r.send(ctx, batch); err != nil {
			r.log.ErrorContext(ctx, "relay failed; stream will retry from this record",
				slog.String("eventId", failed.eventID), slog.String(logging.KeyError, err.Error()))
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
				{ItemIdentifier: failed.record.Change.SequenceNumber},
			}}, nil
		}
	}
	// An empty list rather than null, for the same emulator as the
	// notification handler (see notify.Handle).
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}, nil
}

// batches splits messages, in order, into SendMessageBatch calls of at most
// ten with at most one message per order. Were two events of one order in
// one call, SQS could accept the later one and refuse the earlier, and the
// retry would enqueue them out of order.
func batches(msgs []message) [][]message {
	var out [][]message
	var cur []message
	groups := map[string]bool{}
	for _, m := range msgs {
		if len(cur) == 10 || groups[m.orderID] {
			out = append(out, cur)
			cur, groups = nil, map[string]bool{}
		}
		cur = append(cur, m)
		groups[m.orderID] = true
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// send enqueues up to ten messages. On failure it returns the first message
// that was not enqueued.
func (r *Relay) send(ctx context.Context, batch []message) (message, error) {
	entries := make([]sqstypes.SendMessageBatchRequestEntry, len(batch))
	for i, m := range batch {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(m.payload),
			MessageGroupId:         aws.String(m.orderID), // per-order order: created before cancelled
			MessageDeduplicationId: aws.String(m.eventID),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				AttrEventType:     {DataType: aws.String("String"), StringValue: aws.String(m.eventType)},
				AttrCorrelationID: {DataType: aws.String("String"), StringValue: aws.String(nonEmpty(m.correlationID))},
			},
		}
	}
	out, err := r.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &r.queueURL, Entries: entries})
	if err != nil {
		return batch[0], fmt.Errorf("send message batch: %w", err)
	}
	if len(out.Failed) > 0 {
		first := len(batch)
		for _, f := range out.Failed {
			if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i < first {
				first = i
			}
		}
		if first == len(batch) {
			first = 0
		}
		f := out.Failed[0]
		return batch[first], fmt.Errorf("send message batch: %d failed, first %s: %s", len(out.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	for _, m := range batch {
		r.log.InfoContext(logging.With(ctx, slog.String(logging.KeyCorrelationID, m.correlationID)), "event relayed",
			slog.String("eventId", m.eventID), slog.String("eventType", m.eventType), slog.String("orderId", m.orderID))
	}
	return message{}, nil
}

// parse extracts the message of an outbox INSERT record. ok is false for
// records that are not outbox inserts (they are not for the relay).
func parse(rec events.DynamoDBEventRecord) (m message, ok bool, err error) {
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
		return message{}, false, nil
	}
	img := rec.Change.NewImage
	pk, _ := str(img, "PK")
	if !strings.HasPrefix(pk, outboxPrefix) {
		return message{}, false, nil
	}
	m = message{record: rec}
	var okID, okType, okOrder, okPayload bool
	m.eventID, okID = str(img, "eventId")
	m.eventType, okType = str(img, "eventType")
	m.orderID, okOrder = str(img, "orderId")
	m.payload, okPayload = str(img, "payload")
	m.correlationID, _ = str(img, "correlationId")
	if !okID || !okType || !okOrder || !okPayload {
		return message{}, false, fmt.Errorf("outbox item %s lacks eventId, eventType, orderId or payload", pk)
	}
	return m, true, nil
}

func str(img map[string]events.DynamoDBAttributeValue, name string) (string, bool) {
	v, ok := img[name]
	if !ok || v.DataType() != events.DataTypeString || v.String() == "" {
		return "", false
	}
	return v.String(), true
}

func nonEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
