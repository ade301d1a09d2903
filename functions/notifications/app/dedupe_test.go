package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// dedupeBatchCases cover each answer of Claim: done, busy or failed.
var dedupeBatchCases = []batchCase{
	{
		name: "duplicate suppressed",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
			}
		},
		setup: func(w *world) { w.claimErr = map[string]error{"evt-1": app.ErrDone} },
		want: batchWant{
			claimed:  []string{"evt-1", "evt-2"},
			sent:     []string{"ord-2"},
			finished: map[string]string{"evt-2": app.Sent},
			metrics:  map[string]float64{app.MetricSent: 1, app.MetricDuplicates: 1},
		},
	},
	{
		name: "wrapped duplicate suppressed",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
			}
		},
		setup: func(w *world) { w.claimErr = map[string]error{"evt-1": fmt.Errorf("claim evt-1: %w", app.ErrDone)} },
		want: batchWant{
			claimed: []string{"evt-1"},
			metrics: map[string]float64{app.MetricDuplicates: 1},
		},
	},
	{
		name: "claim busy",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
				message("m3", "ord-1", 1, eventBody(t, "order_cancelled.json", "evt-3", "ord-1")),
			}
		},
		setup: func(w *world) { w.claimErr = map[string]error{"evt-1": app.ErrBusy} },
		want: batchWant{
			failed:     []string{"m1", "m3"},
			claimed:    []string{"evt-1", "evt-2"},
			sent:       []string{"ord-2"},
			visibility: []string{"m1"},
			finished:   map[string]string{"evt-2": app.Sent},
			metrics:    map[string]float64{app.MetricSent: 1, app.MetricRetried: 1},
		},
	},
	{
		name: "claim fails",
		records: func(t *testing.T) []events.SQSMessage {
			return []events.SQSMessage{
				message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
				message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
			}
		},
		setup: func(w *world) { w.claimErr = map[string]error{"evt-1": errThrottled} },
		want: batchWant{
			failed:     []string{"m1"},
			claimed:    []string{"evt-1", "evt-2"},
			sent:       []string{"ord-2"},
			visibility: []string{"m1"},
			finished:   map[string]string{"evt-2": app.Sent},
			metrics:    map[string]float64{app.MetricSent: 1, app.MetricRetried: 1},
		},
	},
}

// TestHandleOwnership checks that each delivery claims with its own owner
// and the handler's clock, and finishes or releases with that same owner.
func TestHandleOwnership(t *testing.T) {
	w := &world{sendErr: map[string]error{"ord-2": errors.New("timeout")}}
	records := []events.SQSMessage{
		message("m1", "ord-1", 1, eventBody(t, "order_created.json", "evt-1", "ord-1")),
		message("m2", "ord-2", 1, eventBody(t, "order_created.json", "evt-2", "ord-2")),
	}
	if _, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: records}); err != nil {
		t.Fatal(err)
	}
	want := []claim{{"evt-1", "owner-1", now}, {"evt-2", "owner-2", now}}
	if !slices.Equal(w.claims, want) {
		t.Errorf("claims = %+v, want %+v", w.claims, want)
	}
	wantFinish := []finish{{eventID: "evt-1", owner: "owner-1", status: app.Sent, messageID: "ses-ord-1"}}
	if !slices.Equal(w.finishes, wantFinish) {
		t.Errorf("finishes = %+v, want %+v", w.finishes, wantFinish)
	}
	wantRelease := []release{{"evt-2", "owner-2"}}
	if !slices.Equal(w.releases, wantRelease) {
		t.Errorf("releases = %+v, want %+v", w.releases, wantRelease)
	}
}
