// Package relay is the publishing half of the transactional outbox, which
// every service that announces events shares: a service writes an event in
// the same write as its change, its table's stream hands the write to the
// service's relay, and the relay sends the event to the events queue. The
// service reads its own stream records into an outbox.Message (its
// outbox.Reader, next to the code that writes them); everything after that
// is here.
//
// Delivery is at least once from the stream; the queue is FIFO and each
// message carries the event id as its deduplication id, so a record relayed
// twice (a retry after a crash) is enqueued once.
//
// A record the queue refuses for its content (a sender fault such as
// InvalidMessageContents) would be refused on every retry and hold up its
// shard until its events age out of the stream. It is poison: the relay
// moves it to its dead-letter queue with the reason and goes on.
package relay

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/shared/awsretry"
	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/outbox"
)

// Build wires a service's relay from the environment for coldstart.Main:
// EVENTS_QUEUE_URL, and RELAY_DLQ_URL (where records the queue refuses for
// good go).
func Build(read outbox.Reader) coldstart.Build {
	return func(ctx context.Context, env *coldstart.Env, log *slog.Logger) (any, error) {
		queueURL := env.String("EVENTS_QUEUE_URL")
		dlqURL := env.String("RELAY_DLQ_URL")
		if err := env.Err(); err != nil {
			return nil, err
		}
		cfg, err := coldstart.AWSConfig(ctx)
		if err != nil {
			return nil, err
		}
		return New(sqs.NewFromConfig(awsretry.Relay.Apply(cfg)), queueURL, dlqURL, read, log).Handle, nil // see shared/awsretry
	}
}

// SQS is the part of the SQS API the relay uses.
type SQS interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Relay sends the messages of a table's stream records to the queue.
type Relay struct {
	sqs      SQS
	queueURL string
	dlqURL   string
	read     outbox.Reader
	log      *slog.Logger
}

// New returns a relay of the records read reads to the FIFO queue at
// queueURL that moves poison records to the queue at dlqURL.
func New(c SQS, queueURL, dlqURL string, read outbox.Reader, log *slog.Logger) *Relay {
	return &Relay{sqs: c, queueURL: queueURL, dlqURL: dlqURL, read: read, log: log}
}

// Poison is the dead-letter message of a record the queue refused for good.
type Poison struct {
	Reason        string `json:"reason"`
	EventID       string `json:"eventId"`
	EventType     string `json:"eventType"`
	Group         string `json:"group"`
	CorrelationID string `json:"correlationId"`
	// PayloadBase64 is the event as the service wrote it, base64-encoded:
	// whatever the queue refused in it, base64 does not contain.
	PayloadBase64 string `json:"payloadBase64"`
}

// message is a Message and the stream record it came in.
type message struct {
	outbox.Message
	stream events.DynamoDBEventRecord
}

// Handle relays a batch of stream records in order. On the first record that
// cannot be sent it stops and reports that record as the batch item failure:
// Lambda then retries from it, keeping the stream's order, and the records
// before it are not sent again.
func (r *Relay) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	// An empty list rather than null, for the same emulator as the
	// notification handler (see notify.Handle).
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	var pending []message
	for _, rec := range ev.Records {
		switch m, ok, err := r.read(rec); {
		case err != nil:
			// An item this service wrote itself cannot be malformed
			// unless the table was edited by hand; skipping it keeps the
			// shard moving, and the error line makes it visible.
			r.log.ErrorContext(ctx, "outbox record skipped", slog.String("eventId", rec.EventID), slog.String(logging.KeyError, err.Error()))
		case ok:
			pending = append(pending, message{Message: m, stream: rec})
		}
	}
	for _, batch := range batches(pending) {
		if failed, err := r.send(ctx, batch); err != nil {
			r.log.ErrorContext(ctx, "relay failed; stream will retry from this record",
				slog.String("eventId", failed.EventID), slog.String(logging.KeyError, err.Error()))
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: failed.stream.Change.SequenceNumber})
			return resp, nil
		}
	}
	return resp, nil
}

