package coldstart

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// TestRequestBodyWithoutWriteTo checks what the next step gets: the same
// bytes, without WriteTo, seekable when the body was; a body without WriteTo
// goes as it is.
func TestRequestBodyWithoutWriteTo(t *testing.T) {
	t.Parallel()
	for _, body := range []io.Reader{strings.NewReader("body"), bufio.NewReader(strings.NewReader("body")), struct{ io.Reader }{strings.NewReader("body")}} {
		req, err := smithyhttp.NewStackRequest().(*smithyhttp.Request).SetStream(body)
		if err != nil {
			t.Fatal(err)
		}
		var sent io.Reader
		next := middleware.FinalizeHandlerFunc(func(_ context.Context, in middleware.FinalizeInput) (middleware.FinalizeOutput, middleware.Metadata, error) {
			sent = in.Request.(*smithyhttp.Request).GetStream()
			return middleware.FinalizeOutput{}, middleware.Metadata{}, nil
		})
		if _, _, err := requestBodyWithoutWriteTo.HandleFinalize(context.Background(), middleware.FinalizeInput{Request: req}, next); err != nil {
			t.Fatal(err)
		}
		_, writerTo := sent.(io.WriterTo)
		_, seeker := sent.(io.Seeker)
		_, wasSeeker := body.(io.Seeker)
		if b, err := io.ReadAll(sent); err != nil || string(b) != "body" || writerTo || seeker != wasSeeker {
			t.Errorf("%T sent as %T reading %q, %v", body, sent, b, err)
		}
	}
	if requestBodyWithoutWriteTo.ID() == "" {
		t.Error("no ID")
	}
}
