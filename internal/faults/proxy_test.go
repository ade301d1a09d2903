package faults_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sestypes "github.com/aws/aws-sdk-go-v2/service/ses/types"
	"github.com/aws/smithy-go"

	"github.com/serverless-shop/backend/internal/apitest"
	"github.com/serverless-shop/backend/internal/faults"
)

// proxyTo starts a proxy for role in front of upstream, every eligible
// call meeting kind.
func proxyTo(t *testing.T, upstream string, kind faults.Kind) (string, *faults.Ledger) {
	t.Helper()
	plan := faults.NewPlan(1, faults.Rates{kind: 1})
	plan.Start()
	ledger := faults.NewLedger()
	p := faults.NewProxy(upstream, plan, ledger, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = p.Close() })
	endpoint, err := p.Listen("orders")
	if err != nil {
		t.Fatal(err)
	}
	return endpoint, ledger
}

// countingUpstream stands for the local cloud: it answers every call as
// a SendMessageBatch whose entry 0 succeeded, and counts the calls that
// reach it.
func countingUpstream(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var reached atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = io.WriteString(w, `{"Successful":[{"Id":"0"}]}`)
	}))
	t.Cleanup(upstream.Close)
	return upstream, &reached
}

// post sends body to the JSON protocol's operation target.
func post(url, target, body string) (*http.Response, error) {
	return http.DefaultClient.Do(apitest.NewRequest("POST", url, body, "X-Amz-Target", target))
}

func TestProxyRefuses(t *testing.T) {
	t.Parallel()
	upstream, reached := countingUpstream(t)
	tests := []struct {
		kind          faults.Kind
		target, body  string
		status        int
		errType       string
		cancelReasons int
	}{
		{kind: faults.DynamoThrottling, target: "DynamoDB_20120810.PutItem", status: 400, errType: "ProvisionedThroughputExceededException"},
		{kind: faults.TransactionCancel, target: "DynamoDB_20120810.TransactWriteItems", body: `{"TransactItems":[{},{},{}]}`,
			status: 400, errType: "TransactionCanceledException", cancelReasons: 3},
		{kind: faults.SQSSendFailure, target: "AmazonSQS.SendMessageBatch", status: 500, errType: "InternalError"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			endpoint, ledger := proxyTo(t, upstream.URL, tt.kind)
			resp, err := post(endpoint, tt.target, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc struct {
				Type                string `json:"__type"`
				CancellationReasons []struct{ Code string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status || !strings.HasSuffix(doc.Type, "#"+tt.errType) || len(doc.CancellationReasons) != tt.cancelReasons {
				t.Fatalf("answer %d %+v, want %d %s with %d reasons", resp.StatusCode, doc, tt.status, tt.errType, tt.cancelReasons)
			}
			if got := ledger.Snapshot().Faults[tt.kind]; got != 1 {
				t.Fatalf("%d faults counted, want 1", got)
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("%d refused calls reached the cloud", n)
	}
}

func TestProxyLosesTheAnswerAfterTheWrite(t *testing.T) {
	t.Parallel()
	upstream, reached := countingUpstream(t)
	for _, tt := range []struct {
		kind         faults.Kind
		target, body string
	}{
		{faults.ResponseLost, "DynamoDB_20120810.TransactWriteItems", "{}"},
		{faults.KilledAfterWrite, "DynamoDB_20120810.TransactWriteItems", "{}"},
		{faults.ResponseLost, "AmazonSQS.SendMessageBatch", `{"Entries":[{"Id":"0","MessageBody":"{\"type\":\"order.created\",\"id\":\"E1\"}"}]}`},
	} {
		endpoint, ledger := proxyTo(t, upstream.URL, tt.kind)
		before := reached.Load()
		if resp, err := post(endpoint, tt.target, tt.body); err == nil {
			resp.Body.Close()
			t.Fatalf("%s: an answer %d came back", tt.kind, resp.StatusCode)
		}
		if reached.Load() != before+1 {
			t.Fatalf("%s: the write did not reach the cloud", tt.kind)
		}
		if got := ledger.TotalFaults(); got != 1 {
			t.Fatalf("%s: %d faults counted, want 1", tt.kind, got)
		}
		if _, published := ledger.Snapshot().Events["E1"]; published != strings.HasPrefix(tt.target, "AmazonSQS") {
			t.Fatalf("%s %s: event published %v", tt.kind, tt.target, published)
		}
	}
	// A read meets none of them and passes through.
	endpoint, _ := proxyTo(t, upstream.URL, faults.ResponseLost)
	resp, err := post(endpoint, "DynamoDB_20120810.GetItem", "{}")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a read got %d", resp.StatusCode)
	}
}

// TestProxySESFaultsAsTheSDKReadsThem sends through the proxy with the SES
// client the notification function uses: the refusals are the SES errors
// the function must tell apart (MessageRejected is permanent, Throttling is
// not), and the ledger reads the rejected mail from the query protocol's
// form.
func TestProxySESFaultsAsTheSDKReadsThem(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a refused SendEmail reached the cloud")
	}))
	defer upstream.Close()
	tests := []struct {
		kind faults.Kind
		code string
	}{
		{kind: faults.SESThrottling, code: "Throttling"},
		{kind: faults.SESRejection, code: "MessageRejected"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			endpoint, ledger := proxyTo(t, upstream.URL, tt.kind)
			client := ses.New(ses.Options{
				Region:           "us-east-1",
				BaseEndpoint:     aws.String(endpoint),
				Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
				RetryMaxAttempts: 1,
			})
			_, err := client.SendEmail(context.Background(), &ses.SendEmailInput{
				Source:      aws.String("shop@shop.test"),
				Destination: &sestypes.Destination{ToAddresses: []string{"Ada@Example.com"}},
				Message: &sestypes.Message{
					Subject: &sestypes.Content{Data: aws.String("Order 1 confirmed")},
					Body:    &sestypes.Body{Text: &sestypes.Content{Data: aws.String("hello")}},
				},
			})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.code {
				t.Fatalf("SendEmail error %v, want code %s", err, tt.code)
			}
			snap := ledger.Snapshot()
			if snap.Faults[tt.kind] != 1 {
				t.Errorf("faults %v, want one %s", snap.Faults, tt.kind)
			}
			want := faults.Mail{To: "ada@example.com", Subject: "Order 1 confirmed"}
			if got := snap.Rejected[want]; (tt.kind == faults.SESRejection) != (got == 1) {
				t.Errorf("rejected %v, want %v once for %s", snap.Rejected, want, tt.kind)
			}
		})
	}
}
