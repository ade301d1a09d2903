//go:build integration

package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/orderitem"
	"github.com/serverless-shop/backend/shared/problem"
)

type fixture struct {
	cfg   aws.Config
	db    *dynamodb.Client
	table string
	s     *store.Store
}

func newFixture(t *testing.T) fixture { return newFixtureOn(t, testcloud.TableSpec{SortKey: true}) }

// newFixtureOn is a fixture on a table of its own made as spec says.
func newFixtureOn(t *testing.T, spec testcloud.TableSpec) fixture {
	t.Helper()
	cfg := testcloud.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	table := testcloud.NewTable(t, db, spec)
	return fixture{cfg: cfg, db: db, table: table, s: store.New(db, table)}
}

// orderID returns a 26-character id that sorts by i, like the ULIDs the
// service uses.
func orderID(i int) string { return fmt.Sprintf("01ORDER%019d", i) }

func newOrder(customer string, i int, now time.Time) order.Order {
	return order.Order{
		ID: orderID(i), Customer: order.Customer{ID: customer, Email: customer + "@example.com", Name: "C"},
		Status: order.Pending, Lines: []order.Line{{SKU: "SKU-1", Name: "Thing", Quantity: 2, UnitPrice: 150, LineTotal: 300}},
		Total: 300, Currency: "USD", CreatedAt: now, UpdatedAt: now, Version: 1,
	}
}

// ref names an event the order's write announces.
func ref(eventID string) order.EventRef {
	return order.EventRef{ID: eventID, CorrelationID: "corr-" + eventID}
}

// create stores a new order without a key, as CreateOrder does.
func (f fixture) create(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, q order.Quota) error {
	replay, err := f.s.CreateOrder(ctx, o, ev, key, q, o.CreatedAt)
	if err == nil && replay != nil {
		return fmt.Errorf("unexpected replay of %s", replay.ID)
	}
	return err
}

// stored reads the customer's order item as stored, nil when there is none.
func (f fixture) stored(t *testing.T, customerID, id string) *orderitem.Item {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.table, Key: ddb.Key("CUSTOMER#"+customerID, orderitem.SKPrefix+id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	var it orderitem.Item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		t.Fatal(err)
	}
	return &it
}

// announces reports whether the order is stored announcing the event
// eventID: the write the stream hands to the relay.
func (f fixture) announces(t *testing.T, o order.Order, eventID string) bool {
	t.Helper()
	it := f.stored(t, o.Customer.ID, o.ID)
	return it != nil && it.EventID == eventID
}

