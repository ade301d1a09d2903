package publisher

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	ordersevents "github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/outbox"
)

const queueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/order-events.fifo"

const dlqURL = "https://sqs.us-east-1.amazonaws.com/123456789012/relay-dead-letters"

// fakeSQS is an SQS whose methods are function fields.
type fakeSQS struct {
	SendMessageBatchFunc func(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	SendMessageFunc      func(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQS = (*fakeSQS)(nil)

func (f *fakeSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	return f.SendMessageBatchFunc(ctx, in, opts...)
}

func (f *fakeSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	return f.SendMessageFunc(ctx, in, opts...)
}

// recorder answers SendMessageBatch calls with answer (success when nil)
// and dead-letter sends with dlqErr, and records every call.
type recorder struct {
	calls  []*sqs.SendMessageBatchInput
	answer func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error)
	dlq    []*sqs.SendMessageInput
	dlqErr error
}

func (r *recorder) fake() *fakeSQS {
	return &fakeSQS{
		SendMessageBatchFunc: func(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
			r.calls = append(r.calls, in)
			if r.answer != nil {
				return r.answer(len(r.calls), in)
			}
			return &sqs.SendMessageBatchOutput{}, nil
		},
		SendMessageFunc: func(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
			r.dlq = append(r.dlq, in)
			return &sqs.SendMessageOutput{}, r.dlqErr
		},
	}
}

// sentBodies lists the bodies of every entry sent, in order.
func (r *recorder) sent() []sqstypes.SendMessageBatchRequestEntry {
	var out []sqstypes.SendMessageBatchRequestEntry
	for _, c := range r.calls {
		out = append(out, c.Entries...)
	}
	return out
}

func loadEvent(t *testing.T, name string) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(ev.Records) == 0 {
		t.Fatalf("%s has no records", name)
	}
	return ev
}

// logBuffer is a JSON log whose lines a test can read back.
type logBuffer struct{ bytes.Buffer }

func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func (b *logBuffer) withLevel(t *testing.T, level string) []map[string]any {
	var out []map[string]any
	for _, l := range b.lines(t) {
		if l["level"] == level {
			out = append(out, l)
		}
	}
	return out
}

func newRelay(r *recorder) (*Relay, *logBuffer) {
	var log logBuffer
	return New(r.fake(), queueURL, dlqURL, slog.New(slog.NewJSONHandler(&log, nil))), &log
}

func attr(v string) sqstypes.MessageAttributeValue {
	return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// entry is the message an outbox record of the fixtures must become.
func entry(id, eventID, eventType, orderID, correlationID, payload string) sqstypes.SendMessageBatchRequestEntry {
	return sqstypes.SendMessageBatchRequestEntry{
		Id:                     aws.String(id),
		MessageBody:            aws.String(payload),
		MessageGroupId:         aws.String(orderID),
		MessageDeduplicationId: aws.String(eventID),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			AttrEventType:     attr(eventType),
			AttrCorrelationID: attr(correlationID),
		},
	}
}

// payloadOf returns the payload attribute of a fixture record.
func payloadOf(t *testing.T, rec events.DynamoDBEventRecord) string {
	t.Helper()
	p, ok := rec.Change.NewImage["payload"]
	if !ok {
		t.Fatalf("record %s has no payload", rec.EventID)
	}
	return p.String()
}

func TestHandleSendsOutboxInserts(t *testing.T) {
	ev := loadEvent(t, "inserts.json")
	var r recorder
	relay, _ := newRelay(&r)

	resp, err := relay.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle() error = %v", err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %+v, want none", resp.BatchItemFailures)
	}
	// The third event is the second of order 1: it goes in a call of its own.
	if len(r.calls) != 2 {
		t.Fatalf("SendMessageBatch calls = %d, want 2", len(r.calls))
	}
	if got := aws.ToString(r.calls[0].QueueUrl); got != queueURL {
		t.Errorf("QueueUrl = %q, want %q", got, queueURL)
	}
	want := []sqstypes.SendMessageBatchRequestEntry{
		entry("0", "01JNQEVENT0000000000000001", "order.created", "01JNQORDER0000000000000001", "corr-req-0001", payloadOf(t, ev.Records[0])),
		// No correlation id in the item: SQS refuses empty attribute values.
		entry("1", "01JNQEVENT0000000000000002", "order.created", "01JNQORDER0000000000000002", "-", payloadOf(t, ev.Records[1])),
		entry("0", "01JNQEVENT0000000000000003", "order.cancelled", "01JNQORDER0000000000000001", "corr-req-0003", payloadOf(t, ev.Records[2])),
	}
	if got := r.sent(); !reflect.DeepEqual(got, want) {
		t.Errorf("entries =\n%s\nwant\n%s", dump(got), dump(want))
	}
	// The body is the event exactly as the orders service wrote it.
	for i, e := range r.sent() {
		parsed, err := ordersevents.ParseOrder([]byte(aws.ToString(e.MessageBody)))
		if err != nil {
			t.Errorf("entry %d body does not parse: %v", i, err)
			continue
		}
		if parsed.ID != aws.ToString(e.MessageDeduplicationId) || parsed.Order.ID != aws.ToString(e.MessageGroupId) {
			t.Errorf("entry %d: dedup id %s / group %s do not match event %s of order %s", i,
				aws.ToString(e.MessageDeduplicationId), aws.ToString(e.MessageGroupId), parsed.ID, parsed.Order.ID)
		}
	}
}

