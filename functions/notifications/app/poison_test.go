package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-shop/backend/functions/notifications/app"
	shared "github.com/serverless-shop/backend/shared/events"
)

// poisonBatchCases check that a message no retry can fix goes to the DLQ
// without holding up the valid messages around it.
var poisonBatchCases = []batchCase{
	{
		name: "poison bad JSON among valid",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-9", 1, fixture(t, "poison_bad_json.json")),
				message("m3", "ord-3", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-3")),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-3"},
			sent:     []string{"ord-1", "ord-3"},
			dlq:      []string{"m2"},
			finished: map[string]string{"evt-1": app.Sent, "evt-3": app.Sent},
			metrics:  map[string]float64{app.MetricSent: 2, app.MetricPoison: 1},
		},
	},
	{
		name: "poison unknown type among valid",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-3", 1, fixture(t, "poison_unknown_type.json")),
				message("m3", "ord-3", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-3")),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-3"},
			sent:     []string{"ord-1", "ord-3"},
			dlq:      []string{"m2"},
			finished: map[string]string{"evt-1": app.Sent, "evt-3": app.Sent},
			metrics:  map[string]float64{app.MetricSent: 2, app.MetricPoison: 1},
		},
	},
	{
		name: "poison version 2 among valid",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-4", 1, fixture(t, "poison_version2.json")),
				message("m2", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m3", "ord-4", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-4")),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-3"},
			sent:     []string{"ord-1", "ord-4"},
			dlq:      []string{"m1"},
			finished: map[string]string{"evt-1": app.Sent, "evt-3": app.Sent},
			metrics:  map[string]float64{app.MetricSent: 2, app.MetricPoison: 1},
		},
	},
	{
		name: "several poison messages",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "a", 1, fixture(t, "poison_bad_json.json")),
				message("m2", "b", 1, fixture(t, "poison_unknown_type.json")),
				message("m3", "c", 1, fixture(t, "poison_version2.json")),
				message("m4", "d", 1, ""),
			}
		},
		want: batchWant{
			dlq:     []string{"m1", "m2", "m3", "m4"},
			metrics: map[string]float64{app.MetricPoison: 4},
		},
	},
	{
		name: "DLQ send fails",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-9", 2, fixture(t, "poison_bad_json.json")),
				message("m2", "ord-9", 1, eventBody(t, "order_created.json", "evt-2", "ord-9")),
				message("m3", "ord-3", 1, eventBody(t, "order_created.json", "evt-3", "ord-3")),
			}
		},
		setup: func(w *world) { w.dlqErr = errQueue },
		want: batchWant{
			failed:     []string{"m1", "m2"},
			claimed:    []string{"evt-3"},
			sent:       []string{"ord-3"},
			dlq:        []string{"m1"},
			visibility: []string{"m1"},
			finished:   map[string]string{"evt-3": app.Sent},
			metrics:    map[string]float64{app.MetricSent: 1, app.MetricPoison: 1, app.MetricRetried: 1},
		},
	},
}