func TestProductsCatalog(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var products []order.Product
	for i := range 30 {
		products = append(products, order.Product{SKU: fmt.Sprintf("SKU-%03d", 29-i), Name: "P", UnitPrice: int64(100 + i), Currency: "USD", Active: i%7 != 0})
	}
	if err := f.s.PutProducts(ctx, products); err != nil {
		t.Fatal(err)
	}
	all, err := f.s.Products(ctx)
	if err != nil || len(all) != 30 {
		t.Fatalf("Products = %d, %v", len(all), err)
	}
	if !slices.IsSortedFunc(all, func(a, b order.Product) int { return cmpString(a.SKU, b.SKU) }) {
		t.Fatal("products not ordered by SKU")
	}
	if all[5].SKU != "SKU-005" || all[5].UnitPrice != 124 || all[17].UnitPrice != 112 || all[29].Active /* SKU-029, i = 0: discontinued */ {
		t.Fatalf("Products = %+v", all)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// generous is a quota the tests that are not about quotas never reach.
var generous = order.Quota{Max: 1000, Window: time.Hour}

// TestQuotaIsCountedWithTheOrder: twelve orders at once against a quota
// of five: exactly five are stored, each with its event; the others
// stored nothing and say when the window ends. Another customer and the
// next window are not affected.
func TestQuotaIsCountedWithTheOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Hour).Add(45 * time.Minute)
	quota := order.Quota{Max: 5, Window: time.Hour}
	const n = 12
	errs := testcloud.Parallel(n, func(i int) error {
		o := newOrder("cust-quota", i, now)
		return f.create(ctx, o, ref(fmt.Sprint("ev-quota-", i)), nil, quota)
	})
	stored := 0
	for i, err := range errs {
		over := problem.Of(err, problem.TooManyRequests)
		switch {
		case err == nil:
			stored++
			if !f.announces(t, newOrder("cust-quota", i, now), fmt.Sprint("ev-quota-", i)) {
				t.Errorf("order %d stored without its event", i)
			}
		case over != nil:
			if over.RetryAfter != 15*time.Minute || over.Slug != "order-quota" {
				t.Errorf("refusal %+v, want 5 per hour and the window's last 15 minutes", over)
			}
			if f.stored(t, "cust-quota", orderID(i)) != nil {
				t.Errorf("refused order %d was stored", i)
			}
		default:
			t.Fatal(err)
		}
	}
	list, _, err := f.s.Orders(ctx, "cust-quota", 50, "")
	if err != nil || stored != quota.Max || len(list) != quota.Max {
		t.Fatalf("%d of %d orders at once stored, %d listed (%v); want exactly %d", stored, n, len(list), err, quota.Max)
	}
	other := newOrder("cust-other", 99, now)
	if err := f.create(ctx, other, ref("ev-quota-other"), nil, quota); err != nil {
		t.Fatalf("another customer's order = %v", err)
	}
	next := newOrder("cust-quota", 100, now.Add(15*time.Minute))
	if err := f.create(ctx, next, ref("ev-quota-next"), nil, quota); err != nil {
		t.Fatalf("an order in the next window = %v", err)
	}
}

func TestCreateOrderIsAtomicWithItsEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	o := newOrder("cust-a", 1, now)
	if err := f.create(ctx, o, ref("ev-1"), nil, generous); err != nil {
		t.Fatal(err)
	}
	if it := f.stored(t, "cust-a", o.ID); it == nil || it.EventID != "ev-1" || it.EventType != events.OrderCreated || it.CorrelationID != "corr-ev-1" {
		t.Fatalf("order stored as %+v, want it to announce order.created ev-1", it)
	}
	got, err := f.s.Order(ctx, "cust-a", o.ID)
	if err != nil || got.Total != 300 || got.Customer.Email != "cust-a@example.com" || !got.CreatedAt.Equal(now) {
		t.Fatalf("Order = %+v, %v", got, err)
	}
	// Writing an order whose id exists fails as a whole: no event appears.
	if err := f.create(ctx, o, ref("ev-2"), nil, generous); err == nil {
		t.Fatal("duplicate order id accepted")
	}
	if !f.announces(t, o, "ev-1") {
		t.Fatal("the failed write changed the stored order's event")
	}
	// Another customer cannot see the order.
	if _, err := f.s.Order(ctx, "cust-b", o.ID); !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("other customer's read = %v", err)
	}
}

func claim(customer, key, hash string) order.Claim {
	return order.Claim{CustomerID: customer, Key: key, RequestHash: hash}
}

