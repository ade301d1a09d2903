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

// lines decodes each JSON line the logger wrote.
func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, l)
		}
		out = append(out, m)
	}
	return out
}

func TestNewJSONShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, "orders")
	ctx := logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "corr-1"), slog.String(logging.KeyUserID, "u-1"))
	log.InfoContext(ctx, "order created", slog.String("orderId", "o-1"), slog.Int("lines", 2))

	got := lines(t, &buf)
	if len(got) != 1 {
		t.Fatalf("wrote %d lines, want 1", len(got))
	}
	line := got[0]
	want := map[string]any{
		"message":                "order created",
		"level":                  "INFO",
		"service":                "orders",
		"orderId":                "o-1",
		"lines":                  float64(2),
		logging.KeyCorrelationID: "corr-1",
		logging.KeyUserID:        "u-1",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("line[%q] = %v, want %v", k, line[k], v)
		}
	}
	if ts, ok := line["timestamp"].(string); !ok || ts == "" {
		t.Errorf("timestamp = %v, want an RFC 3339 string", line["timestamp"])
	}
	for _, k := range []string{"time", "msg", logging.KeyRequestID} {
		if _, ok := line[k]; ok {
			t.Errorf("line has key %q: %v", k, line)
		}
	}
}

func TestContextAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ctx     func() context.Context
		want    map[string]any
		notWant []string
	}{
		{
			name:    "plain context",
			ctx:     context.Background,
			notWant: []string{logging.KeyCorrelationID, logging.KeyRequestID},
		},
		{
			name: "Lambda request id",
			ctx: func() context.Context {
				return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
			},
			want: map[string]any{logging.KeyRequestID: "aws-req-1"},
		},
		{
			name: "layers accumulate",
			ctx: func() context.Context {
				ctx := logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "corr-1"))
				return logging.With(ctx, slog.String(logging.KeyUserID, "u-1"), slog.Int("attempt", 3))
			},
			want: map[string]any{logging.KeyCorrelationID: "corr-1", logging.KeyUserID: "u-1", "attempt": float64(3)},
		},
		{
			name: "Lambda id and correlation id together",
			ctx: func() context.Context {
				ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-2"})
				return logging.With(ctx, slog.String(logging.KeyCorrelationID, "corr-2"))
			},
			want: map[string]any{logging.KeyRequestID: "aws-req-2", logging.KeyCorrelationID: "corr-2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logging.New(&buf, "svc").With("component", "store").WarnContext(tc.ctx(), "m")
			line := lines(t, &buf)[0]
			if line["component"] != "store" || line["service"] != "svc" {
				t.Errorf("logger attributes lost: %v", line)
			}
			for k, v := range tc.want {
				if line[k] != v {
					t.Errorf("line[%q] = %v, want %v", k, line[k], v)
				}
			}
			for _, k := range tc.notWant {
				if _, ok := line[k]; ok {
					t.Errorf("line has %q: %v", k, line)
				}
			}
		})
	}
}

func TestWithDoesNotChangeParent(t *testing.T) {
	t.Parallel()
	parent := logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "parent"))
	a := logging.With(parent, slog.String("branch", "a"))
	b := logging.With(parent, slog.String("branch", "b"))

	var buf bytes.Buffer
	log := logging.New(&buf, "svc")
	log.InfoContext(parent, "p")
	log.InfoContext(a, "a")
	log.InfoContext(b, "b")
	got := lines(t, &buf)
	if _, ok := got[0]["branch"]; ok {
		t.Errorf("parent context gained a child's attribute: %v", got[0])
	}
	if got[1]["branch"] != "a" || got[2]["branch"] != "b" {
		t.Errorf("branches = %v, %v; want a, b", got[1]["branch"], got[2]["branch"])
	}
	for i, l := range got {
		if l[logging.KeyCorrelationID] != "parent" {
			t.Errorf("line %d correlation id = %v, want parent", i, l[logging.KeyCorrelationID])
		}
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  context.Context
		want string
	}{
		{name: "none", ctx: context.Background(), want: ""},
		{name: "other attributes only", ctx: logging.With(context.Background(), slog.String(logging.KeyUserID, "u-1")), want: ""},
		{name: "set", ctx: logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "c-1")), want: "c-1"},
		{
			name: "set among others",
			ctx:  logging.With(context.Background(), slog.String(logging.KeyUserID, "u-1"), slog.String(logging.KeyCorrelationID, "c-2"), slog.Int("n", 1)),
			want: "c-2",
		},
		{
			name: "latest wins",
			ctx: logging.With(
				logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "outer")),
				slog.String(logging.KeyCorrelationID, "inner"),
			),
			want: "inner",
		},
		{name: "empty value", ctx: logging.With(context.Background(), slog.String(logging.KeyCorrelationID, "")), want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := logging.CorrelationID(tc.ctx); got != tc.want {
				t.Errorf("CorrelationID = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLevelFromEnvironment(t *testing.T) {
	// Not parallel: t.Setenv.
	tests := []struct {
		env       string
		wantDebug bool
		wantInfo  bool
		wantWarn  bool
	}{
		{env: "", wantInfo: true, wantWarn: true},
		{env: "DEBUG", wantDebug: true, wantInfo: true, wantWarn: true},
		{env: "debug", wantDebug: true, wantInfo: true, wantWarn: true},
		{env: "INFO", wantInfo: true, wantWarn: true},
		{env: "WARN", wantWarn: true},
		{env: "ERROR"},
		{env: "nonsense", wantInfo: true, wantWarn: true},
	}
	for _, tc := range tests {
		t.Run("level "+tc.env, func(t *testing.T) {
			t.Setenv("AWS_LAMBDA_LOG_LEVEL", tc.env)
			log := logging.New(&bytes.Buffer{}, "svc")
			ctx := context.Background()
			got := [3]bool{log.Enabled(ctx, slog.LevelDebug), log.Enabled(ctx, slog.LevelInfo), log.Enabled(ctx, slog.LevelWarn)}
			if want := [3]bool{tc.wantDebug, tc.wantInfo, tc.wantWarn}; got != want {
				t.Errorf("enabled debug/info/warn = %v, want %v", got, want)
			}
			if !log.Enabled(ctx, slog.LevelError) {
				t.Error("ERROR disabled")
			}
		})
	}
}

// TestGroupsKeepTheirKeys checks that only the top-level time and message
// keys are renamed.
func TestGroupsKeepTheirKeys(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logging.New(&buf, "svc").Info("m", slog.Group("req", slog.String("msg", "inner"), slog.String("time", "t")))
	line := lines(t, &buf)[0]
	req, ok := line["req"].(map[string]any)
	if !ok {
		t.Fatalf("req group missing: %v", line)
	}
	if req["msg"] != "inner" || req["time"] != "t" {
		t.Errorf("group members renamed: %v", req)
	}
	if line["message"] != "m" {
		t.Errorf("message = %v", line["message"])
	}
}
