package relay

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/outbox"
)

const queueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/order-events.fifo"

const dlqURL = "https://sqs.us-east-1.amazonaws.com/123456789012/relay-dead-letters"

// stream is a batch of stream records and what the service's outbox.Reader reads
// from each: a message, nothing (nil), or an error (a outbox.Message whose
// EventID is "malformed").
type stream struct {
	ev   events.DynamoDBEvent
	msgs map[string]*outbox.Message // by the stream record's event id
}

// add appends a record that reads as m.
func (s *stream) add(m *outbox.Message) *stream {
	id := fmt.Sprintf("stream-%04d", len(s.ev.Records))
	if s.msgs == nil {
		s.msgs = map[string]*outbox.Message{}
	}
	s.msgs[id] = m
	s.ev.Records = append(s.ev.Records, events.DynamoDBEventRecord{EventID: id, Change: events.DynamoDBStreamRecord{
		SequenceNumber: fmt.Sprintf("10000000000000000%04d", len(s.ev.Records)+1),
	}})
	return s
}

func (s *stream) read(rec events.DynamoDBEventRecord) (outbox.Message, bool, error) {
	switch m := s.msgs[rec.EventID]; {
	case m == nil:
		return outbox.Message{}, false, nil
	case m.EventID == "malformed":
		return outbox.Message{}, false, errors.New("item " + rec.EventID + " lacks its event")
	default:
		return *m, true, nil
	}
}

// msg is the message of event n of group g.
func msg(n int, g string) *outbox.Message {
	id := fmt.Sprintf("ev-%02d", n)
	return &outbox.Message{EventID: id, EventType: "order.created", Group: g, CorrelationID: "corr-" + id, Body: `{"id":"` + id + `"}`}
}

// fakeSQS answers SendMessageBatch calls with answer (success when nil)
// and dead-letter sends with dlqErr, and records every call.
type fakeSQS struct {
	calls  []*sqs.SendMessageBatchInput
	answer func(call int) (*sqs.SendMessageBatchOutput, error)
	dlq    []*sqs.SendMessageInput
	dlqErr error
}

var _ SQS = (*fakeSQS)(nil)

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.calls = append(f.calls, in)
	if f.answer != nil {
		return f.answer(len(f.calls))
	}
	return &sqs.SendMessageBatchOutput{}, nil
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.dlq = append(f.dlq, in)
	return &sqs.SendMessageOutput{}, f.dlqErr
}

// sent lists every entry sent, in order.
func (f *fakeSQS) sent() []sqstypes.SendMessageBatchRequestEntry {
	var out []sqstypes.SendMessageBatchRequestEntry
	for _, c := range f.calls {
		out = append(out, c.Entries...)
	}
	return out
}

// onCall answers call n with out and err, and every other call with success.
func onCall(n int, out *sqs.SendMessageBatchOutput, err error) func(int) (*sqs.SendMessageBatchOutput, error) {
	return func(call int) (*sqs.SendMessageBatchOutput, error) {
		if call == n {
			return out, err
		}
		return &sqs.SendMessageBatchOutput{}, nil
	}
}

// refused is the answer of a call that refused the entries ids: for good
// (a sender fault) or for now.
func refused(senderFault bool, ids ...string) *sqs.SendMessageBatchOutput {
	code := map[bool]string{true: "InvalidMessageContents", false: "InternalError"}[senderFault]
	out := &sqs.SendMessageBatchOutput{}
	for _, id := range ids {
		out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: aws.String(id), Code: aws.String(code), Message: aws.String("refused"), SenderFault: senderFault})
	}
	return out
}

// relay runs the relay on s and returns its answer and its error lines.
func relay(t *testing.T, f *fakeSQS, s *stream) (events.DynamoDBEventResponse, []map[string]any) {
	t.Helper()
	var log bytes.Buffer
	resp, err := New(f, queueURL, dlqURL, s.read, slog.New(slog.NewJSONHandler(&log, nil))).Handle(context.Background(), s.ev)
	if err != nil {
		t.Fatalf("Handle() error = %v; failures must be reported per item", err)
	}
	var errs []map[string]any
	for dec := json.NewDecoder(&log); dec.More(); {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log: %v", err)
		}
		if m["level"] == "ERROR" {
			errs = append(errs, m)
		}
	}
	return resp, errs
}

// failedAt is the answer that reports record i of s for a retry.
func failedAt(s *stream, i int) []events.DynamoDBBatchItemFailure {
	return []events.DynamoDBBatchItemFailure{{ItemIdentifier: s.ev.Records[i].Change.SequenceNumber}}
}