// TestHandleSendsOrderItemWrites relays the writes of order items, which
// carry their event (shared/orderitem/testdata/stream.json): a placed
// order and its cancellation in that order, in two calls (one group), and
// nothing for the order items of an earlier version, other items or
// removals. The malformed order item is skipped with an error line.
func TestHandleSendsOrderItemWrites(t *testing.T) {
	ev := loadEvent(t, "../../../../shared/orderitem/testdata/stream.json")
	var r recorder
	relay, log := newRelay(&r)

	resp, err := relay.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle() = %+v, %v; want no failures", resp, err)
	}
	want := []struct{ eventID, eventType, orderID, correlationID string }{
		{"01JNQEVENT0000000000000001", "order.created", "01JNQORDER0000000000000001", "corr-req-0001"},
		// The same order's next event starts the second call.
		{"01JNQEVENT0000000000000002", "order.cancelled", "01JNQORDER0000000000000001", "corr-req-0002"},
		{"01JNQEVENT0000000000000006", "order.created", "01JNQORDER0000000000000004", "-"},
	}
	sent := r.sent()
	if len(r.calls) != 2 || len(sent) != len(want) {
		t.Fatalf("%d calls sent %s; want 2 calls sending %d", len(r.calls), dump(sent), len(want))
	}
	for i, w := range want {
		e := sent[i]
		if aws.ToString(e.MessageDeduplicationId) != w.eventID || aws.ToString(e.MessageGroupId) != w.orderID ||
			aws.ToString(e.MessageAttributes[AttrEventType].StringValue) != w.eventType ||
			aws.ToString(e.MessageAttributes[AttrCorrelationID].StringValue) != w.correlationID {
			t.Errorf("entry %d = %s, want %+v", i, dump(sent[i:i+1]), w)
		}
		parsed, err := ordersevents.ParseOrder([]byte(aws.ToString(e.MessageBody)))
		if err != nil || parsed.ID != w.eventID || parsed.Type != w.eventType || parsed.Order.ID != w.orderID {
			t.Errorf("entry %d body = %s (%v), want the event %s", i, aws.ToString(e.MessageBody), err, w.eventID)
		}
	}
	errs := log.withLevel(t, "ERROR")
	if len(errs) != 1 || errs[0]["eventId"] != ev.Records[5].EventID {
		t.Errorf("error lines = %v, want one for the malformed record %s", errs, ev.Records[5].EventID)
	}
}

