//go:build integration

package testcloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// NewFIFOQueue creates a FIFO queue for one test, with attrs added to its
// attributes, and deletes it when the test ends. It returns the queue URL.
func NewFIFOQueue(t testing.TB, q *sqs.Client, attrs map[string]string) string {
	t.Helper()
	a := map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "false"}
	maps.Copy(a, attrs)
	return newQueue(t, q, fmt.Sprintf("it-%d.fifo", time.Now().UnixNano()), a)
}

// NewQueue creates a standard queue for one test and deletes it when the
// test ends. It returns the queue URL.
func NewQueue(t testing.TB, q *sqs.Client) string {
	t.Helper()
	return newQueue(t, q, fmt.Sprintf("it-%d", time.Now().UnixNano()), nil)
}

func newQueue(t testing.TB, q *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := q.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	// CreateQueue is idempotent for the same name and attributes, so a
	// retried create answers with the queue the first attempt made.
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	t.Cleanup(func() {
		var gone *sqstypes.QueueDoesNotExist
		if _, err := q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}); err != nil && !errors.As(err, &gone) {
			t.Errorf("delete queue %s: %v", aws.ToString(out.QueueUrl), err)
		}
	})
	return aws.ToString(out.QueueUrl)
}

// QueueDepth is what a queue holds: messages ready to receive, received and
// not yet deleted (in flight, including those waiting out a backoff), and
// delayed.
type QueueDepth struct{ Visible, InFlight, Delayed int }

// Empty reports whether the queue holds no message at all.
func (d QueueDepth) Empty() bool { return d == QueueDepth{} }

// Depth reads a queue's depth.
func Depth(t testing.TB, q *sqs.Client, url string) QueueDepth {
	t.Helper()
	names := []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	var n [3]int
	for i, name := range names {
		if n[i], err = strconv.Atoi(out.Attributes[string(name)]); err != nil {
			t.Fatalf("queue attribute %s = %q", name, out.Attributes[string(name)])
		}
	}
	return QueueDepth{Visible: n[0], InFlight: n[1], Delayed: n[2]}
}

// AwaitDrained waits until the queue holds no message at all, and fails the
// test if that takes longer than within.
func AwaitDrained(t testing.TB, q *sqs.Client, url string, within time.Duration) {
	t.Helper()
	Eventually(t, within, "queue "+url+" to drain", func() bool { return Depth(t, q, url).Empty() })
}

// Drain receives until the queue stays empty for a long poll, deleting what
// it receives, and returns it with its system and message attributes.
func Drain(t testing.TB, q *sqs.Client, url string) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for range 10 {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			all = append(all, m)
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return all
}
