//go:build integration

package store_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/outbox/relay"
)

// TestOrderWritesReachTheQueueInOrder places an order and cancels it, on
// a table of its own: the orders relay (relay.New with FromStream), run on
// the table's real stream twice (a redelivery), puts exactly the two
// events on a FIFO queue, created before cancelled, in the order's message
// group. (Of concurrent cancels one takes effect: the conformance tests'
// CancelRace.)
func TestOrderWritesReachTheQueueInOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	q := sqs.NewFromConfig(f.cfg)
	queueURL := testcloud.NewFIFOQueue(t, q, map[string]string{"VisibilityTimeout": "30"})
	o := newOrder("user-ada", 77, now())
	f.subject().stock(t, "SKU-1", 10)
	f.subject().create(t, o, "ev-placed")
	if _, err := f.s.CancelOrder(ctx, o.Customer.ID, o.ID, o.CreatedAt.Add(time.Second), ref("ev-cancelled")); err != nil {
		t.Fatal(err)
	}
	if v := f.stored(t, o.Customer.ID, o.ID).Version; v != 2 {
		t.Errorf("stored version %d, want 2: the released version's cancel adds to it", v)
	}

	batch := testcloud.StreamBatch(t, f.cfg, f.table, 8) // the product and its stock, the order, its owner item, the quota count, the stock take, the cancel, the stock given back
	pub := relay.New(q, queueURL, testcloud.NewQueue(t, q), store.FromStream, logging.New(io.Discard, "relay-test"))
	for attempt := range 2 {
		if resp, err := pub.Handle(ctx, batch); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("relay attempt %d: %+v, %v", attempt, resp, err)
		}
	}
	var got []string
	for _, m := range testcloud.Drain(t, q, queueURL) {
		e, err := events.Parse([]byte(aws.ToString(m.Body)))
		ev, ok := e.(events.OrderEvent)
		if err != nil || !ok {
			t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
		}
		if g := m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != o.ID {
			t.Errorf("message group %q, want the order id", g)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %d", ev.Type, ev.ID, ev.CorrelationID, ev.Order.Status, ev.Order.Total))
	}
	want := []string{"order.created ev-placed corr-ev-placed PENDING 300", "order.cancelled ev-cancelled corr-ev-cancelled CANCELLED 300"}
	if !slices.Equal(got, want) {
		t.Fatalf("queue holds %q, want %q", got, want)
	}
}
