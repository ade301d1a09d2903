//go:build integration

package store_test

import (
	"context"
	"fmt"
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

// newFixture is a fixture on a table of its own, with a stream as
// deployed.
func newFixture(t *testing.T) fixture {
	t.Helper()
	cfg := testcloud.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true, Stream: true, Indexes: store.Indexes()})
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
	f.subject().stock(t, "SKU-1", 10)
	c := claim("cust-retry", "key-r", "h")
	o := newOrder("cust-retry", 1, now)
	for attempt := range 2 {
		if replay, err := s.CreateOrder(ctx, o, ref("ev-r"), &c, generous, now); err != nil || replay != nil {
			t.Fatalf("attempt %d: %+v, %v", attempt, replay, err)
		}
	}
	if len(items) != 5 {
		t.Fatalf("%d transaction items, want the order (which carries its event), the quota, the key, the owner item and the line's stock", len(items))
	}
	if left := f.subject().units(t, "SKU-1"); left != 8 {
		t.Fatalf("stock %d after the order and its retry, want 8 (2 taken once)", left)
	}
	if list, _, err := f.s.Orders(ctx, "cust-retry", 10, ""); err != nil || len(list) != 1 {
		t.Fatalf("%d orders (%v), want 1", len(list), err)
	}
}

// TestSeedNeverOverwrites: the seed adds what the catalog lacks, with its
// stock, and leaves a product staff changed, and its stock, as they are.
func TestSeedNeverOverwrites(t *testing.T) {
	for _, shards := range []int{1, testShards} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) {
			f := newFixture(t)
			s, ctx := f.s.WithStockShards(shards), context.Background()
			seed := []order.Product{
				{SKU: "SEED-1", Name: "One", UnitPrice: 100, Currency: "USD", Active: true},
				{SKU: "SEED-2", Name: "Two", UnitPrice: 200, Currency: "USD", Active: true},
			}
			if err := s.SeedProducts(ctx, seed[:1], 50); err != nil {
				t.Fatal(err)
			}
			price := int64(150)
			if _, err := s.UpdateProduct(ctx, "SEED-1", order.ProductChange{UnitPrice: &price}, seed[0].UpdatedAt); err != nil {
				t.Fatal(err)
			}
			// Staff's stock, as one shard holds it (set before the shards).
			if _, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "STOCK#SEED-1"}, "SK": &types.AttributeValueMemberS{Value: "STOCK"},
				"sku": &types.AttributeValueMemberS{Value: "SEED-1"}, "units": &types.AttributeValueMemberN{Value: "7"}}}); err != nil {
				t.Fatal(err)
			}
			for n := 1; n < shards; n++ {
				if _, err := f.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &f.table, Key: ddb.Key(fmt.Sprintf("STOCK#SEED-1#%d", n), "STOCK")}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.SeedProducts(ctx, seed, 50); err != nil { // the next deploy
				t.Fatal(err)
			}
			all, err := s.StaffProducts(ctx)
			if err != nil || len(all) != 2 || all[0].UnitPrice != 150 || all[0].Stock != 7 || all[1].UnitPrice != 200 || all[1].Stock != 50 {
				t.Fatalf("after the second seed: %+v, %v", all, err)
			}
			// The seed's stock is spread as orders take it: 50 over 4
			// shards is 13, 13, 12, 12.
			key, want := ddb.Key("STOCK#SEED-2", "STOCK"), "50"
			if shards > 1 {
				key, want = ddb.Key(fmt.Sprintf("STOCK#SEED-2#%d", shards-1), "STOCK"), "12"
			}
			out, err := f.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &f.table, Key: key, ConsistentRead: aws.Bool(true)})
			if err != nil || out.Item["units"] == nil || out.Item["units"].(*types.AttributeValueMemberN).Value != want {
				t.Fatalf("SEED-2's last shard: %v, %v; want %s units", out, err, want)
			}
		})
	}
}

// TestCancelOfAnOrderFromBeforeStock: an order placed before stock existed
// (its item has no stockTaken) took no units, and its cancel gives none
// back; an order placed since gives its units back.
func TestCancelOfAnOrderFromBeforeStock(t *testing.T) {
	f := newFixture(t)
	ctx, at := context.Background(), time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := f.s.SeedProducts(ctx, []order.Product{{SKU: "OLD-1", Name: "Old", UnitPrice: 100, Currency: "USD", Active: true}}, 5); err != nil {
		t.Fatal(err)
	}
	legacy := store.Item{
		PK: "CUSTOMER#c-1", SK: store.SKPrefix + "o-legacy", ID: "o-legacy", CustomerID: "c-1", CustomerEmail: "c1@example.com", CustomerName: "C",
		Status: "PENDING", Lines: []order.Line{{SKU: "OLD-1", Name: "Old", Quantity: 3, UnitPrice: 100, LineTotal: 300}}, Total: 300, Currency: "USD",
		CreatedAt: at, UpdatedAt: at, Version: 1, EventID: "ev-legacy", EventType: events.OrderCreated,
	}
	item, err := attributevalue.MarshalMap(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &f.table, Item: item}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.CancelOrder(ctx, "c-1", "o-legacy", at.Add(time.Minute), order.EventRef{ID: "ev-cancel", CorrelationID: "corr"}); err != nil {
		t.Fatal(err)
	}
	if stock, err := f.s.Stock(ctx, "OLD-1"); err != nil || stock["OLD-1"] != 5 {
		t.Fatalf("after the cancel of an order from before stock: %v, %v; want 5 units, as before", stock, err)
	}
	if it := f.stored(t, "c-1", "o-legacy"); it == nil || it.Status != "CANCELLED" || it.StockTaken {
		t.Fatalf("the legacy order after its cancel: %+v", it)
	}
}