func attr(v string) sqstypes.MessageAttributeValue {
	return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// TestHandleSendsTheMessages: every message read becomes an entry (the
// event id its deduplication id, an empty correlation id "-", which SQS
// refuses empty); what the reader passes over is not sent, what it cannot
// read is skipped with an error line; a group's next event waits for the
// next call; a batch without messages makes no call.
func TestHandleSendsTheMessages(t *testing.T) {
	var s stream
	noCorrelation := msg(2, "order-2")
	noCorrelation.CorrelationID = ""
	s.add(msg(1, "order-1")).add(nil).add(noCorrelation).add(&outbox.Message{EventID: "malformed"}).add(msg(3, "order-1"))
	var f fakeSQS
	resp, errs := relay(t, &f, &s)
	if len(resp.BatchItemFailures) != 0 || resp.BatchItemFailures == nil {
		t.Errorf("failures = %#v, want an empty list", resp.BatchItemFailures)
	}
	entry := func(id string, m *outbox.Message, corr string) sqstypes.SendMessageBatchRequestEntry {
		return sqstypes.SendMessageBatchRequestEntry{
			Id: aws.String(id), MessageBody: aws.String(m.Body), MessageGroupId: aws.String(m.Group), MessageDeduplicationId: aws.String(m.EventID),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{outbox.AttrEventType: attr(m.EventType), outbox.AttrCorrelationID: attr(corr)},
		}
	}
	want := []sqstypes.SendMessageBatchRequestEntry{
		entry("0", msg(1, "order-1"), "corr-ev-01"), entry("1", noCorrelation, "-"), entry("0", msg(3, "order-1"), "corr-ev-03"),
	}
	if got := f.sent(); len(f.calls) != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("%d calls sent\n%+v\nwant 2 sending\n%+v", len(f.calls), got, want)
	}
	if got := aws.ToString(f.calls[0].QueueUrl); got != queueURL {
		t.Errorf("QueueUrl = %q, want %q", got, queueURL)
	}
	// A batch without messages makes no call.
	for _, s := range []*stream{{}, new(stream).add(nil).add(nil)} {
		var f fakeSQS
		if resp, _ := relay(t, &f, s); len(resp.BatchItemFailures) != 0 || len(f.calls) != 0 {
			t.Errorf("%+v after %d calls", resp, len(f.calls))
		}
	}
	if len(errs) != 1 || errs[0]["msg"] != "outbox record skipped" || errs[0]["eventId"] != "stream-0003" ||
		!strings.Contains(errs[0]["error"].(string), "stream-0003") {
		t.Errorf("error lines = %v, want one for the malformed record", errs)
	}
}

// TestHandleFailure: 23 events go in calls of ten, ten and three, in
// stream order, each call's entries numbered from 0 (what batches decides
// is TestBatches'). A call that fails, or refuses entries for now, is
// retried from its first record not sent (the lowest entry refused; the
// start of the call when the answer names no entry of it), and nothing
// after it is sent. An entry refused for good waits for its turn: it is
// dead-lettered when no entry before it is retried, and retried when that
// fails.
func TestHandleFailure(t *testing.T) {
	beforePoison := refused(false, "0")
	beforePoison.Failed = append(beforePoison.Failed, refused(true, "1").Failed...)
	tests := []struct {
		name      string
		failCall  int
		out       *sqs.SendMessageBatchOutput
		err       error
		dlqErr    error
		wantFirst int
	}{
		{name: "second call fails", failCall: 2, err: errors.New("sqs: service unavailable"), wantFirst: 10},
		{name: "lowest failed entry", failCall: 1, out: refused(false, "7", "3", "5"), wantFirst: 3},
		{name: "last entry of the last batch", failCall: 3, out: refused(false, "2"), wantFirst: 22},
		{name: "unknown id falls back to the batch start", failCall: 2, out: refused(false, "x"), wantFirst: 10},
		{name: "retried before dead-lettering", failCall: 1, out: beforePoison, wantFirst: 0},
		{name: "dead-lettering fails", failCall: 1, out: refused(true, "1"), dlqErr: errors.New("sqs: throttled"), wantFirst: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stream // 23 messages of distinct groups
			for i := range 23 {
				s.add(msg(i, fmt.Sprint("order-", i)))
			}
			f := fakeSQS{answer: onCall(tt.failCall, tt.out, tt.err), dlqErr: tt.dlqErr}
			resp, errs := relay(t, &f, &s)
			if !reflect.DeepEqual(resp.BatchItemFailures, failedAt(&s, tt.wantFirst)) || len(f.calls) != tt.failCall || len(f.dlq) != 0 && tt.dlqErr == nil {
				t.Errorf("failures = %+v after %d calls and %d dead letters, want record %d after %d", resp.BatchItemFailures, len(f.calls), len(f.dlq), tt.wantFirst, tt.failCall)
			}
			if len(errs) != 1 || errs[0]["eventId"] != msg(tt.wantFirst, "").EventID {
				t.Errorf("error lines = %v", errs)
			}
		})
	}
}

