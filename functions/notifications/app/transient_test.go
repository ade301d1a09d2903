package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// transientBatchCases check that a failure while putting a message back for
// a retry still reports it as failed, so SQS redelivers it.
var transientBatchCases = []batchCase{
	{
		name: "release fails",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
			}
		},
		setup: func(w *world) {
			w.sendErr = map[string]error{"ord-1": errNetwork}
			w.releaseErr = errThrottled
		},
		want: batchWant{
			failed:     []string{"m1"},
			claimed:    []string{"evt-1"},
			sent:       []string{"ord-1"},
			visibility: []string{"m1"},
			released:   []string{"evt-1"},
			metrics:    map[string]float64{app.MetricRetried: 1},
		},
	},
	{
		name: "visibility change fails",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
			}
		},
		setup: func(w *world) {
			w.sendErr = map[string]error{"ord-1": errNetwork}
			w.visErr = errQueue
		},
		want: batchWant{
			failed:     []string{"m1"},
			claimed:    []string{"evt-1"},
			sent:       []string{"ord-1"},
			visibility: []string{"m1"},
			released:   []string{"evt-1"},
			metrics:    map[string]float64{app.MetricRetried: 1},
		},
	},
}

func TestHandleVisibilityBackoff(t *testing.T) {
	tests := []struct {
		name     string
		receives string // the ApproximateReceiveCount attribute
		want     int    // receives passed to Backoff
	}{
		{name: "first receive", receives: "1", want: 1},
		{name: "third receive", receives: "3", want: 3},
		{name: "fifth receive", receives: "5", want: 5},
		{name: "capped", receives: "40", want: 40},
		{name: "attribute missing", receives: "", want: 0},
		{name: "attribute garbled", receives: "many", want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{sendErr: map[string]error{"ord-1": errors.New("connection reset")}}
			msg := message("m1", "ord-1", 0, eventBody(t, "order_created.json", "evt-1", "ord-1"))
			msg.Attributes["ApproximateReceiveCount"] = tc.receives
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{msg}})
			if err != nil {
				t.Fatal(err)
			}
			if got := failedIDs(resp); !slices.Equal(got, []string{"m1"}) {
				t.Errorf("batch item failures = %v, want [m1]", got)
			}
			if len(w.visibility) != 1 {
				t.Fatalf("changed visibility %d times, want once", len(w.visibility))
			}
			in := w.visibility[0]
			if got := aws.ToString(in.QueueUrl); got != queueURL {
				t.Errorf("QueueUrl = %q, want the source queue %q", got, queueURL)
			}
			if got := aws.ToString(in.ReceiptHandle); got != "rh-m1" {
				t.Errorf("ReceiptHandle = %q, want rh-m1", got)
			}
			lo := int32(app.Backoff(tc.want, 0) / time.Second)
			hi := int32(app.Backoff(tc.want, 1) / time.Second)
			if in.VisibilityTimeout < lo || in.VisibilityTimeout > hi {
				t.Errorf("VisibilityTimeout = %d, want within Backoff(%d) = [%d, %d]", in.VisibilityTimeout, tc.want, lo, hi)
			}
		})
	}
}
