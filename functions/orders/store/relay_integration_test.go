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

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/outbox/relay"
)

// TestOrderWritesReachTheQueueInOrder places an order and cancels it eight
// times at once, each cancel with its own event, on a table of its own:
// one cancel takes effect, and the orders relay (relay.New with
// FromStream), run on the table's real stream twice (a redelivery), puts
// exactly the two events on a FIFO queue, created before the winner's
// cancelled, in the order's message group.
func TestOrderWritesReachTheQueueInOrder(t *testing.T) {
	ctx := context.Background()
	f := newFixtureOn(t, testcloud.TableSpec{SortKey: true, Stream: true})
	q := sqs.NewFromConfig(f.cfg)
	queueURL := testcloud.NewFIFOQueue(t, q, map[string]string{"VisibilityTimeout": "30"})

	now := time.Now().UTC().Truncate(time.Millisecond)
	const orderID = "01JNQORDER0000000000000077"
	o := order.Order{
		ID: orderID, Customer: order.Customer{ID: "user-ada", Email: "ada@example.com", Name: "Ada"}, Status: order.Pending,
		Lines: []order.Line{{SKU: "COF-ESP-250", Name: "Espresso beans", Quantity: 2, UnitPrice: 1450, LineTotal: 2900}},
		Total: 2900, Currency: "EUR", CreatedAt: now, UpdatedAt: now,
	}
	if _, err := f.s.CreateOrder(ctx, o, order.EventRef{ID: "ev-placed-77", CorrelationID: "corr-placed"}, nil, order.Quota{Max: 10, Window: time.Hour}, now); err != nil {
		t.Fatal(err)
	}
	won := -1
	for i, err := range parallel(8, func(i int) error {
		_, err := f.s.CancelOrder(ctx, o.Customer.ID, orderID, now.Add(time.Second), order.EventRef{ID: fmt.Sprint("ev-cancelled-", i), CorrelationID: "corr-cancel"})
		return err
	}) {
		if err == nil {
			won = i
		}
	}
	if v := f.stored(t, o.Customer.ID, orderID).Version; v != 2 {
		t.Errorf("stored version %d, want 2: the released version's cancel adds to it", v)
	}

	batch := testcloud.StreamBatch(t, f.cfg, f.table, 3) // the order, the quota count, the cancel
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
		if g := m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]; g != orderID {
			t.Errorf("message group %q, want the order id", g)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %d", ev.Type, ev.ID, ev.CorrelationID, ev.Order.Status, ev.Order.Total))
	}
	want := []string{
		"order.created ev-placed-77 corr-placed PENDING 2900",
		fmt.Sprint("order.cancelled ev-cancelled-", won, " corr-cancel CANCELLED 2900"),
	}
	if !slices.Equal(got, want) {
		t.Fatalf("queue holds %q, want %q", got, want)
	}
}
