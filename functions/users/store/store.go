// Package store keeps the users service's data in its DynamoDB table, one
// table for every item type (single-table design):
//
//	PK               SK               item
//	USER#<id>        PROFILE          the user, password hash, session epoch
//	EMAIL#<email>    EMAIL            uniqueness claim on a normalised email
//	USER#<id>        FAMILY#<fid>     a refresh token family (a session)
//	LOGIN#<email>    ATTEMPTS         the account's login bucket (attempts, next allowed)
//	DEVICE#<hash>    DEVICE           a device token's account, session epoch and bucket
//	SOURCE#<addr>    FAILURES         failed logins from one client address
//	USER#<id>        LINK#<purpose>   the pending emailed link (verify-email, reset-password)
//	LIMIT#<key>      <window start>   requests counted against a limit in one window
//	OUTBOX#<event>   EVENT            an event waiting for the relay (outbox.go)
//
// Revocations of access tokens go to a table of their own, which every
// service that verifies tokens reads (shared/revocation).
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

// Store is the users table, and the revocations table it writes to.
type Store struct {
	db          Client
	table       string
	revocations string
}

// New returns a store on the users table table that writes revocations of
// access tokens into the table revocations.
func New(db Client, table, revocations string) *Store {
	return &Store{db: db, table: table, revocations: revocations}
}

const (
	skProfile  = "PROFILE"
	skEmail    = "EMAIL"
	skAttempts = "ATTEMPTS"
)

func userPK(id string) string     { return "USER#" + id }
func emailPK(email string) string { return "EMAIL#" + email }
func loginPK(email string) string { return "LOGIN#" + email }
func familySK(fid string) string  { return "FAMILY#" + fid }
func limitPK(key string) string   { return "LIMIT#" + key }

func wrap(op string, err error) error {
	return fmt.Errorf("users store: %s: %w", op, err)
}
