package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/serverless-shop/backend/shared/logging"
)

// logLine logs one line at WARN through a logger with a logger attribute
// and returns it decoded.
func logLine(t *testing.T, ctx context.Context, args ...any) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	logging.New(&buf, "orders").With("component", "store").WarnContext(ctx, "order created", args...)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || strings.Count(buf.String(), "\n") != 1 {
		t.Fatalf("want one JSON line: %v\n%s", err, buf.String())
	}
	return line
}

// TestLines checks the keys of a line (message, level, timestamp, service,
// the logger's and the call's attributes) and the attributes the context
// carries: the Lambda request id and the layers of With, a child's not
// reaching its parent.
func TestLines(t *testing.T) {
	t.Parallel()
	lambda := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
	parent := logging.With(lambda, slog.String(logging.KeyCorrelationID, "corr-1"))
	child := logging.With(parent, slog.String(logging.KeyUserID, "u-1"), slog.Int("attempt", 3))
	_ = logging.With(parent, slog.String(logging.KeyUserID, "sibling"))
	tests := []struct {
		name    string
		ctx     context.Context
		want    map[string]any
		notWant []string
	}{
		{"plain context", context.Background(), nil, []string{logging.KeyCorrelationID, logging.KeyRequestID, "time", "msg"}},
		{"parent", parent, map[string]any{logging.KeyRequestID: "aws-req-1", logging.KeyCorrelationID: "corr-1"}, []string{logging.KeyUserID}},
		{"child", child, map[string]any{logging.KeyRequestID: "aws-req-1", logging.KeyCorrelationID: "corr-1", logging.KeyUserID: "u-1", "attempt": float64(3)}, nil},
	}
	for _, tc := range tests {
		line := logLine(t, tc.ctx, slog.String("orderId", "o-1"), slog.Group("req", slog.String("msg", "inner"), slog.String("time", "t")))
		want := map[string]any{"message": "order created", "level": "WARN", "service": "orders", "component": "store", "orderId": "o-1"}
		for k, v := range tc.want {
			want[k] = v
		}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("%s: line[%q] = %v, want %v", tc.name, k, line[k], v)
			}
		}
		for _, k := range tc.notWant {
			if _, ok := line[k]; ok {
				t.Errorf("%s: line has %q: %v", tc.name, k, line)
			}
		}
		// Only the top-level time and message keys are renamed.
		if req, _ := line["req"].(map[string]any); req["msg"] != "inner" || req["time"] != "t" || line["timestamp"] == nil {
			t.Errorf("%s: keys renamed inside a group, or no timestamp: %v", tc.name, line)
		}
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	outer := logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "outer"))
	for ctx, want := range map[context.Context]string{
		context.Background(): "",
		logging.With(context.Background(), slog.String(logging.KeyUserID, "u-1"), slog.String(logging.KeyCorrelationID, "")):                      "",
		logging.With(context.Background(), slog.String(logging.KeyUserID, "u-1"), slog.String(logging.KeyCorrelationID, "c-2"), slog.Int("n", 1)): "c-2",
		logging.With(outer, slog.String(logging.KeyCorrelationID, "inner")):                                                                       "inner",
	} {
		if got := logging.CorrelationID(ctx); got != want {
			t.Errorf("CorrelationID = %q, want %q", got, want)
		}
	}
}

// TestInvocation: coldStart on every line of an invocation, and the Root of
// its trace header, wherever it stands in it, when Lambda sent one.
func TestInvocation(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]any{
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1": "1-5759e988-bd862e3fe1be46a994272793",
		"Parent=53995c3f42cd8ad8; Root=1-aa-bb ;Sampled=1":                           "1-aa-bb",
		"Sampled=1":          nil,
		"Root=;Root=1-aa-bb": nil,
		"":                   nil,
	} {
		//lint:ignore SA1029 the key aws-lambda-go uses, a plain string
		ctx := context.WithValue(context.Background(), "x-amzn-trace-id", header)
		if line := logLine(t, logging.Invocation(ctx, header != "")); line[logging.KeyColdStart] != (header != "") || line[logging.KeyTraceID] != want {
			t.Errorf("trace header %q: line %v", header, line)
		}
	}
}

func TestLevelFromEnvironment(t *testing.T) {
	// Not parallel: t.Setenv.
	for env, want := range map[string][4]bool{ // debug, info, warn, error enabled
		"":         {false, true, true, true},
		"DEBUG":    {true, true, true, true},
		"debug":    {true, true, true, true},
		"WARN":     {false, false, true, true},
		"ERROR":    {false, false, false, true},
		"nonsense": {false, true, true, true},
	} {
		t.Setenv("AWS_LAMBDA_LOG_LEVEL", env)
		log, ctx := logging.New(&bytes.Buffer{}, "svc"), context.Background()
		got := [4]bool{log.Enabled(ctx, slog.LevelDebug), log.Enabled(ctx, slog.LevelInfo), log.Enabled(ctx, slog.LevelWarn), log.Enabled(ctx, slog.LevelError)}
		if got != want {
			t.Errorf("level %q: enabled debug/info/warn/error = %v, want %v", env, got, want)
		}
	}
}

// TestGroup: a logger's group keeps the request id and the context's
// attributes (the context handler wraps the grouped handler too).
func TestGroup(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	ctx := logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "corr-1"))
	logging.New(&buf, "orders").WithGroup("store").InfoContext(ctx, "read", slog.Int("items", 2))
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if store, _ := line["store"].(map[string]any); store["items"] != float64(2) || store[logging.KeyCorrelationID] != "corr-1" {
		t.Errorf("line %v", line)
	}
}