func TestHandleSkipsWhatIsNotAnOutboxInsert(t *testing.T) {
	ev := loadEvent(t, "mixed.json")
	var r recorder
	relay, log := newRelay(&r)

	resp, err := relay.Handle(context.Background(), ev)
	if err != nil {
		t.Fatalf("Handle() error = %v", err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %+v, want none", resp.BatchItemFailures)
	}
	// Records 2 and 7 are the only well-formed outbox inserts; 0, 1 and 6
	// are other items, 3 and 4 a MODIFY and a REMOVE of outbox items, and
	// 5 an outbox insert without payload.
	want := []sqstypes.SendMessageBatchRequestEntry{
		entry("0", "01JNQEVENT0000000000000001", "order.created", "01JNQORDER0000000000000001", "corr-req-0001", payloadOf(t, ev.Records[2])),
		// Same order as the first: sent in a second call.
		entry("0", "01JNQEVENT0000000000000006", "order.cancelled", "01JNQORDER0000000000000001", "corr-req-0006", payloadOf(t, ev.Records[7])),
	}
	if got := r.sent(); !reflect.DeepEqual(got, want) {
		t.Errorf("sent =\n%s\nwant\n%s", dump(got), dump(want))
	}

	errs := log.withLevel(t, "ERROR")
	if len(errs) != 1 {
		t.Fatalf("error log lines = %v, want one", errs)
	}
	if errs[0]["msg"] != "outbox record skipped" || errs[0]["eventId"] != ev.Records[5].EventID {
		t.Errorf("error line = %v, want the skipped record %s", errs[0], ev.Records[5].EventID)
	}
	if e, _ := errs[0]["error"].(string); !strings.Contains(e, "OUTBOX#01JNQEVENT0000000000000005") {
		t.Errorf("error %q does not name the item", e)
	}
}

func TestHandleSkipsMalformedOutboxItems(t *testing.T) {
	tests := []struct {
		name   string
		remove string // attribute removed from the first record's image
		empty  bool   // set to "" instead of removed
		number bool   // set to a number instead of removed
	}{
		{name: "no payload", remove: "payload"},
		{name: "no event id", remove: "eventId"},
		{name: "no event type", remove: "eventType"},
		{name: "no group", remove: "groupId"},
		{name: "empty payload", remove: "payload", empty: true},
		{name: "numeric group", remove: "groupId", number: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := loadEvent(t, "inserts.json")
			img := ev.Records[0].Change.NewImage
			switch {
			case tt.empty:
				img[tt.remove] = events.NewStringAttribute("")
			case tt.number:
				img[tt.remove] = events.NewNumberAttribute("42")
			default:
				delete(img, tt.remove)
			}
			var r recorder
			relay, log := newRelay(&r)
			resp, err := relay.Handle(context.Background(), ev)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("Handle() = %+v, %v; want no failures", resp, err)
			}
			sent := r.sent()
			if len(sent) != 2 || aws.ToString(sent[0].MessageDeduplicationId) != "01JNQEVENT0000000000000002" ||
				aws.ToString(sent[1].MessageDeduplicationId) != "01JNQEVENT0000000000000003" {
				t.Errorf("sent %s, want the two other records", dump(sent))
			}
			if errs := log.withLevel(t, "ERROR"); len(errs) != 1 || errs[0]["eventId"] != ev.Records[0].EventID {
				t.Errorf("error lines = %v, want one for %s", errs, ev.Records[0].EventID)
			}
		})
	}
}

// TestHandleNothingToSend checks that a batch without outbox inserts makes
// no call.
func TestHandleNothingToSend(t *testing.T) {
	mixed := loadEvent(t, "mixed.json")
	tests := []struct {
		name string
		ev   events.DynamoDBEvent
	}{
		{"empty", events.DynamoDBEvent{}},
		{"only other records", events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
			mixed.Records[0], mixed.Records[1], mixed.Records[3], mixed.Records[4], mixed.Records[6],
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r recorder
			relay, _ := newRelay(&r)
			resp, err := relay.Handle(context.Background(), tt.ev)
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Errorf("Handle() = %+v, %v", resp, err)
			}
			if len(r.calls) != 0 {
				t.Errorf("SendMessageBatch called %d times", len(r.calls))
			}
		})
	}
}

