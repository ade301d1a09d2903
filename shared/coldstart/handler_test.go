package coldstart_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
)

// invokeContext is the context aws-lambda-go gives a handler: the trace
// header under its "x-amzn-trace-id" key (lambda/invoke_loop.go).
func invokeContext(traceHeader string) context.Context {
	//lint:ignore SA1029 the key aws-lambda-go uses, a plain string
	return context.WithValue(context.Background(), "x-amzn-trace-id", traceHeader)
}

func TestHandlerAddsTraceIDAndColdStartToEveryLine(t *testing.T) {
	t.Parallel()
	var logs, emf bytes.Buffer
	log := logging.New(&logs, "orders")
	h := coldstart.Handler("orders", func(ctx context.Context, in map[string]string) (string, error) {
		log.InfoContext(ctx, "handled", slog.String("n", in["n"]))
		return "ok", nil
	}, &emf)

	traces := []string{
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"Root=1-67891233-abcdef012345678912345678;Parent=1122334455667788;Sampled=0",
		"", // no trace header: no traceId, rather than an empty one
	}
	for i, trace := range traces {
		out, err := h.Invoke(invokeContext(trace), []byte(`{"n":"x"}`))
		if err != nil || string(out) != `"ok"` {
			t.Fatalf("invoke %d = %s, %v", i, out, err)
		}
	}

	// Each line's coldStart and traceId.
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, l)
		}
		got = append(got, fmt.Sprint(m[logging.KeyColdStart], " ", m[logging.KeyTraceID]))
	}
	want := []string{"true 1-5759e988-bd862e3fe1be46a994272793", "false 1-67891233-abcdef012345678912345678", "false <nil>"}
	if !slices.Equal(got, want) {
		t.Errorf("logged coldStart and traceId %q, want %q", got, want)
	}

	// One ColdStart metric, for the first invocation only.
	if n := strings.Count(emf.String(), "\n"); n != 1 {
		t.Fatalf("wrote %d EMF lines, want 1:\n%s", n, emf.String())
	}
	var doc map[string]any
	if err := json.Unmarshal(emf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc[metrics.ColdStart] != float64(1) || doc["service"] != "orders" || doc["level"] != metrics.Level {
		t.Errorf("EMF line = %s, want ColdStart 1 for service orders at level %s", emf.String(), metrics.Level)
	}
}
