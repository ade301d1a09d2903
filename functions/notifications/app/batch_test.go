package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// batchWant is everything the handler did with one batch.
type batchWant struct {
	failed     []string          // message ids, in order
	claimed    []string          // event ids, in order
	sent       []string          // mailKeys of send attempts, in order
	opened     []string          // event ids whose sealed token was opened, in order
	dlq        []string          // message ids moved to the DLQ
	visibility []string          // message ids whose visibility changed
	finished   map[string]string // event id → status
	released   []string          // event ids
	metrics    map[string]float64
}

// batchCase is one TestHandleBatch case. The cases live in the file of the
// concern they exercise; TestHandleBatch runs them all the same way.
type batchCase struct {
	name    string
	records func(t *testing.T) []events.SQSMessage
	setup   func(w *world)
	want    batchWant
}

// basicBatchCases are batches where everything goes well.
var basicBatchCases = []batchCase{
	{
		name: "empty batch",
		records: func(*testing.T) []events.SQSMessage {
			return nil
		},
		want: batchWant{},
	},
	{
		name: "all valid",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				message("m3", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-1")),
			}
		},
		want: batchWant{
			claimed:  []string{"evt-1", "evt-2", "evt-3"},
			sent:     []string{"ord-1", "ord-2", "ord-1"},
			finished: map[string]string{"evt-1": app.Sent, "evt-2": app.Sent, "evt-3": app.Sent},
			metrics:  map[string]float64{app.MetricSent: 3},
		},
	},
}

// fifoGroupBatchCases check that a message retried later holds back the rest
// of its FIFO group, so the customer never gets its emails out of order.
var fifoGroupBatchCases = []batchCase{
	{
		name: "transient send error holds back the rest of its group",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 3, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				message("m3", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-1")),
				message("m4", "ord-2", 1, eventBody(t, "order_cancelled.json", "evt-4", "ord-2")),
				message("m5", "ord-1", 1, fixture(t, "poison_bad_json.json")),
			}
		},
		setup: func(w *world) { w.sendErr = map[string]error{"ord-1": errNetwork} },
		want: batchWant{
			failed:     []string{"m1", "m3", "m5"},
			claimed:    []string{"evt-1", "evt-2", "evt-4"},
			sent:       []string{"ord-1", "ord-2", "ord-2"},
			visibility: []string{"m1"},
			finished:   map[string]string{"evt-2": app.Sent, "evt-4": app.Sent},
			released:   []string{"evt-1"},
			metrics:    map[string]float64{app.MetricSent: 2, app.MetricRetried: 1},
		},
	},
	{
		name: "transient send error without a group holds nothing back",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "", 1, eventBody(t, "order_cancelled.json", "evt-2", "ord-1")),
			}
		},
		setup: func(w *world) { w.sendErr = map[string]error{"ord-1": errNetwork} },
		want: batchWant{
			failed:     []string{"m1", "m2"},
			claimed:    []string{"evt-1", "evt-2"},
			sent:       []string{"ord-1", "ord-1"},
			visibility: []string{"m1", "m2"},
			released:   []string{"evt-1", "evt-2"},
			metrics:    map[string]float64{app.MetricRetried: 2},
		},
	},
}

// mixedBatchCases put every outcome in one batch.
var mixedBatchCases = []batchCase{
	{
		name: "everything at once",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),   // sent
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),   // duplicate
				message("m3", "ord-3", 1, fixture(t, "poison_version2.json")),                     // poison
				message("m4", "ord-4", 2, eventBody(t, "order_created.json", "evt-4", "ord-4")),   // transient
				message("m5", "ord-5", 1, eventBody(t, "order_created.json", "evt-5", "ord-5")),   // rejected
				message("m6", "ord-4", 1, eventBody(t, "order_cancelled.json", "evt-6", "ord-4")), // held back
				message("m7", "ord-7", 1, eventBody(t, "order_created.json", "evt-7", "ord-7")),   // busy
			}
		},
		setup: func(w *world) {
			w.claimErr = map[string]error{"evt-2": app.ErrDone, "evt-7": app.ErrBusy}
			w.sendErr = map[string]error{"ord-4": errNetwork, "ord-5": errRejected}
		},
		want: batchWant{
			failed:     []string{"m4", "m6", "m7"},
			claimed:    []string{"evt-1", "evt-2", "evt-4", "evt-5", "evt-7"},
			sent:       []string{"ord-1", "ord-4", "ord-5"},
			dlq:        []string{"m3"},
			visibility: []string{"m4", "m7"},
			finished:   map[string]string{"evt-1": app.Sent, "evt-5": app.Rejected},
			released:   []string{"evt-4"},
			metrics: map[string]float64{
				app.MetricSent: 1, app.MetricDuplicates: 1, app.MetricPoison: 1,
				app.MetricRetried: 2, app.MetricRejected: 1,
			},
		},
	},
}

