// Package coldstart holds what every function's main does once per
// execution environment: read its configuration from the environment,
// load the AWS configuration, build the logger and start serving.
package coldstart

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/metrics"
)

// Version is the build's version, set at link time with
// -ldflags "-X github.com/serverless-shop/backend/shared/coldstart.Version=...".
var Version = "dev"

// Build wires a function from its environment and returns its handler:
// anything lambda.Start accepts, typically a method value such as
// router.Handle.
type Build func(ctx context.Context, env *Env, log *slog.Logger) (handler any, err error)

// Main is every function's main. It builds the handler once, at cold
// start, and serves it. When build fails it logs why and exits 1: Lambda
// then reports a failed init, and no request meets a half-wired function.
func Main(service string, build Build) {
	log := logging.New(os.Stdout, service)
	h, err := build(context.Background(), NewEnv(os.Getenv), log)
	if err != nil {
		log.Error("cold start failed", slog.String(logging.KeyError, err.Error()))
		os.Exit(1)
	}
	lambda.Start(Handler(service, h, os.Stdout))
}

// Handler wraps a function's handler (anything lambda.Start accepts) so
// that every line logged during an invocation carries the invocation's
// X-Ray trace id and whether it is the execution environment's first
// (logging.Invocation), and so that the first one counts a ColdStart metric,
// written to metricsOut as an EMF line with the service dimension.
func Handler(service string, h any, metricsOut io.Writer) lambda.Handler {
	return &invocations{next: lambda.NewHandler(h), metrics: metrics.New(metricsOut, service)}
}

type invocations struct {
	next    lambda.Handler
	metrics *metrics.Recorder // of the first invocation only
	started atomic.Bool
}

func (i *invocations) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	cold := i.started.CompareAndSwap(false, true)
	ctx = logging.Invocation(ctx, cold)
	if cold {
		i.metrics.Add(metrics.ColdStart, 1)
		// A metric lost to a broken stdout must not fail the invocation;
		// there is nowhere else to say so either.
		_ = i.metrics.Flush()
	}
	return i.next.Invoke(ctx, payload)
}

// Env reads configuration from environment variables and collects every
// missing or malformed one, so a misconfigured function fails its cold start
// with one message naming all of them.
type Env struct {
	getenv func(string) string
	errs   []string
}

// NewEnv reads from getenv: os.Getenv in a function, a map in tests.
func NewEnv(getenv func(string) string) *Env { return &Env{getenv: getenv} }

// String returns a required variable.
func (e *Env) String(name string) string {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		e.errs = append(e.errs, name+" is not set")
	}
	return v
}

// Optional returns an optional variable, "" when unset.
func (e *Env) Optional(name string) string { return strings.TrimSpace(e.getenv(name)) }

// Duration returns an optional duration variable, def when unset.
func (e *Env) Duration(name string, def time.Duration) time.Duration {
	return optional(e, name, def, time.ParseDuration, "duration")
}

// Int returns an optional positive integer variable, def when unset.
func (e *Env) Int(name string, def int) int {
	return optional(e, name, def, strconv.Atoi, "integer")
}

// optional reads an optional positive number of the kind what, def when
// unset.
func optional[T int | time.Duration](e *Env, name string, def T, parse func(string) (T, error), what string) T {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	n, err := parse(v)
	if err != nil || n <= 0 {
		e.errs = append(e.errs, fmt.Sprintf("%s=%q is not a positive %s", name, v, what))
	}
	return n
}

// Fail records a problem with the variable name that a reader of a
// setting found (its value does not parse, say): the cold start fails with
// it among the others.
func (e *Env) Fail(name string, err error) {
	e.errs = append(e.errs, fmt.Sprintf("%s: %v", name, err))
}

// Err reports every problem met so far.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("configuration: %s", strings.Join(e.errs, "; "))
}

// AWSConfig loads the AWS SDK configuration from the function's environment
// (region, credentials, and AWS_ENDPOINT_URL when a local cloud sets it),
// with the request body fix every client of this project needs (see
// requestBodyWithoutWriteTo). It is the one place AWS configurations are
// built: integration tests pass optFns to point it at the local cloud.
func AWSConfig(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	// The middleware goes last in the finalize step, so that it sees each
	// attempt's rewound body.
	opts := append([]func(*config.LoadOptions) error{
		config.WithAPIOptions([]func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Finalize.Add(requestBodyWithoutWriteTo, middleware.After)
		}}),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	return cfg, nil
}

// The AWS SDK closes a request's body as soon as the HTTP client hands back
// the response headers (smithy-go's ClientHandler). net/http's writeLoop may
// not be done with that body yet: after writing Content-Length bytes it reads
// once more to check for extra data. The SDK's body implements io.WriterTo,
// and once closed its WriteTo answers io.EOF, which io.Copy passes on as an
// error instead of taking it as the end of the data. The transport then
// counts the request as failed and closes the connection, usually after the
// response body was read (the connection is just not reused), but sometimes
// while it is still being read: the call fails with "use of closed network
// connection", and the SDK retries a request the server already carried out
// (a CreateTable retried into ResourceInUseException, a conditional write
// into its own condition).
//
// It takes an answer that arrives before the writing goroutine takes its
// last step, so it shows most on a local cloud answering within a
// millisecond on a busy machine, and seldom on AWS (aws/aws-sdk-go-v2#1825,
// #2737). Hiding WriteTo makes io.Copy read instead, and a closed SDK body's
// Read answers (0, io.EOF), which io.Copy takes as the end. Every request
// body of the SDK is still sent, signed and rewound for retries as before.
//
// It runs once per attempt, after signing, just before the request is sent.
var requestBodyWithoutWriteTo = middleware.FinalizeMiddlewareFunc("RequestBodyWithoutWriteTo", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if stream, ok := req.GetStream().(io.WriterTo); ok {
			// A struct embedding an interface has that interface's methods only.
			var plain io.Reader = struct{ io.Reader }{req.GetStream()}
			if rs, ok := stream.(io.ReadSeeker); ok {
				plain = struct{ io.ReadSeeker }{rs}
			}
			sent, err := req.SetStream(plain)
			if err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wrap request body: %w", err)
			}
			in.Request = sent
		}
	}
	return next.HandleFinalize(ctx, in)
})