// TestIdempotencyKeyRaceAndReplay: ten requests with one key at once
// store one order and one event; every other one replays that order or
// hears that the key is busy. A later replay repeats the order as placed.
func TestIdempotencyKeyRaceAndReplay(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	const n = 10
	c := claim("cust-k", "key-1", "hash-a")
	replays := make([]*order.Order, n)
	errs := testcloud.Parallel(n, func(i int) error {
		o := newOrder("cust-k", i, now)
		var err error
		replays[i], err = f.s.CreateOrder(ctx, o, ref(fmt.Sprint("ev-k-", i)), &c, generous, now)
		return err
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && replays[i] == nil:
			if won >= 0 {
				t.Fatalf("requests %d and %d both stored an order", won, i)
			}
			won = i
		case err == nil, errors.Is(err, order.ErrIdempotencyBusy):
		default:
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no request stored the order")
	}
	placed := newOrder("cust-k", won, now)
	for i, r := range replays {
		if r != nil && !reflect.DeepEqual(*r, placed) {
			t.Errorf("request %d replayed %+v, want %+v", i, *r, placed)
		}
		if i != won && f.stored(t, "cust-k", orderID(i)) != nil {
			t.Errorf("request %d stored an order", i)
		}
	}
	if list, _, err := f.s.Orders(ctx, "cust-k", 50, ""); err != nil || len(list) != 1 {
		t.Fatalf("%d orders stored (%v), want 1", len(list), err)
	}

	// The order changes after it was placed; a replay still answers what
	// the first request placed.
	if _, err := f.s.CancelOrder(ctx, "cust-k", placed.ID, now.Add(time.Second), ref("ev-k-cancel")); err != nil {
		t.Fatal(err)
	}
	later := newOrder("cust-k", 50, now.Add(time.Minute))
	replay, err := f.s.CreateOrder(ctx, later, ref("ev-k-later"), &c, generous, later.CreatedAt)
	if err != nil || replay == nil || !reflect.DeepEqual(*replay, placed) {
		t.Fatalf("replay = %+v, %v; want the order as placed, %+v", replay, err, placed)
	}
	if f.stored(t, "cust-k", later.ID) != nil || !f.announces(t, placed, "ev-k-cancel") {
		t.Error("a replay stored an order or an event")
	}
	if replay, err := f.s.KeyedOrder(ctx, c, now.Add(time.Minute)); err != nil || replay == nil || !reflect.DeepEqual(*replay, placed) {
		t.Fatalf("KeyedOrder = %+v, %v; want the order as placed", replay, err)
	}
	other := claim("cust-k", "key-1", "hash-b")
	if _, err := f.s.CreateOrder(ctx, later, ref("ev-k-other"), &other, generous, later.CreatedAt); !errors.Is(err, order.ErrIdempotencyReuse) {
		t.Fatalf("other body = %v, want ErrIdempotencyReuse", err)
	}
	if _, err := f.s.KeyedOrder(ctx, other, now); !errors.Is(err, order.ErrIdempotencyReuse) {
		t.Fatalf("KeyedOrder of another body = %v, want ErrIdempotencyReuse", err)
	}
	// Keys are scoped per customer.
	if replay, err := f.s.KeyedOrder(ctx, claim("cust-other", "key-1", "hash-b"), now); err != nil || replay != nil {
		t.Fatalf("same key, other customer = %+v, %v", replay, err)
	}
	// After the TTL the key is free again, even before DynamoDB deletes it.
	expired := now.Add(store.IdempotencyTTL + time.Second)
	if replay, err := f.s.KeyedOrder(ctx, other, expired); err != nil || replay != nil {
		t.Fatalf("expired key = %+v, %v", replay, err)
	}
	fresh := newOrder("cust-k", 60, expired)
	if replay, err := f.s.CreateOrder(ctx, fresh, ref("ev-k-fresh"), &other, generous, expired); err != nil || replay != nil {
		t.Fatalf("order with an expired key = %+v, %v; want it stored", replay, err)
	}
}

// TestReplayTakesPrecedenceOverTheQuota: a replay places nothing, so a
// full quota does not refuse it.
func TestReplayTakesPrecedenceOverTheQuota(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	one := order.Quota{Max: 1, Window: time.Hour}
	c := claim("cust-q", "key-q", "h")
	o := newOrder("cust-q", 1, now)
	if replay, err := f.s.CreateOrder(ctx, o, ref("ev-q1"), &c, one, now); err != nil || replay != nil {
		t.Fatalf("first = %+v, %v", replay, err)
	}
	retry := newOrder("cust-q", 2, now)
	replay, err := f.s.CreateOrder(ctx, retry, ref("ev-q2"), &c, one, now)
	if err != nil || replay == nil || replay.ID != o.ID {
		t.Fatalf("retry at the quota = %+v, %v; want the replay of %s", replay, err, o.ID)
	}
	other := claim("cust-q", "key-other", "h")
	if _, err := f.s.CreateOrder(ctx, retry, ref("ev-q3"), &other, one, now); problem.Of(err, problem.TooManyRequests) == nil {
		t.Fatalf("a new order at the quota = %v, want the quota's refusal", err)
	}
	if replay, err := f.s.KeyedOrder(ctx, other, now); err != nil || replay != nil {
		t.Fatalf("the refused order's key = %+v, %v; want it free", replay, err)
	}
}

// TestKeyClaimedByAnEarlierVersion: the previous version claimed a key
// (IN_PROGRESS with a lease) before its transaction. While the lease runs
// the key is busy and this version stores nothing; after it lapses, the
// key is taken over.
func TestKeyClaimedByAnEarlierVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	_, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: map[string]types.AttributeValue{
		"PK":             &types.AttributeValueMemberS{Value: "CUSTOMER#cust-l"},
		"SK":             &types.AttributeValueMemberS{Value: "IDEMPOTENCY#key-l"},
		"status":         &types.AttributeValueMemberS{Value: "IN_PROGRESS"},
		"requestHash":    &types.AttributeValueMemberS{Value: "h"},
		"owner":          &types.AttributeValueMemberS{Value: "old-version"},
		"leaseExpiresAt": &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(time.Minute).Unix())},
		"expiresAt":      &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(24 * time.Hour).Unix())},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c := claim("cust-l", "key-l", "h")
	o := newOrder("cust-l", 1, now)
	if _, err := f.s.CreateOrder(ctx, o, ref("ev-l1"), &c, generous, now); !errors.Is(err, order.ErrIdempotencyBusy) {
		t.Fatalf("during the lease = %v, want ErrIdempotencyBusy", err)
	}
	if _, err := f.s.KeyedOrder(ctx, c, now); !errors.Is(err, order.ErrIdempotencyBusy) {
		t.Fatalf("KeyedOrder during the lease = %v, want ErrIdempotencyBusy", err)
	}
	if _, err := f.s.Order(ctx, "cust-l", o.ID); !errors.Is(err, order.ErrNotFound) || f.stored(t, "cust-l", o.ID) != nil {
		t.Fatal("a busy key stored an order or an event")
	}
	after := now.Add(2 * time.Minute)
	late := newOrder("cust-l", 2, after)
	if replay, err := f.s.CreateOrder(ctx, late, ref("ev-l2"), &c, generous, after); err != nil || replay != nil {
		t.Fatalf("after the lease = %+v, %v; want the order stored", replay, err)
	}
}

