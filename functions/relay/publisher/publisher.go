// Package publisher relays events from a table's outbox to the events queue. It
// is the publishing half of the transactional outbox: a service writes an
// event in the same transaction as its change (shared/outbox), the table's
// stream hands the new item to this relay, and the relay sends it.
//
// Delivery is at least once from the stream; the queue is FIFO and each
// message carries the event id as its deduplication id, so a record relayed
// twice (a retry after a crash) is enqueued once.
package publisher

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/outbox"
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

// message is an outbox record and the stream record it came in.
type message struct {
	outbox.Record
	stream events.DynamoDBEventRecord
}

// Handle relays a batch of stream records in order. On the first record that
// cannot be sent it stops and reports that record as the batch item failure:
// Lambda then retries from it, keeping the stream's order, and the records
// before it are not sent again.
func (r *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var pending []message
	for _, rec := range ev.Records {
		rel, ok, err := outbox.FromStream(rec)
		if err != nil {
			// An outbox item this service wrote itself cannot be malformed
			// unless the table was edited by hand; skipping it keeps the
			// shard moving, and the error line makes it visible.
			r.log.ErrorContext(ctx, "outbox record skipped", slog.String("eventId", rec.EventID), slog.String(logging.KeyError, err.Error()))
			continue
		}
		if ok {
			pending = append(pending, message{Record: rel, stream: rec})
		}
	}
	for _, batch := range batches(pending) {
		if failed, err := r.send(ctx, batch); err != nil {
			r.log.ErrorContext(ctx, "relay failed; stream will retry from this record",
				slog.String("eventId", failed.EventID), slog.String(logging.KeyError, err.Error()))
			return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{
				{ItemIdentifier: failed.stream.Change.SequenceNumber},
			}}, nil
		}
	}
	// An empty list rather than null, for the same emulator as the
	// notification handler (see notify.Handle).
	return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}, nil
}

// batches splits messages, in order, into SendMessageBatch calls of at most
// ten with at most one message per group. Were two events of one order in
// one call, SQS could accept the later one and refuse the earlier, and the
// retry would enqueue them out of order.
func batches(msgs []message) [][]message {
	var out [][]message
	var cur []message
	groups := map[string]bool{}
	for _, m := range msgs {
		if len(cur) == 10 || groups[m.Group] {
			out = append(out, cur)
			cur, groups = nil, map[string]bool{}
		}
		cur = append(cur, m)
		groups[m.Group] = true
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
			MessageBody:            aws.String(m.Payload),
			MessageGroupId:         aws.String(m.Group), // per-order order: created before cancelled
			MessageDeduplicationId: aws.String(m.EventID),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				AttrEventType:     {DataType: aws.String("String"), StringValue: aws.String(m.EventType)},
				AttrCorrelationID: {DataType: aws.String("String"), StringValue: aws.String(nonEmpty(m.CorrelationID))},
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
		r.log.InfoContext(logging.With(ctx, slog.String(logging.KeyCorrelationID, m.CorrelationID)), "event relayed",
			slog.String("eventId", m.EventID), slog.String("eventType", m.EventType), slog.String("group", m.Group))
	}
	return message{}, nil
}

func nonEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