func TestHandleBatchesOfTen(t *testing.T) {
	ev := loadEvent(t, "batches.json")
	var r recorder
	relay, _ := newRelay(&r)

	resp, err := relay.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle() = %+v, %v", resp, err)
	}
	var sizes []int
	for _, c := range r.calls {
		sizes = append(sizes, len(c.Entries))
		for i, e := range c.Entries {
			if aws.ToString(e.Id) != strconv.Itoa(i) {
				t.Errorf("entry id %q at %d; ids must be unique within a batch", aws.ToString(e.Id), i)
			}
		}
	}
	if want := []int{10, 10, 3}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batch sizes = %v, want %v", sizes, want)
	}
	// Stream order is kept across batches.
	sent := r.sent()
	for i, rec := range ev.Records {
		if i >= len(sent) {
			break
		}
		want := rec.Change.NewImage["eventId"].String()
		if got := aws.ToString(sent[i].MessageDeduplicationId); got != want {
			t.Errorf("message %d is event %s, want %s", i, got, want)
		}
	}
}

func TestHandleSendError(t *testing.T) {
	ev := loadEvent(t, "batches.json")
	tests := []struct {
		name      string
		failCall  int // the SendMessageBatch call that fails
		wantFirst int // index of the record reported
	}{
		{"first batch", 1, 0},
		{"second batch", 2, 10},
		{"last batch", 3, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recorder{answer: func(call int, _ *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				if call == tt.failCall {
					return nil, errors.New("sqs: service unavailable")
				}
				return &sqs.SendMessageBatchOutput{}, nil
			}}
			relay, log := newRelay(&r)
			resp, err := relay.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle() error = %v; failures must be reported per item", err)
			}
			want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[tt.wantFirst].Change.SequenceNumber}}
			if !reflect.DeepEqual(resp.BatchItemFailures, want) {
				t.Errorf("failures = %+v, want %+v", resp.BatchItemFailures, want)
			}
			if len(r.calls) != tt.failCall {
				t.Errorf("SendMessageBatch calls = %d, want %d: nothing after the failure may be sent", len(r.calls), tt.failCall)
			}
			if errs := log.withLevel(t, "ERROR"); len(errs) != 1 || errs[0]["eventId"] != ev.Records[tt.wantFirst].Change.NewImage["eventId"].String() {
				t.Errorf("error lines = %v", errs)
			}
		})
	}
}

func TestHandlePartialFailure(t *testing.T) {
	ev := loadEvent(t, "batches.json")
	failed := func(ids ...string) *sqs.SendMessageBatchOutput {
		out := &sqs.SendMessageBatchOutput{}
		for _, id := range ids {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{
				Id: aws.String(id), Code: aws.String("InternalError"), Message: aws.String("try again"), SenderFault: false,
			})
		}
		return out
	}
	tests := []struct {
		name      string
		failCall  int
		out       *sqs.SendMessageBatchOutput
		wantFirst int
	}{
		{"entry 3 of the first batch", 1, failed("3"), 3},
		{"entry 3 of the second batch", 2, failed("3"), 13},
		{"lowest failed entry", 1, failed("7", "3", "5"), 3},
		{"entry 0", 1, failed("0"), 0},
		{"last entry of the last batch", 3, failed("2"), 22},
		{"unknown id falls back to the batch start", 2, failed("x"), 10},
		{"out-of-range id falls back to the batch start", 1, failed("99"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recorder{answer: func(call int, _ *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
				if call == tt.failCall {
					return tt.out, nil
				}
				return &sqs.SendMessageBatchOutput{}, nil
			}}
			relay, _ := newRelay(&r)
			resp, err := relay.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle() error = %v", err)
			}
			want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: ev.Records[tt.wantFirst].Change.SequenceNumber}}
			if !reflect.DeepEqual(resp.BatchItemFailures, want) {
				t.Errorf("failures = %+v, want %+v", resp.BatchItemFailures, want)
			}
			if len(r.calls) != tt.failCall {
				t.Errorf("SendMessageBatch calls = %d, want %d", len(r.calls), tt.failCall)
			}
		})
	}
}