// TestHandleBatch runs the batch cases of every concern and checks all that
// the handler did: the answer to Lambda, each call to the fakes and the metrics.
func TestHandleBatch(t *testing.T) {
	tests := slices.Concat(basicBatchCases, poisonBatchCases, dedupeBatchCases,
		fifoGroupBatchCases, transientBatchCases, rejectionBatchCases, mixedBatchCases, accountBatchCases)
	// t.Run would quietly rename a second case of the same name.
	names := map[string]bool{}
	for _, tc := range tests {
		if names[tc.name] {
			t.Fatalf("two batch cases are named %q", tc.name)
		}
		names[tc.name] = true
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{}
			if tc.setup != nil {
				tc.setup(w)
			}
			records := tc.records(t)
			resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records})
			if err != nil {
				t.Fatalf("Handle returned an error: %v (a batch error would redeliver every message)", err)
			}

			if got := failedIDs(resp); !equal(got, tc.want.failed) {
				t.Errorf("batch item failures = %v, want %v", got, tc.want.failed)
			}
			var claimed []string
			for _, c := range w.claims {
				claimed = append(claimed, c.eventID)
			}
			if !equal(claimed, tc.want.claimed) {
				t.Errorf("claimed = %v, want %v", claimed, tc.want.claimed)
			}
			var sentTo []string
			for _, s := range w.sent {
				sentTo = append(sentTo, mailKey(s.email))
			}
			if !equal(sentTo, tc.want.sent) {
				t.Errorf("send attempts = %v, want %v", sentTo, tc.want.sent)
			}
			var opened []string
			for _, o := range w.opens {
				opened = append(opened, o.ec["eventId"])
			}
			if !equal(opened, tc.want.opened) {
				t.Errorf("opened = %v, want %v", opened, tc.want.opened)
			}
			var dlq []string
			for _, in := range w.dlq {
				dlq = append(dlq, aws.ToString(in.MessageDeduplicationId))
			}
			if !equal(dlq, tc.want.dlq) {
				t.Errorf("moved to the DLQ = %v, want %v", dlq, tc.want.dlq)
			}
			var vis []string
			for _, in := range w.visibility {
				vis = append(vis, strings.TrimPrefix(aws.ToString(in.ReceiptHandle), "rh-"))
			}
			if !equal(vis, tc.want.visibility) {
				t.Errorf("visibility changed = %v, want %v", vis, tc.want.visibility)
			}
			finished := map[string]string{}
			for _, f := range w.finishes {
				if _, dup := finished[f.eventID]; dup {
					t.Errorf("Finish called twice for %s", f.eventID)
				}
				finished[f.eventID] = f.status
			}
			if len(finished) != len(tc.want.finished) {
				t.Errorf("finished = %v, want %v", finished, tc.want.finished)
			}
			for id, status := range tc.want.finished {
				if finished[id] != status {
					t.Errorf("Finish(%s) status = %q, want %q", id, finished[id], status)
				}
			}
			var released []string
			for _, r := range w.releases {
				released = append(released, r.eventID)
			}
			if !equal(released, tc.want.released) {
				t.Errorf("released = %v, want %v", released, tc.want.released)
			}

			seen := map[string]bool{}
			for _, id := range failedIDs(resp) {
				if seen[id] {
					t.Errorf("message %s reported as failed twice", id)
				}
				seen[id] = true
			}

			got := emf(t, &w.metrics)
			if len(got) != len(tc.want.metrics) {
				t.Errorf("metrics = %v, want %v", got, tc.want.metrics)
			}
			for name, n := range tc.want.metrics {
				if got[name] != n {
					t.Errorf("metric %s = %v, want %v", name, got[name], n)
				}
			}
		})
	}
}
