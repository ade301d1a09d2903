package coldstart

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

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
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return next.HandleFinalize(ctx, in)
	}
	stream := req.GetStream()
	if _, ok := stream.(io.WriterTo); !ok {
		return next.HandleFinalize(ctx, in)
	}
	// A struct embedding an interface has that interface's methods only.
	var plain io.Reader = struct{ io.Reader }{stream}
	if rs, ok := stream.(io.ReadSeeker); ok {
		plain = struct{ io.ReadSeeker }{rs}
	}
	sent, err := req.SetStream(plain)
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wrap request body: %w", err)
	}
	in.Request = sent
	return next.HandleFinalize(ctx, in)
})