// TestCancelRaceWritesOneEvent: eight cancels of one order at once, each
// with its own event: exactly one takes effect, and the stream carries
// exactly the order's two writes, placed and cancelled.
func TestCancelRaceWritesOneEvent(t *testing.T) {
	ctx := context.Background()
	f := newFixtureOn(t, testcloud.TableSpec{SortKey: true, Stream: true})
	now := time.Now().UTC().Truncate(time.Millisecond)
	o := newOrder("cust-c", 3, now)
	if err := f.create(ctx, o, ref("ev-c0"), nil, generous); err != nil {
		t.Fatal(err)
	}
	const n = 8
	cancelled := make([]order.Order, n)
	errs := testcloud.Parallel(n, func(i int) error {
		var err error
		cancelled[i], err = f.s.CancelOrder(ctx, "cust-c", o.ID, now.Add(time.Second), order.EventRef{ID: fmt.Sprint("ev-cancel-", i), CorrelationID: "corr"})
		return err
	})
	won := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if won >= 0 {
				t.Fatalf("cancels %d and %d both took effect", won, i)
			}
			won = i
		case errors.Is(err, order.ErrNotCancellable):
		default:
			t.Fatalf("cancel %d: %v", i, err)
		}
	}
	if won < 0 {
		t.Fatal("no cancel took effect")
	}
	want := o
	want.Status, want.UpdatedAt, want.Version = order.Cancelled, now.Add(time.Second), 2
	if !reflect.DeepEqual(cancelled[won], want) {
		t.Errorf("CancelOrder returned %+v, want %+v", cancelled[won], want)
	}
	if got, _ := f.s.Order(ctx, "cust-c", o.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("after cancel: %+v, want %+v", got, want)
	}

	// The stream: the order placed, then cancelled by the winner, and
	// nothing else, as the relay will publish them.
	batch := testcloud.StreamBatch(t, f.cfg, f.table, 3) // order, quota count, cancel
	var announced []string
	for _, rec := range batch.Records {
		r, ok, err := orderitem.FromStream(rec)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			announced = append(announced, r.EventType+" "+r.EventID)
		}
	}
	if w := []string{events.OrderCreated + " ev-c0", fmt.Sprint(events.OrderCancelled, " ev-cancel-", won)}; !slices.Equal(announced, w) {
		t.Fatalf("stream announces %q, want %q", announced, w)
	}
}

