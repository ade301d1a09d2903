package app_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/functions/notifications/app"
)

// batchOf returns n order.created messages, each of its own order (group),
// named m1..mn, events evt-1..evt-n, orders ord-1..ord-n.
func batchOf(t *testing.T, from, n int) []events.SQSMessage {
	t.Helper()
	var msgs []events.SQSMessage
	for i := from; i < from+n; i++ {
		id := fmt.Sprint(i)
		msgs = append(msgs, message("m"+id, "ord-"+id, 1, eventBody(t, "order_created.json", "evt-"+id, "ord-"+id)))
	}
	return msgs
}

// sesOut makes every send to the given orders fail as SES throttling does.
func sesOut(w *world, from, n int) {
	w.sendErr = map[string]error{}
	for i := from; i < from+n; i++ {
		w.sendErr[fmt.Sprint("ord-", i)] = fmt.Errorf("send email: %w", errSESThrottled)
	}
}

var errSESThrottled = fmt.Errorf("TooManyRequestsException: Maximum sending rate exceeded")

// step is one batch through the same handler.
type step struct {
	name    string
	at      time.Duration // after the first batch
	batch   func(t *testing.T) []events.SQSMessage
	sesDown bool // every send fails transiently

	wantSends   int // calls to SES in this batch
	wantFailed  int // batch item failures
	wantMetrics map[string]float64
	wantLog     string // a line the batch logs
}

// runSteps runs the steps, in order, through one handler: the circuit's
// state lives in the handler from batch to batch, as in a warm Lambda.
func runSteps(t *testing.T, cfg app.BreakerConfig, steps []step) {
	t.Helper()
	var logs bytes.Buffer
	w := &world{log: &logs}
	h := w.handler(t)
	if cfg != (app.BreakerConfig{}) {
		h = app.New(withBreaker(h.Config, cfg))
	}
	for _, s := range steps {
		w.clock = now.Add(s.at)
		records := s.batch(t)
		w.sendErr = nil
		if s.sesDown {
			for _, r := range records {
				id := strings.TrimPrefix(r.MessageId, "m")
				if w.sendErr == nil {
					w.sendErr = map[string]error{}
				}
				w.sendErr["ord-"+id] = fmt.Errorf("send email: %w", errSESThrottled)
			}
		}
		sendsBefore, visBefore := len(w.sent), len(w.visibility)
		logs.Reset()
		w.metrics.Reset()
		resp, err := h.Handle(context.Background(), events.SQSEvent{Records: records})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := len(w.sent) - sendsBefore; got != s.wantSends {
			t.Errorf("%s: SES called %d times, want %d", s.name, got, s.wantSends)
		}
		if got := len(resp.BatchItemFailures); got != s.wantFailed {
			t.Errorf("%s: %d batch item failures, want %d", s.name, got, s.wantFailed)
		}
		if got := len(w.visibility) - visBefore; got != s.wantFailed {
			t.Errorf("%s: %d visibility changes, want one per failed message (%d)", s.name, got, s.wantFailed)
		}
		got := emf(t, &w.metrics)
		if len(got) != len(s.wantMetrics) {
			t.Errorf("%s: metrics = %v, want %v", s.name, got, s.wantMetrics)
		}
		for name, v := range s.wantMetrics {
			if got[name] != v {
				t.Errorf("%s: metric %s = %v, want %v", s.name, name, got[name], v)
			}
		}
		if s.wantLog != "" && !strings.Contains(logs.String(), s.wantLog) {
			t.Errorf("%s: no log line %q in:\n%s", s.name, s.wantLog, logs.String())
		}
	}
}

func withBreaker(c app.Config, b app.BreakerConfig) app.Config {
	c.Breaker = b
	return c
}

func batch(from, n int) func(t *testing.T) []events.SQSMessage {
	return func(t *testing.T) []events.SQSMessage { return batchOf(t, from, n) }
}

