// Package logging builds the JSON slog logger every function uses and carries
// per-request attributes (correlation id, user id) in the context so that
// every line logged while handling a request or a message can be joined up.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Attribute keys shared by all functions, so logs can be queried uniformly.
const (
	KeyCorrelationID = "correlationId"
	KeyRequestID     = "awsRequestId"
	KeyUserID        = "userId"
	KeyError         = "error"
	// KeyTraceID is the X-Ray trace id (the Root of the invocation's trace
	// header), to go from a log line to its trace and back.
	KeyTraceID = "traceId"
	// KeyColdStart is true on the lines of an execution environment's
	// first invocation, the one that paid for its initialisation.
	KeyColdStart = "coldStart"
)

// traceHeaderKey is the context key under which aws-lambda-go puts the
// invocation's X-Ray trace header (Lambda-Runtime-Trace-Id; lambda/invoke_loop.go
// of aws-lambda-go, which also sets _X_AMZN_TRACE_ID for the SDK's X-Ray
// integration). Its type is string, so the key is a string too.
const traceHeaderKey = "x-amzn-trace-id"

// Invocation returns ctx with the attributes every line logged during one
// Lambda invocation carries: coldStart, and traceId when Lambda sent a trace
// header (always on AWS with active tracing; the local cloud may send none,
// and then the line has no traceId rather than an empty one): the Root of
// the X-Ray trace header aws-lambda-go stored in ctx
// ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=...;Sampled=1" gives
// "1-5759e988-bd862e3fe1be46a994272793").
func Invocation(ctx context.Context, coldStart bool) context.Context {
	attrs := []slog.Attr{slog.Bool(KeyColdStart, coldStart)}
	header, _ := ctx.Value(traceHeaderKey).(string)
	for part := range strings.SplitSeq(header, ";") {
		if root, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			if root != "" {
				attrs = append(attrs, slog.String(KeyTraceID, root))
			}
			break
		}
	}
	return With(ctx, attrs...)
}

// New returns a JSON logger writing to w at the level named by
// AWS_LAMBDA_LOG_LEVEL (DEBUG, INFO, WARN, ERROR; INFO when unset). Each record
// carries the Lambda request id and the attributes stored with With.
//
// It borrows lambdacontext's key names and request id but not
// lambdacontext.NewLogHandler: that handler writes only to os.Stdout (tests
// pass their own writer) and logs TEXT unless AWS_LAMBDA_LOG_FORMAT=JSON, which
// the MiniStack emulator does not set, so local logs would stop being JSON.
func New(w io.Writer, service string) *slog.Logger {
	// The level is ours rather than lambdacontext's: that one is unexported,
	// reads the variable once when the package loads and accepts only upper
	// case. UnmarshalText takes any case and leaves an unknown name's level
	// as it was: the zero Level, INFO.
	var level slog.Level
	_ = level.UnmarshalText([]byte(os.Getenv("AWS_LAMBDA_LOG_LEVEL")))
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(contextHandler{h}).With("service", service)
}

type ctxKey struct{}

// With returns a context whose log records carry the given attributes in
// addition to those already stored in ctx.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	return context.WithValue(ctx, ctxKey{}, append(slices.Clip(prev), attrs...)) // a copy: ctx keeps its own
}

// CorrelationID returns the correlation id stored in ctx by With, or "".
func CorrelationID(ctx context.Context) string {
	attrs, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	for i := len(attrs) - 1; i >= 0; i-- {
		if attrs[i].Key == KeyCorrelationID {
			return attrs[i].Value.String()
		}
	}
	return ""
}

// contextHandler adds the Lambda request id and the context's attributes. The
// id goes under KeyRequestID, not lambdacontext's "requestId", so log lines keep
// the keys they have always had.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String(KeyRequestID, lc.AwsRequestID))
	}
	if attrs, ok := ctx.Value(ctxKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
