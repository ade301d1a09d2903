// Package store keeps the orders service's data in its DynamoDB table
// (single-table design):
//
//	PK                  SK                    item
//	CATALOG             PRODUCT#<sku>         a product of the catalog
//	CUSTOMER#<userId>   ORDER#<orderId>       an order; ids sort by time
//	CUSTOMER#<userId>   IDEMPOTENCY#<key>     an Idempotency-Key and the order it placed
//	OUTBOX#<eventId>    EVENT                 an event waiting for the relay (shared/outbox)
//
// An order and its event are written in one transaction (transactional
// outbox); the table's stream carries new outbox items to the relay, which
// puts them on the queue.
package store

import (
	"fmt"

	"github.com/serverless-shop/backend/shared/ddb"
)

// Client is the part of the DynamoDB API the store uses.
type Client interface {
	ddb.GetItemAPI
	ddb.BatchWriteItemAPI // the catalog seed's
	ddb.QueryAPI
	ddb.TransactWriteItemsAPI
}

// Store is the orders table.
type Store struct {
	db    Client
	table string
}

// New returns a store on the named table.
func New(db Client, table string) *Store { return &Store{db: db, table: table} }

const (
	pkCatalog   = "CATALOG"
	orderPrefix = "ORDER#"
)

func productSK(sku string) string     { return "PRODUCT#" + sku }
func customerPK(id string) string     { return "CUSTOMER#" + id }
func orderSK(id string) string        { return orderPrefix + id }
func idempotencySK(key string) string { return "IDEMPOTENCY#" + key }

func wrap(op string, err error) error { return fmt.Errorf("orders store: %s: %w", op, err) }