// TestCancelOnlyWhileCancellable: an order is cancelled from a status that
// allows it; from any other, and for an order the customer does not have,
// nothing is written.
func TestCancelOnlyWhileCancellable(t *testing.T) {
	for i, tc := range []struct {
		status  order.Status // what fulfilment set before the cancel
		wantErr error
	}{
		{order.Pending, nil},
		{order.Confirmed, nil},
		{order.Shipped, order.ErrNotCancellable},
		{order.Cancelled, order.ErrNotCancellable},
	} {
		t.Run(string(tc.status), func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Millisecond)
			o := newOrder("cust-d", 10+i, now)
			if err := f.create(ctx, o, ref("ev-d0"), nil, generous); err != nil {
				t.Fatal(err)
			}
			f.setStatus(t, o, tc.status)
			before := f.stored(t, "cust-d", o.ID)
			got, err := f.s.CancelOrder(ctx, "cust-d", o.ID, now.Add(time.Second), order.EventRef{ID: "ev-d-cancel", CorrelationID: "corr-d"})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("CancelOrder = %v, want %v", err, tc.wantErr)
			}
			after := f.stored(t, "cust-d", o.ID)
			if tc.wantErr != nil {
				if !reflect.DeepEqual(after, before) {
					t.Errorf("a refused cancel wrote:\n%+v\nwas\n%+v", after, before)
				}
				return
			}
			if got.Status != order.Cancelled || got.Version != before.Version+1 || !got.UpdatedAt.Equal(now.Add(time.Second)) {
				t.Errorf("CancelOrder returned %+v", got)
			}
			if after.Status != string(order.Cancelled) || after.EventID != "ev-d-cancel" || after.EventType != events.OrderCancelled ||
				after.CorrelationID != "corr-d" || after.Version != before.Version+1 || !reflect.DeepEqual(after.Lines, before.Lines) {
				t.Errorf("stored after the cancel: %+v", after)
			}
		})
	}
	f := newFixture(t)
	o := newOrder("cust-f", 40, time.Now().UTC())
	if err := f.create(context.Background(), o, ref("ev-f0"), nil, generous); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ customer, id string }{
		"unknown order":          {"cust-f", orderID(41)},
		"another customer's one": {"cust-g", o.ID},
	} {
		_, err := f.s.CancelOrder(context.Background(), tc.customer, tc.id, time.Now(), order.EventRef{ID: "ev-f-cancel"})
		if !errors.Is(err, order.ErrNotFound) {
			t.Errorf("%s: CancelOrder = %v, want ErrNotFound", name, err)
		}
		if f.stored(t, tc.customer, tc.id) != nil {
			t.Errorf("%s: the cancel created an order item", name)
		}
	}
	if !f.announces(t, o, "ev-f0") {
		t.Error("another customer's cancel changed the order")
	}
}