// maxBatchBytes keeps a SendMessageBatch call under SQS's 256 KiB limit
// on the sum of its messages, attributes included.
const maxBatchBytes = 250_000

// batches splits messages, in order, into SendMessageBatch calls of at most
// ten, at most maxBatchBytes (estimated: bodies and attributes), and at
// most one message per group. Were two events of one order in one call,
// SQS could accept the later one and refuse the earlier, and the retry
// would enqueue them out of order.
func batches(msgs []message) [][]message {
	var out [][]message
	var groups map[string]bool
	bytes := 0
	for _, m := range msgs {
		size := len(m.Body) + len(m.EventType) + len(m.CorrelationID) + len(outbox.AttrEventType) + len(outbox.AttrCorrelationID) + 2*len("String")
		if len(out) == 0 || len(out[len(out)-1]) == 10 || groups[m.Group] || bytes+size > maxBatchBytes {
			out = append(out, nil)
			groups, bytes = map[string]bool{}, 0
		}
		out[len(out)-1] = append(out[len(out)-1], m)
		groups[m.Group] = true
		bytes += size
	}
	return out
}

// send enqueues up to ten messages, and moves those the queue refuses for
// good to the dead-letter queue. On failure it returns the first message
// that was neither.
func (r *Relay) send(ctx context.Context, batch []message) (message, error) {
	entries := make([]sqstypes.SendMessageBatchRequestEntry, len(batch))
	for i, m := range batch {
		entries[i] = sqstypes.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(m.Body),
			MessageGroupId:         aws.String(m.Group), // per-order order: created before cancelled
			MessageDeduplicationId: aws.String(m.EventID),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				outbox.AttrEventType:     {DataType: aws.String("String"), StringValue: aws.String(m.EventType)},
				outbox.AttrCorrelationID: {DataType: aws.String("String"), StringValue: aws.String(cmp.Or(m.CorrelationID, "-"))},
			},
		}
	}
	out, err := r.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &r.queueURL, Entries: entries})
	if err != nil {
		return batch[0], fmt.Errorf("send message batch: %w", err)
	}
	// Entries the queue refused: a sender fault is the message's own and
	// permanent (poison); anything else is retried from the first such
	// entry, and the entries after it with it.
	failed := map[int]sqstypes.BatchResultErrorEntry{}
	retryFrom := len(batch)
	for _, f := range out.Failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(batch) {
			return batch[0], fmt.Errorf("send message batch: failure of an unknown entry %q", aws.ToString(f.Id))
		}
		failed[i] = f
		if !f.SenderFault && i < retryFrom {
			retryFrom = i
		}
	}
	for i, m := range batch[:retryFrom] {
		ctx := logging.With(ctx, slog.String(logging.KeyCorrelationID, m.CorrelationID))
		f, refused := failed[i]
		if !refused {
			r.log.InfoContext(ctx, "event relayed", slog.String("eventId", m.EventID), slog.String("eventType", m.EventType), slog.String("group", m.Group))
			continue
		}
		// Refused for good: to the dead-letter queue, with the reason.
		reason := aws.ToString(f.Code) + ": " + aws.ToString(f.Message)
		body, _ := json.Marshal(Poison{ // strings only: it cannot fail
			Reason: reason, EventID: m.EventID, EventType: m.EventType, Group: m.Group, CorrelationID: m.CorrelationID,
			PayloadBase64: base64.StdEncoding.EncodeToString([]byte(m.Body)),
		})
		if _, err := r.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &r.dlqURL, MessageBody: aws.String(string(body))}); err != nil {
			return m, fmt.Errorf("move poison %s to the dead-letter queue: %w", m.EventID, err)
		}
		r.log.ErrorContext(ctx, "poison event moved to the relay dead-letter queue",
			slog.String("eventId", m.EventID), slog.String("eventType", m.EventType), slog.String("reason", reason))
	}
	if retryFrom < len(batch) {
		f := failed[retryFrom]
		return batch[retryFrom], fmt.Errorf("send message batch: %d failed, first to retry %s: %s", len(out.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
	}
	return message{}, nil
}