func TestHandlePoisonToDLQ(t *testing.T) {
	tests := []struct {
		name       string
		group      string
		body       func(t *testing.T) string
		wantGroup  string
		wantReason []string // substrings of the poisonReason attribute
	}{
		{
			name:       "bad JSON",
			group:      "ord-9",
			body:       func(t *testing.T) string { return fixture(t, "poison_bad_json.json") },
			wantGroup:  "ord-9",
			wantReason: []string{"invalid event", "unexpected EOF"},
		},
		{
			name:       "unknown type",
			group:      "ord-3",
			body:       func(t *testing.T) string { return fixture(t, "poison_unknown_type.json") },
			wantGroup:  "ord-3",
			wantReason: []string{"invalid event", `unknown type "order.shipped"`},
		},
		{
			name:       "version 2",
			group:      "ord-4",
			body:       func(t *testing.T) string { return fixture(t, "poison_version2.json") },
			wantGroup:  "ord-4",
			wantReason: []string{"invalid event", "unsupported version 2"},
		},
		{
			name:       "trailing data",
			group:      "ord-1",
			body:       func(t *testing.T) string { return eventBody(t, "order_created.json", "evt-1", "ord-1") + "{}" },
			wantGroup:  "ord-1",
			wantReason: []string{"trailing data"},
		},
		{
			name:  "inconsistent total",
			group: "ord-1",
			body: func(t *testing.T) string {
				return strings.Replace(eventBody(t, "order_created.json", "evt-1", "ord-1"), `"total":127955`, `"total":1`, 1)
			},
			wantGroup:  "ord-1",
			wantReason: []string{"order.total is not the sum of its lines"},
		},
		{
			name:       "oversized",
			group:      "ord-1",
			body:       func(*testing.T) string { return `{"type":"` + strings.Repeat("x", shared.MaxBytes) + `"}` },
			wantGroup:  "ord-1",
			wantReason: []string{"exceeds"},
		},
		{
			name:       "very long reason is truncated",
			group:      "ord-1",
			body:       func(*testing.T) string { return `{"type":"` + strings.Repeat("x", 5000) + `"}` },
			wantGroup:  "ord-1",
			wantReason: []string{"unknown type"},
		},
		{
			name:       "standard queue message gets a group",
			group:      "",
			body:       func(t *testing.T) string { return fixture(t, "poison_version2.json") },
			wantGroup:  "poison",
			wantReason: []string{"unsupported version 2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			body := tc.body(t)
			records := []events.SQSMessage{message("m1", tc.group, 1, body)}
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.BatchItemFailures) != 0 {
				t.Errorf("poison message reported as failed: %v", failedIDs(resp))
			}
			if len(w.claims) != 0 || len(w.sent) != 0 || len(w.visibility) != 0 {
				t.Errorf("poison message was claimed (%d), sent (%d) or delayed (%d)", len(w.claims), len(w.sent), len(w.visibility))
			}
			if len(w.dlq) != 1 {
				t.Fatalf("moved %d messages to the DLQ, want 1", len(w.dlq))
			}
			in := w.dlq[0]
			if got := aws.ToString(in.QueueUrl); got != dlqURL {
				t.Errorf("QueueUrl = %q, want the DLQ %q", got, dlqURL)
			}
			if aws.ToString(in.MessageBody) != body {
				t.Errorf("MessageBody is not the original body")
			}
			if got := aws.ToString(in.MessageGroupId); got != tc.wantGroup {
				t.Errorf("MessageGroupId = %q, want %q", got, tc.wantGroup)
			}
			if got := aws.ToString(in.MessageDeduplicationId); got != "m1" {
				t.Errorf("MessageDeduplicationId = %q, want the source message id m1", got)
			}
			if in.DelaySeconds != 0 {
				t.Errorf("DelaySeconds = %d, want 0", in.DelaySeconds)
			}
			reason, ok := in.MessageAttributes[app.AttrPoisonReason]
			if !ok {
				t.Fatalf("no %s attribute in %v", app.AttrPoisonReason, in.MessageAttributes)
			}
			if got := aws.ToString(reason.DataType); got != "String" {
				t.Errorf("%s DataType = %q, want String", app.AttrPoisonReason, got)
			}
			text := aws.ToString(reason.StringValue)
			if text == "" || len(text) > 1024 {
				t.Errorf("%s has %d bytes, want 1 to 1024", app.AttrPoisonReason, len(text))
			}
			for _, sub := range tc.wantReason {
				if !strings.Contains(text, sub) {
					t.Errorf("%s = %q, want it to contain %q", app.AttrPoisonReason, text, sub)
				}
			}
			source := in.MessageAttributes["sourceMessageId"]
			if aws.ToString(source.StringValue) != "m1" || aws.ToString(source.DataType) != "String" {
				t.Errorf("sourceMessageId = %+v, want String m1", source)
			}
			if got := emf(t, &w.metrics); got[app.MetricPoison] != 1 || len(got) != 1 {
				t.Errorf("metrics = %v, want only %s = 1", got, app.MetricPoison)
			}
		})
	}
}