// TestHandleFailureAfterSkippedRecords: the record reported is the first
// unsent message's, not the first record of the batch.
func TestHandleFailureAfterSkippedRecords(t *testing.T) {
	s := new(stream).add(nil).add(&outbox.Message{EventID: "malformed"}).add(msg(1, "a"))
	f := fakeSQS{answer: onCall(1, refused(false, "0"), nil)}
	resp, _ := relay(t, &f, s)
	if !reflect.DeepEqual(resp.BatchItemFailures, failedAt(s, 2)) {
		t.Errorf("failures = %+v, want the third record", resp.BatchItemFailures)
	}
	// The shape Lambda reads for ReportBatchItemFailures.
	if b, _ := json.Marshal(resp); string(b) != `{"batchItemFailures":[{"itemIdentifier":"100000000000000000003"}]}` {
		t.Errorf("response = %s", b)
	}
}

// TestBatches: calls of at most ten messages and maxBatchBytes, and one
// message per group (created, then cancelled, in two calls).
func TestBatches(t *testing.T) {
	for _, tc := range []struct {
		groups string // one message of each group, in order
		size   int    // of each body
		want   []int
	}{
		{"", 1, nil}, {"abc", 1, []int{3}}, {"abac", 1, []int{2, 2}}, {"abcdefghijk", 1, []int{10, 1}}, {"abcde", 100_000, []int{2, 2, 1}},
	} {
		var msgs []message
		for i, g := range strings.Split(tc.groups, "") {
			m := msg(i, g)
			m.Body = strings.Repeat("x", tc.size)
			msgs = append(msgs, message{Message: *m})
		}
		var got []int
		for _, b := range batches(msgs) {
			got = append(got, len(b))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("batches of %q, %d bytes each = %v, want %v", tc.groups, tc.size, got, tc.want)
		}
	}
}

func TestHandleMovesPoisonToTheDeadLetterQueue(t *testing.T) {
	f := fakeSQS{answer: onCall(1, refused(true, "1"), nil)}
	resp, errs := relay(t, &f, new(stream).add(msg(0, "a")).add(msg(1, "b")).add(msg(2, "c")))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v; want the shard to move on", resp.BatchItemFailures)
	}
	if len(f.dlq) != 1 || aws.ToString(f.dlq[0].QueueUrl) != dlqURL {
		t.Fatalf("dead-letter sends %d, want 1 to %s", len(f.dlq), dlqURL)
	}
	var p Poison
	if err := json.Unmarshal([]byte(aws.ToString(f.dlq[0].MessageBody)), &p); err != nil {
		t.Fatal(err)
	}
	refused := f.calls[0].Entries[1]
	payload, _ := base64.StdEncoding.DecodeString(p.PayloadBase64)
	if p.EventID != aws.ToString(refused.MessageDeduplicationId) || string(payload) != aws.ToString(refused.MessageBody) ||
		!strings.Contains(p.Reason, "InvalidMessageContents") || p.Group != aws.ToString(refused.MessageGroupId) || p.CorrelationID != "corr-ev-01" {
		t.Errorf("dead letter %+v does not describe the refused entry", p)
	}
	if len(errs) != 1 || errs[0]["eventId"] != p.EventID {
		t.Errorf("error lines %v, want one naming the poison event", errs)
	}
}

// TestBuild: a relay needs both queues and the AWS configuration; with them
// it is a stream handler.
func TestBuild(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	env := map[string]string{"EVENTS_QUEUE_URL": queueURL}
	build := func() (any, error) {
		return Build(new(stream).read)(context.Background(), coldstart.NewEnv(func(k string) string { return env[k] }), slog.Default())
	}
	if _, err := build(); err == nil || !strings.Contains(err.Error(), "RELAY_DLQ_URL") {
		t.Errorf("without RELAY_DLQ_URL: %v", err)
	}
	env["RELAY_DLQ_URL"] = dlqURL
	h, err := build()
	if _, ok := h.(func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)); err != nil || !ok {
		t.Errorf("Build = %T, %v", h, err)
	}
	t.Setenv("AWS_PROFILE", "no-such-profile")
	if _, err := build(); err == nil {
		t.Error("Build succeeded without its AWS configuration")
	}
}