func TestMailCircuit(t *testing.T) {
	const (
		sent     = app.MetricSent
		retried  = app.MetricRetried
		open     = app.MetricCircuitOpen
		openings = app.MetricCircuitOpened
	)
	cool := app.BreakerCoolDown
	tests := []struct {
		name  string
		cfg   app.BreakerConfig
		steps []step
	}{
		{
			name: "opens after five failures in a row and stops calling SES",
			steps: []step{
				{name: "SES out", batch: batch(1, 8), sesDown: true, wantSends: 5, wantFailed: 8,
					wantMetrics: map[string]float64{retried: 5, openings: 1, open: 3}, wantLog: "mail circuit opened"},
				{name: "still open", at: cool - time.Second, batch: batch(1, 8), sesDown: true, wantSends: 0, wantFailed: 8,
					wantMetrics: map[string]float64{open: 8}, wantLog: "mail circuit open: messages returned for later without calling SES"},
			},
		},
		{
			name: "a probe that succeeds closes it",
			steps: []step{
				{name: "SES out", batch: batch(1, 5), sesDown: true, wantSends: 5, wantFailed: 5,
					wantMetrics: map[string]float64{retried: 5, openings: 1}},
				{name: "after the cool-down, SES back", at: cool, batch: batch(1, 5), wantSends: 5, wantFailed: 0,
					wantMetrics: map[string]float64{sent: 5}, wantLog: "mail circuit closed"},
			},
		},
		{
			name: "a probe that fails reopens it for twice as long",
			steps: []step{
				{name: "SES out", batch: batch(1, 5), sesDown: true, wantSends: 5, wantFailed: 5,
					wantMetrics: map[string]float64{retried: 5, openings: 1}},
				{name: "probe fails", at: cool, batch: batch(1, 5), sesDown: true, wantSends: 1, wantFailed: 5,
					wantMetrics: map[string]float64{retried: 1, openings: 1, open: 4}, wantLog: "mail circuit probe failed"},
				{name: "first cool-down again: still open", at: 2*cool + time.Second, batch: batch(1, 5), wantSends: 0, wantFailed: 5,
					wantMetrics: map[string]float64{open: 5}},
				{name: "doubled cool-down over, SES back", at: 3 * cool, batch: batch(1, 5), wantSends: 5, wantFailed: 0,
					wantMetrics: map[string]float64{sent: 5}, wantLog: "mail circuit half-open: probing SES"},
			},
		},
		{
			name: "a success in between resets the count",
			steps: []step{
				{name: "four failures", batch: batch(1, 4), sesDown: true, wantSends: 4, wantFailed: 4,
					wantMetrics: map[string]float64{retried: 4}},
				{name: "one success", batch: batch(5, 1), wantSends: 1, wantFailed: 0,
					wantMetrics: map[string]float64{sent: 1}},
				{name: "four failures again", batch: batch(6, 4), sesDown: true, wantSends: 4, wantFailed: 4,
					wantMetrics: map[string]float64{retried: 4}},
			},
		},
		{
			name: "thresholds are configurable",
			cfg:  app.BreakerConfig{Failures: 2, CoolDown: 10 * time.Second},
			steps: []step{
				{name: "SES out", batch: batch(1, 4), sesDown: true, wantSends: 2, wantFailed: 4,
					wantMetrics: map[string]float64{retried: 2, openings: 1, open: 2}},
				{name: "cool-down over", at: 10 * time.Second, batch: batch(1, 4), wantSends: 4,
					wantMetrics: map[string]float64{sent: 4}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSteps(t, tc.cfg, tc.steps) })
	}
}

// TestMailCircuitIgnoresPermanentRejections checks that rejected emails,
// answers from SES, never open the circuit.
func TestMailCircuitIgnoresPermanentRejections(t *testing.T) {
	w := &world{sendErr: map[string]error{}}
	for i := 1; i <= 8; i++ {
		w.sendErr[fmt.Sprint("ord-", i)] = errRejected
	}
	resp, err := w.handler(t).Handle(context.Background(), events.SQSEvent{Records: batchOf(t, 1, 8)})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.sent) != 8 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("sent %d, failed %d; want 8 sends, all acknowledged", len(w.sent), len(resp.BatchItemFailures))
	}
	if m := emf(t, &w.metrics); m[app.MetricCircuitOpened] != 0 || m[app.MetricRejected] != 8 {
		t.Fatalf("metrics = %v, want 8 rejections and no opening", m)
	}
}

// TestOpenCircuitDefersPastTheCoolDown checks the visibility of a message
// the open circuit turns back: at least the rest of the cool-down, so it
// does not come back only to be turned back again; never claimed; and
// poison in the same batch still goes to the dead-letter queue.
func TestOpenCircuitDefersPastTheCoolDown(t *testing.T) {
	w := &world{}
	h := w.handler(t)
	w.clock = now
	sesOut(w, 1, 5)
	if _, err := h.Handle(context.Background(), events.SQSEvent{Records: batchOf(t, 1, 5)}); err != nil {
		t.Fatal(err)
	}
	w.clock = now.Add(10 * time.Second)
	claims, visBefore := len(w.claims), len(w.visibility)
	records := append(batchOf(t, 6, 1), message("m-poison", "p-1", 1, fixture(t, "poison_bad_json.json")))
	resp, err := h.Handle(context.Background(), events.SQSEvent{Records: records})
	if err != nil {
		t.Fatal(err)
	}
	if got := failedIDs(resp); !slices.Equal(got, []string{"m6"}) {
		t.Errorf("failed = %v, want [m6] (the poison is moved, not retried)", got)
	}
	if len(w.claims) != claims {
		t.Errorf("claimed %d events while the circuit was open", len(w.claims)-claims)
	}
	if len(w.dlq) != 1 {
		t.Errorf("%d messages moved to the dead-letter queue, want the poison one", len(w.dlq))
	}
	vis := w.visibility[visBefore:]
	if len(vis) != 1 {
		t.Fatalf("%d visibility changes, want 1", len(vis))
	}
	rest := int32((app.BreakerCoolDown - 10*time.Second) / time.Second)
	if got := vis[0].VisibilityTimeout; got < rest || got > int32(app.BackoffMax/time.Second) {
		t.Errorf("deferred for %d s, want at least the rest of the cool-down (%d s) and at most BackoffMax", got, rest)
	}
}