// TestHandleFailureAfterSkippedRecords checks that the reported record is
// the first unsent outbox record, not the first record of the event.
func TestHandleFailureAfterSkippedRecords(t *testing.T) {
	ev := loadEvent(t, "mixed.json")
	tests := []struct {
		name string
		out  *sqs.SendMessageBatchOutput
		err  error
		want string
	}{
		{"send error", nil, errors.New("timeout"), ev.Records[2].Change.SequenceNumber},
		// Records 2 and 7 are events of one order, so they go in separate
		// calls; the first call's entry 0 is record 2.
		{"first call's entry failed", &sqs.SendMessageBatchOutput{Failed: []sqstypes.BatchResultErrorEntry{{Id: aws.String("0")}}}, nil, ev.Records[2].Change.SequenceNumber},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := recorder{answer: func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) { return tt.out, tt.err }}
			relay, _ := newRelay(&r)
			resp, err := relay.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			want := []events.DynamoDBBatchItemFailure{{ItemIdentifier: tt.want}}
			if !reflect.DeepEqual(resp.BatchItemFailures, want) {
				t.Errorf("failures = %+v, want %+v", resp.BatchItemFailures, want)
			}
		})
	}
}

// TestHandleResponseJSON checks the response shape Lambda reads for
// ReportBatchItemFailures.
func TestHandleResponseJSON(t *testing.T) {
	ev := loadEvent(t, "inserts.json")
	r := recorder{answer: func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		return nil, errors.New("down")
	}}
	relay, _ := newRelay(&r)
	resp, err := relay.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"batchItemFailures":[{"itemIdentifier":"100000000000000000001"}]}`; string(b) != want {
		t.Errorf("response = %s, want %s", b, want)
	}
}

func dump(entries []sqstypes.SendMessageBatchRequestEntry) string {
	var sb strings.Builder
	for _, e := range entries {
		sb.WriteString("  id=" + aws.ToString(e.Id) + " group=" + aws.ToString(e.MessageGroupId) +
			" dedup=" + aws.ToString(e.MessageDeduplicationId))
		for k, v := range e.MessageAttributes {
			sb.WriteString(" " + k + "=" + aws.ToString(v.StringValue) + "/" + aws.ToString(v.DataType))
		}
		body := aws.ToString(e.MessageBody)
		sb.WriteString(" body=" + body[:min(len(body), 40)] + "\n")
	}
	return sb.String()
}

func TestBatchesKeepOneEventPerOrderPerCall(t *testing.T) {
	msg := func(order, id string) message { return message{Record: outbox.Record{Group: order, EventID: id}} }
	ids := func(bs [][]message) [][]string {
		var out [][]string
		for _, b := range bs {
			var row []string
			for _, m := range b {
				row = append(row, m.EventID)
			}
			out = append(out, row)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []message
		want [][]string
	}{
		{"empty", nil, nil},
		{"distinct orders", []message{msg("a", "1"), msg("b", "2"), msg("c", "3")}, [][]string{{"1", "2", "3"}}},
		{"created then cancelled", []message{msg("a", "1"), msg("b", "2"), msg("a", "3"), msg("c", "4")}, [][]string{{"1", "2"}, {"3", "4"}}},
		{"eleven orders", []message{msg("a", "1"), msg("b", "2"), msg("c", "3"), msg("d", "4"), msg("e", "5"), msg("f", "6"), msg("g", "7"), msg("h", "8"), msg("i", "9"), msg("j", "10"), msg("k", "11")},
			[][]string{{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, {"11"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(batches(tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("batches = %v, want %v", got, tc.want)
			}
		})
	}
}

// refuse answers a batch call by refusing the entries with the given ids:
// for good (a sender fault) or for now.
func refuse(senderFault bool, ids ...string) func(int, *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
	return func(_ int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		out := &sqs.SendMessageBatchOutput{}
		for _, e := range in.Entries {
			if slices.Contains(ids, aws.ToString(e.Id)) {
				code := "InternalError"
				if senderFault {
					code = "InvalidMessageContents"
				}
				out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String(code), Message: aws.String("refused"), SenderFault: senderFault})
			} else {
				out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
			}
		}
		return out, nil
	}
}

func TestHandleMovesPoisonToTheDeadLetterQueue(t *testing.T) {
	ev := loadEvent(t, "inserts.json")
	r := recorder{answer: refuse(true, "1")}
	relay, log := newRelay(&r)
	resp, err := relay.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want the shard to move on", resp, err)
	}
	if len(r.dlq) != 1 || aws.ToString(r.dlq[0].QueueUrl) != dlqURL {
		t.Fatalf("dead-letter sends %d, want 1 to %s", len(r.dlq), dlqURL)
	}
	var p Poison
	if err := json.Unmarshal([]byte(aws.ToString(r.dlq[0].MessageBody)), &p); err != nil {
		t.Fatal(err)
	}
	refused := r.calls[0].Entries[1]
	payload, _ := base64.StdEncoding.DecodeString(p.PayloadBase64)
	if p.EventID != aws.ToString(refused.MessageDeduplicationId) || string(payload) != aws.ToString(refused.MessageBody) ||
		!strings.Contains(p.Reason, "InvalidMessageContents") || p.Group != aws.ToString(refused.MessageGroupId) {
		t.Errorf("dead letter %+v does not describe the refused entry", p)
	}
	if errs := log.withLevel(t, "ERROR"); len(errs) != 1 || errs[0]["eventId"] != p.EventID {
		t.Errorf("error lines %v, want one naming the poison event", errs)
	}
}

func TestHandleRetriesBeforeDeadLettering(t *testing.T) {
	ev := loadEvent(t, "inserts.json")
	// Entry 0 fails for now, entry 1 for good: the retry starts at 0, and
	// 1 is dead-lettered only when its turn comes.
	r := recorder{answer: func(call int, in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		out, _ := refuse(false, "0")(call, in)
		more, _ := refuse(true, "1")(call, in)
		out.Failed = append(out.Failed, more.Failed...)
		return out, nil
	}}
	relay, _ := newRelay(&r)
	resp, err := relay.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[0].Change.SequenceNumber {
		t.Fatalf("Handle = %+v, %v; want a retry from the first record", resp, err)
	}
	if len(r.dlq) != 0 {
		t.Errorf("%d dead letters before the retry", len(r.dlq))
	}
}

func TestHandleRetriesWhenDeadLetteringFails(t *testing.T) {
	ev := loadEvent(t, "inserts.json")
	r := recorder{answer: refuse(true, "1"), dlqErr: errors.New("sqs: throttled")}
	relay, _ := newRelay(&r)
	resp, err := relay.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("Handle = %+v, %v; want the poison record retried", resp, err)
	}
	poison := aws.ToString(r.calls[0].Entries[1].MessageDeduplicationId)
	found := false
	for _, rec := range ev.Records {
		if img, ok := rec.Change.NewImage["eventId"]; ok && img.String() == poison {
			found = true
			if resp.BatchItemFailures[0].ItemIdentifier != rec.Change.SequenceNumber {
				t.Fatalf("retry from %s, want the poison record %s", resp.BatchItemFailures[0].ItemIdentifier, rec.Change.SequenceNumber)
			}
		}
	}
	if !found {
		t.Fatalf("no record of event %s in the fixture", poison)
	}
}

func TestBatchesStayUnderTheSizeLimit(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	var msgs []message
	for i := range 5 {
		msgs = append(msgs, message{Record: outbox.Record{Group: strconv.Itoa(i), EventID: strconv.Itoa(i), Payload: big}})
	}
	got := batches(msgs)
	if len(got) != 3 || len(got[0]) != 2 || len(got[1]) != 2 || len(got[2]) != 1 {
		t.Fatalf("batches of %d messages: %v, want 2, 2, 1", len(msgs), len(got))
	}
	for _, b := range got {
		n := 0
		for _, m := range b {
			n += m.size()
		}
		if n > maxBatchBytes {
			t.Errorf("a batch of %d bytes", n)
		}
	}
}
