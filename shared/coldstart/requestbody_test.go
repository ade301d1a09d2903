package coldstart_test

import (
	"context"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-shop/backend/shared/coldstart"
)

// TestAnswerBeforeLastBodyReadKeepsConnection replays, step by step, the
// race behind calls that failed with "use of closed network connection" on
// a busy machine: the server answers while net/http's writer still has to
// make its last read of the request body, and the SDK closes that body as
// soon as it has the answer's headers. The request must then count as
// written, the answer must be read in full, and the connection reused, so
// the server sees each call exactly once.
func TestAnswerBeforeLastBodyReadKeepsConnection(t *testing.T) {
	t.Parallel()
	// The server sends the first answer's headers at once and its body
	// only when the client is done with the request, as a server does
	// whose body leaves in a second packet.
	var calls atomic.Int32
	sendBody := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body := []byte(`{}`)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-sendBody
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)

	// The first connection's second write is the first request's body
	// (net/http flushes the headers first). It returns only once the SDK
	// holds the answer, which puts the writer's last body read after the
	// SDK closed the body, the order a descheduled goroutine produces.
	release := make(chan struct{})
	var dials atomic.Int32
	var firstConn *gatedConn
	client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		var d net.Dialer
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil || dials.Add(1) != 1 {
				return c, err
			}
			firstConn = &gatedConn{Conn: c, gateWrite: 2, release: release, closed: make(chan struct{})}
			return firstConn, nil
		}
	})

	// Innermost in the deserialize step: runs after the HTTP client
	// returned, before the operation reads the answer's body. It lets the
	// writer go on and waits until it is done with the request: if the
	// writer saw an error, the transport closes the connection, and the
	// answer can only be read after that.
	wrote := make(chan error, 1)
	var once sync.Once
	afterSend := middleware.DeserializeMiddlewareFunc("afterSend", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleDeserialize(ctx, in)
		once.Do(func() {
			close(release)
			if werr := <-wrote; werr != nil {
				t.Logf("writer failed after the answer arrived: %v", werr)
				<-firstConn.closed
			}
			close(sendBody)
		})
		return out, md, err
	})

	cfg, err := coldstart.AWSConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithBaseEndpoint(srv.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		config.WithHTTPClient(client),
		config.WithAPIOptions([]func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Deserialize.Add(afterSend, middleware.After)
		}}),
	)
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	put := &dynamodb.PutItemInput{
		TableName: aws.String("t"),
		Item:      map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "k"}},
	}
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			select {
			case wrote <- i.Err:
			default:
			}
		},
	})
	for i := range 2 {
		if _, err := db.PutItem(ctx, put); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("server saw %d requests for 2 calls: a call was retried after its answer arrived", n)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for 2 calls, want 1 reused", n)
	}
}

// gatedConn holds its gateWrite-th write until release is closed and
// reports its closing.
type gatedConn struct {
	net.Conn
	gateWrite int
	writes    int
	release   <-chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *gatedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.writes++; c.writes == c.gateWrite {
		<-c.release
	}
	return n, err
}

func (c *gatedConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