// setStatus is fulfilment: it sets the stored order's status, as another
// writer would.
func (f fixture) setStatus(t *testing.T, o order.Order, status order.Status) {
	t.Helper()
	_, err := f.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: &f.table, Key: ddb.Key("CUSTOMER#"+o.Customer.ID, orderitem.SKPrefix+o.ID),
		UpdateExpression:          aws.String("SET #s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": orderitem.AttrStatus},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: string(status)}},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReplayOfAKeyCompletedByTheFirstVersion reads a key completed before
// keys held the order (they held the rendered response and the order id):
// the replay answers the order it names.
func TestReplayOfAKeyCompletedByTheFirstVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	o := newOrder("cust-v1", 30, now)
	if err := f.create(ctx, o, ref("ev-v1"), nil, generous); err != nil {
		t.Fatal(err)
	}
	_, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: map[string]types.AttributeValue{
		"PK":             &types.AttributeValueMemberS{Value: "CUSTOMER#cust-v1"},
		"SK":             &types.AttributeValueMemberS{Value: "IDEMPOTENCY#key-v1"},
		"status":         &types.AttributeValueMemberS{Value: "COMPLETED"},
		"requestHash":    &types.AttributeValueMemberS{Value: "h"},
		"owner":          &types.AttributeValueMemberS{Value: "first"},
		"expiresAt":      &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(time.Hour).Unix())},
		"responseStatus": &types.AttributeValueMemberN{Value: "201"},
		"responseBody":   &types.AttributeValueMemberS{Value: `{"id":"` + o.ID + `"}`},
		"orderId":        &types.AttributeValueMemberS{Value: o.ID},
	}})
	if err != nil {
		t.Fatal(err)
	}
	replay, err := f.s.KeyedOrder(ctx, claim("cust-v1", "key-v1", "h"), now)
	if err != nil || replay == nil || !reflect.DeepEqual(*replay, o) {
		t.Fatalf("replay = %+v, %v; want %+v", replay, err, o)
	}
	retry := newOrder("cust-v1", 31, now)
	replay, err = f.s.CreateOrder(ctx, retry, ref("ev-v1-retry"), &order.Claim{CustomerID: "cust-v1", Key: "key-v1", RequestHash: "h"}, generous, now)
	if err != nil || replay == nil || !reflect.DeepEqual(*replay, o) {
		t.Fatalf("CreateOrder replay = %+v, %v; want %+v", replay, err, o)
	}
}

func TestOrdersPaginateNewestFirstAcrossManyPages(t *testing.T) {
	for _, tc := range []struct {
		name            string
		total, pageSize int
	}{
		{"partial last page", 53, 7},
		{"full last page", 24, 6},
		{"one page", 3, 20},
		{"no orders", 0, 5},
	} {
		t.Run(tc.name, func(t *testing.T) { testPagination(t, tc.total, tc.pageSize) })
	}
}

