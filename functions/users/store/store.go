// Package store keeps the users service's data in its DynamoDB table, one
// table for every item type (single-table design):
//
//	PK               SK               item
//	USER#<id>        PROFILE          the user, password hash, session epoch
//	EMAIL#<email>    EMAIL            uniqueness claim on a normalised email
//	USER#<id>        FAMILY#<fid>     a refresh token family (a session)
//	LOGIN#<email>    ATTEMPTS         failed logins in the current window
//
// Items that should vanish carry expiresAt, the table's TTL attribute.
// DynamoDB deletes expired items lazily, so reads check expiry themselves.
package store

import (
	"fmt"

	"github.com/serverless-shop/backend/shared/ddb"
)

// Client is the part of the DynamoDB API the store uses.
type Client interface {
	ddb.GetItemAPI
	ddb.BatchGetItemAPI
	ddb.PutItemAPI
	ddb.UpdateItemAPI
	ddb.DeleteItemAPI
	ddb.TransactWriteItemsAPI
}

// Store is the users table.
type Store struct {
	db    Client
	table string
}

// New returns a store on the named table.
func New(db Client, table string) *Store { return &Store{db: db, table: table} }

const (
	skProfile  = "PROFILE"
	skEmail    = "EMAIL"
	skAttempts = "ATTEMPTS"
)

func userPK(id string) string     { return "USER#" + id }
func emailPK(email string) string { return "EMAIL#" + email }
func loginPK(email string) string { return "LOGIN#" + email }
func familySK(fid string) string  { return "FAMILY#" + fid }

func wrap(op string, err error) error {
	return fmt.Errorf("users store: %s: %w", op, err)
}
