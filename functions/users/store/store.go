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
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/users/account"
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

// key is the primary key of an item; records embed it.
type key struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
}

func (k key) av() map[string]types.AttributeValue { return ddb.Key(k.PK, k.SK) }

func userKey(id string) key            { return key{"USER#" + id, "PROFILE"} }
func emailKey(email string) key        { return key{"EMAIL#" + email, "EMAIL"} }
func loginKey(email string) key        { return key{"LOGIN#" + email, "ATTEMPTS"} }
func familyKey(userID, fid string) key { return key{"USER#" + userID, "FAMILY#" + fid} }
func linkKey(userID string, p account.Purpose) key {
	return key{"USER#" + userID, "LINK#" + p.String()}
}
func deviceKey(hash string) key    { return key{"DEVICE#" + hash, "DEVICE"} }
func sourceKey(address string) key { return key{"SOURCE#" + address, "FAILURES"} }

func wrap(op string, err error) error {
	return fmt.Errorf("users store: %s: %w", op, err)
}

// tx collects the items of one write on the users table, keeping the first
// error met while building them, so that a write reads as its list of
// items. The conditions given to an item must all hold.
type tx struct {
	s     *Store
	items []types.TransactWriteItem
	err   error
}

func (s *Store) tx() *tx { return &tx{s: s} }

// build is the expression of upd (nil for none) under conds.
func (t *tx) build(upd *expression.UpdateBuilder, conds []expression.ConditionBuilder) expression.Expression {
	b := expression.NewBuilder()
	if upd != nil {
		b = b.WithUpdate(*upd)
	}
	switch len(conds) {
	case 0:
	case 1:
		b = b.WithCondition(conds[0])
	default:
		b = b.WithCondition(expression.And(conds[0], conds[1], conds[2:]...))
	}
	e, err := b.Build()
	t.err = errors.Join(t.err, err)
	return e
}

// put adds the write of record, a struct that embeds its key.
func (t *tx) put(record any, conds ...expression.ConditionBuilder) *tx {
	item, err := attributevalue.MarshalMap(record)
	t.err = errors.Join(t.err, err)
	p := &types.Put{TableName: &t.s.table, Item: item}
	p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = t.condition(conds)
	return t.add(types.TransactWriteItem{Put: p})
}

// update adds upd of the item at k.
func (t *tx) update(k key, upd expression.UpdateBuilder, conds ...expression.ConditionBuilder) *tx {
	return t.add(types.TransactWriteItem{Update: ddb.Update(t.s.table, k.av(), t.build(&upd, conds))})
}

// delete adds the deletion of the item at k.
func (t *tx) delete(k key, conds ...expression.ConditionBuilder) *tx {
	d := &types.Delete{TableName: &t.s.table, Key: k.av()}
	d.ConditionExpression, d.ExpressionAttributeNames, d.ExpressionAttributeValues = t.condition(conds)
	return t.add(types.TransactWriteItem{Delete: d})
}

// check adds a condition on the item at k, which is not written.
func (t *tx) check(k key, conds ...expression.ConditionBuilder) *tx {
	c := &types.ConditionCheck{TableName: &t.s.table, Key: k.av()}
	c.ConditionExpression, c.ExpressionAttributeNames, c.ExpressionAttributeValues = t.condition(conds)
	return t.add(types.TransactWriteItem{ConditionCheck: c})
}

// condition is the condition expression of conds, none without any.
func (t *tx) condition(conds []expression.ConditionBuilder) (*string, map[string]string, map[string]types.AttributeValue) {
	if len(conds) == 0 {
		return nil, nil, nil
	}
	e := t.build(nil, conds)
	return e.Condition(), e.Names(), e.Values()
}

func (t *tx) add(items ...types.TransactWriteItem) *tx {
	t.items = append(t.items, items...)
	return t
}

// old asks for the last item as it was when its condition fails.
func (t *tx) old() *tx {
	old := types.ReturnValuesOnConditionCheckFailureAllOld
	switch i := t.items[len(t.items)-1]; {
	case i.Put != nil:
		i.Put.ReturnValuesOnConditionCheckFailure = old
	case i.Update != nil:
		i.Update.ReturnValuesOnConditionCheckFailure = old
	}
	return t
}

// run writes the items in one transaction.
func (t *tx) run(ctx context.Context) error {
	if t.err != nil {
		return t.err
	}
	_, err := t.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
	return err
}

// updateItem writes the only item, an update, on its own, returning the
// item's attributes as rv asks.
func (t *tx) updateItem(ctx context.Context, rv types.ReturnValue) (*dynamodb.UpdateItemOutput, error) {
	if t.err != nil {
		return nil, t.err
	}
	u := t.items[0].Update
	return t.s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues, ReturnValues: rv,
		ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure,
	})
}

// failed reports whether item i (counted from the end when negative) of the
// transaction that returned err failed its condition, and the item as it
// was, when old asked for it.
func failed(err error, i int) (map[string]types.AttributeValue, bool) {
	reasons, ok := ddb.CancellationReasons(err)
	if i < 0 {
		i += len(reasons)
	}
	if !ok || i < 0 || !ddb.ConditionFailedAt(reasons, i) {
		return nil, false
	}
	return reasons[i].Item, true
}

// batchGet reads the items at keys in one consistent BatchGetItem.
func (s *Store) batchGet(ctx context.Context, keys ...key) ([]map[string]types.AttributeValue, error) {
	avs := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		avs[i] = k.av()
	}
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: avs, ConsistentRead: aws.Bool(true)}},
	})
	if err != nil {
		return nil, err
	}
	if n := len(out.UnprocessedKeys[s.table].Keys); n > 0 {
		return nil, fmt.Errorf("%d keys unprocessed", n)
	}
	return out.Responses[s.table], nil
}

// exists is the condition that the item exists.
func exists() expression.ConditionBuilder { return expression.AttributeExists(expression.Name("PK")) }

// absent is the condition that the item does not exist.
func absent() expression.ConditionBuilder {
	return expression.AttributeNotExists(expression.Name("PK"))
}

// is is the condition that attribute name holds v.
func is(name string, v any) expression.ConditionBuilder {
	return expression.Name(name).Equal(expression.Value(v))
}

// set is the update that sets the attributes named by pairs of name and
// value.
func set(pairs ...any) expression.UpdateBuilder {
	var u expression.UpdateBuilder
	for i := 0; i < len(pairs); i += 2 {
		u = u.Set(expression.Name(pairs[i].(string)), expression.Value(pairs[i+1]))
	}
	return u
}