func testPagination(t *testing.T, total, pageSize int) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range total {
		o := newOrder("cust-p", i, now)
		if err := f.create(ctx, o, ref(fmt.Sprint("ev-p-", i)), nil, generous); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 { // another customer's orders must never show up
		o := newOrder("cust-q", 1000+i, now)
		if err := f.create(ctx, o, ref(fmt.Sprint("ev-q-", i)), nil, generous); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	after, pages := "", 0
	for {
		list, next, err := f.s.Orders(ctx, "cust-p", pageSize, after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range list {
			if o.Customer.ID != "cust-p" {
				t.Fatalf("page has another customer's order %s", o.ID)
			}
			ids = append(ids, o.ID)
		}
		if next == "" {
			break
		}
		after = next
		if pages > total {
			t.Fatal("pagination does not end")
		}
	}
	wantPages := max(1, (total+pageSize-1)/pageSize)
	if len(ids) != total || pages != wantPages {
		t.Fatalf("%d orders in %d pages, want %d in %d", len(ids), pages, total, wantPages)
	}
	for i, id := range ids {
		if want := orderID(total - 1 - i); id != want {
			t.Fatalf("position %d: %s, want %s (newest first)", i, id, want)
		}
	}
}

// TestCreateOrderSurvivesItsOwnRetry repeats a keyed transaction with the
// same client request token, which is what the SDK does when the answer to
// a successful TransactWriteItems is lost: DynamoDB reports success again
// and stores nothing more.
func TestCreateOrderSurvivesItsOwnRetry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var items []types.TransactWriteItem
	// Tokens are the account's for ten minutes: this one is this run's.
	token := fmt.Sprintf("lost-answer-%d", now.UnixNano())
	db := dynamodb.NewFromConfig(f.cfg, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("replay", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
					tx.ClientRequestToken = aws.String(token)
					items = tx.TransactItems
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
		})
	})
	s := store.New(db, f.table)
	c := claim("cust-retry", "key-r", "h")
	o := newOrder("cust-retry", 1, now)
	for attempt := range 2 {
		if replay, err := s.CreateOrder(ctx, o, ref("ev-r"), &c, generous, now); err != nil || replay != nil {
			t.Fatalf("attempt %d: %+v, %v", attempt, replay, err)
		}
	}
	if len(items) != 3 {
		t.Fatalf("%d transaction items, want the order (which carries its event), the quota and the key", len(items))
	}
	if list, _, err := f.s.Orders(ctx, "cust-retry", 10, ""); err != nil || len(list) != 1 {
		t.Fatalf("%d orders (%v), want 1", len(list), err)
	}
}

// lostAnswer is a retryable error: the SDK tries the call again.
type lostAnswer struct{}

func (lostAnswer) Error() string        { return "the answer was lost" }
func (lostAnswer) RetryableError() bool { return true }

// TestCancelSurvivesItsOwnRetry loses the answer to a cancel that took
// effect, so the SDK sends the same UpdateItem again, as it does after a
// timeout: the retry finds the order cancelled with its own event and
// answers the cancelled order, not 409; the version moved once. Another
// cancel of the order is still refused.
func TestCancelSurvivesItsOwnRetry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	o := newOrder("cust-lost", 1, now)
	if err := f.create(ctx, o, ref("ev-lost-0"), nil, generous); err != nil {
		t.Fatal(err)
	}
	updates := 0
	db := dynamodb.NewFromConfig(f.cfg, func(opts *dynamodb.Options) {
		opts.APIOptions = append(opts.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("lose-first-answer", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				if _, ok := out.Result.(*dynamodb.UpdateItemOutput); ok || errors.As(err, new(*types.ConditionalCheckFailedException)) {
					updates++
					if updates == 1 && err == nil {
						return out, md, lostAnswer{}
					}
				}
				return out, md, err
			}), middleware.Before) // outside the deserializer: it sees the answer
		})
	})
	s := store.New(db, f.table)
	got, err := s.CancelOrder(ctx, "cust-lost", o.ID, now.Add(time.Second), order.EventRef{ID: "ev-lost-cancel", CorrelationID: "corr"})
	if err != nil || updates != 2 {
		t.Fatalf("CancelOrder after a lost answer = %v after %d UpdateItem calls; want the order after 2", err, updates)
	}
	if got.Status != order.Cancelled || got.Version != 2 {
		t.Errorf("CancelOrder returned %+v, want the order cancelled once", got)
	}
	if it := f.stored(t, "cust-lost", o.ID); it.Version != 2 || it.EventID != "ev-lost-cancel" {
		t.Errorf("stored %+v, want version 2 with the cancel's event", it)
	}
	if _, err := f.s.CancelOrder(ctx, "cust-lost", o.ID, now.Add(2*time.Second), order.EventRef{ID: "ev-lost-again", CorrelationID: "corr"}); !errors.Is(err, order.ErrNotCancellable) {
		t.Errorf("another cancel = %v, want ErrNotCancellable", err)
	}
}
