// Package store keeps the orders service's data in its DynamoDB table
// (single-table design):
//
//	PK                  SK                    item
//	CATALOG             PRODUCT#<sku>         a product of the catalog (archived ones too: never deleted)
//	STOCK#<sku>         STOCK                 the product's stock, units (none: 0), apart from the catalog's one partition: shard 0
//	STOCK#<sku>#<n>     STOCK                 shard n ≥ 1 of the stock when it is split (stockplan.go); the stock is their sum
//	CUSTOMER#<userId>   ORDER#<orderId>       an order and the event of its last change (orderitem.go); ids sort by time
//	ORDER#<orderId>     OWNER                 whose the order is, its lines and stockTaken: staff's way to it by id (transitions.go)
//	CUSTOMER#<userId>   IDEMPOTENCY#<key>     an Idempotency-Key and the order it placed
//	CUSTOMER#<userId>   QUOTA#<window>        the customer's orders in one quota window
//
// The index ByStatus (IndexByStatus, queues.go) is staff's queues: the
// orders of each status, oldest first.
//
// Every write of an order item announces an event, and the item carries it
// (transactional outbox without an outbox item): the table's stream hands
// the write to the orders relay (functions/orders/ordersrelay, FromStream),
// which puts the event on the queue.
//
// apptest.MemStore (functions/orders/app/apptest) keeps the same contract
// in memory; one conformance suite (conformance_test.go) runs against both.
package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/ddb"
)

// Client is the part of the DynamoDB API the store uses.
type Client interface {
	ddb.GetItemAPI
	// BatchGetItem reads stock.
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	// PutItem writes new products.
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	dynamodb.QueryAPIClient
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is the orders table.
type Store struct {
	db     Client
	table  string
	shards int // of every SKU's stock (stockplan.go)
}

// New returns a store on the named table, each SKU's stock in one item.
func New(db Client, table string) *Store { return &Store{db: db, table: table, shards: 1} }

// WithStockShards returns the store with every SKU's stock split over n
// items (1 to MaxStockShards; others are clamped): the STOCK_SHARDS of the
// function (ADR 9). n may grow between deploys, never shrink: units on a
// shard beyond n would no longer be counted.
func (s *Store) WithStockShards(n int) *Store {
	c := *s
	c.shards = min(max(n, 1), MaxStockShards)
	return &c
}

const pkCatalog = "CATALOG"

func customerPK(id string) string     { return "CUSTOMER#" + id }
func orderSK(id string) string        { return SKPrefix + id }
func idempotencySK(key string) string { return "IDEMPOTENCY#" + key }

func wrap(op string, err error) error { return fmt.Errorf("orders store: %s: %w", op, err) }

// get reads the item at key, consistently, into an R, or answers notFound
// (nil: the zero R); op names the read in its errors.
func get[R any](ctx context.Context, s *Store, op string, key map[string]types.AttributeValue, notFound error) (R, error) {
	r, found, err := ddb.Get[R](ctx, s.db, &dynamodb.GetItemInput{TableName: &s.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return r, wrap(op, err)
	}
	if !found {
		return r, notFound
	}
	return r, nil
}
