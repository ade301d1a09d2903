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
)

// TestDynamoDB runs the conformance tests against the store on DynamoDB,
// a table of its own for each test.
func TestDynamoDB(t *testing.T) {
	testConformance(t, func(t *testing.T) subject { return newFixture(t).subject() })
}

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

// subject is the fixture's store under the conformance tests: the event an
// order announces is the one its stored item carries, which the stream
// hands to the relay.
func (f fixture) subject() subject {
	return subject{s: f.s, setStatus: f.setStatus, announced: func(t *testing.T, o order.Order) events.OrderEvent {
		if it := f.stored(t, o.Customer.ID, o.ID); it != nil {
			return it.Event()
		}
		return events.OrderEvent{}
	}}
}

// stored reads the customer's order item as stored, nil when there is none.
func (f fixture) stored(t *testing.T, customerID, id string) *store.Item {
	t.Helper()
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: &f.table, Key: ddb.Key("CUSTOMER#"+customerID, store.SKPrefix+id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	var it store.Item
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		t.Fatal(err)
	}
	return &it
}

// TestKeyClaimedByAnEarlierVersion: the previous version claimed a key
// (IN_PROGRESS with a lease) before its transaction. While the lease runs
// the key is busy and this version stores nothing; after it lapses, the
// key is taken over.
func TestKeyClaimedByAnEarlierVersion(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := now()
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

// TestCancelRaceWritesOneEvent: of eight cancels of one order at once,
// each with its own event, one takes effect (testCancelRace), and the
// stream carries exactly the order's two writes, placed and cancelled.
func TestCancelRaceWritesOneEvent(t *testing.T) {
	f := newFixtureOn(t, testcloud.TableSpec{SortKey: true, Stream: true})
	now := now()
	o := newOrder("cust-c", 3, now)
	f.subject().create(t, o, "ev-c0")
	won := -1
	for i, err := range parallel(8, func(i int) error {
		_, err := f.s.CancelOrder(context.Background(), "cust-c", o.ID, now.Add(time.Second), ref(fmt.Sprint("ev-cancel-", i)))
		return err
	}) {
		if err == nil {
			won = i
		}
	}

	// The stream: the order placed, then cancelled by the winner, and
	// nothing else, as the relay will publish them.
	batch := testcloud.StreamBatch(t, f.cfg, f.table, 3) // order, quota count, cancel
	var announced []string
	for _, rec := range batch.Records {
		r, ok, err := store.FromStream(rec)
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
	if v := f.stored(t, o.Customer.ID, o.ID).Version; v != 2 {
		t.Errorf("stored version %d, want 2: the released version's cancel adds to it", v)
	}
}

// setStatus is fulfilment: it sets the stored order's status, as another
// writer would.
func (f fixture) setStatus(t *testing.T, o order.Order, status order.Status) {
	t.Helper()
	_, err := f.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: &f.table, Key: ddb.Key("CUSTOMER#"+o.Customer.ID, store.SKPrefix+o.ID),
		UpdateExpression:          aws.String("SET #s = :s"),
		ExpressionAttributeNames:  map[string]string{"#s": store.AttrStatus},
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
	now := now()
	o := newOrder("cust-v1", 30, now)
	f.subject().create(t, o, "ev-v1")
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

// TestCreateOrderSurvivesItsOwnRetry repeats a keyed transaction with the
// same client request token, which is what the SDK does when the answer to
// a successful TransactWriteItems is lost: DynamoDB reports success again
// and stores nothing more.
func TestCreateOrderSurvivesItsOwnRetry(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := now()
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
