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

// Store is the users table, and the revocations table it writes to.
type Store struct {
	db          *dynamodb.Client
	table       string
	revocations string
}

// New returns a store on the users table table that writes revocations of
// access tokens into the table revocations.
func New(db *dynamodb.Client, table, revocations string) *Store {
	return &Store{db: db, table: table, revocations: revocations}
}

// key is the primary key of an item; records embed it.
type key struct {
	PK string `dynamodbav:"PK"`
	SK string `dynamodbav:"SK"`
}

func (k key) av() item { return ddb.Key(k.PK, k.SK) }

// item is an item of the table as DynamoDB holds it.
type item = map[string]types.AttributeValue

func userKey(id string) key            { return key{"USER#" + id, "PROFILE"} }
func emailKey(email string) key        { return key{"EMAIL#" + email, "EMAIL"} }
func loginKey(email string) key        { return key{"LOGIN#" + email, "ATTEMPTS"} }
func familyKey(userID, fid string) key { return key{"USER#" + userID, "FAMILY#" + fid} }
func linkKey(userID string, p account.Purpose) key {
	return key{"USER#" + userID, "LINK#" + p.String()}
}
func deviceKey(hash string) key    { return key{"DEVICE#" + hash, "DEVICE"} }
func sourceKey(address string) key { return key{"SOURCE#" + address, "FAILURES"} }

// wrap is err of op, nil for none.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("users store: %s: %w", op, err)
}

// tx collects the items of one write on the users table, keeping the first
// error met while building them, so that a write reads as its list of
// items. The conditions given to an item must all hold; what the write
// answers when one does not is the item's (fails).
type tx struct {
	s       *Store
	items   []types.TransactWriteItem
	answers map[int]func(old item) error
	err     error
}

func (s *Store) tx() *tx { return &tx{s: s, answers: map[int]func(item) error{}} }

// expr is the expression of upd (nil for none) under conds, which must all
// hold; the zero expression for neither.
func (t *tx) expr(upd *expression.UpdateBuilder, conds []expression.ConditionBuilder) expression.Expression {
	b := expression.NewBuilder()
	switch {
	case len(conds) > 1:
		b = b.WithCondition(expression.And(conds[0], conds[1], conds[2:]...))
	case len(conds) == 1:
		b = b.WithCondition(conds[0])
	case upd == nil:
		return expression.Expression{}
	}
	if upd != nil {
		b = b.WithUpdate(*upd)
	}
	e, err := b.Build()
	t.err = errors.Join(t.err, err)
	return e
}

// put adds the write of record, a struct that embeds its key.
func (t *tx) put(record any, conds ...expression.ConditionBuilder) *tx {
	av, err := attributevalue.MarshalMap(record)
	t.err = errors.Join(t.err, err)
	e := t.expr(nil, conds)
	return t.add(types.TransactWriteItem{Put: &types.Put{TableName: &t.s.table, Item: av,
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}})
}

// update adds upd of the item at k.
func (t *tx) update(k key, upd expression.UpdateBuilder, conds ...expression.ConditionBuilder) *tx {
	return t.add(types.TransactWriteItem{Update: ddb.Update(t.s.table, k.av(), t.expr(&upd, conds))})
}

// delete adds the deletion of the item at k.
func (t *tx) delete(k key, conds ...expression.ConditionBuilder) *tx {
	e := t.expr(nil, conds)
	return t.add(types.TransactWriteItem{Delete: &types.Delete{TableName: &t.s.table, Key: k.av(),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}})
}

// check adds a condition on the item at k, which is not written.
func (t *tx) check(k key, conds ...expression.ConditionBuilder) *tx {
	e := t.expr(nil, conds)
	return t.add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &t.s.table, Key: k.av(),
		ConditionExpression: e.Condition(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}})
}

func (t *tx) add(items ...types.TransactWriteItem) *tx {
	t.items = append(t.items, items...)
	return t
}

// fails makes f, given the last item as it was (nil when missing), the
// write's answer when that item's condition fails; nil is success (the
// SDK retried a write whose answer was lost). The first failed item with
// an answer answers; without one, the write's error is the store's.
func (t *tx) fails(f func(old item) error) *tx {
	i := len(t.items) - 1
	t.answers[i] = f
	if put := t.items[i].Put; put != nil {
		put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	} else if upd := t.items[i].Update; upd != nil {
		upd.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	}
	return t
}

// failsWith makes err the write's answer when the last item's condition
// fails.
func (t *tx) failsWith(err error) *tx {
	t.answers[len(t.items)-1] = func(item) error { return err }
	return t
}

// run writes the items in one transaction, an operation op.
func (t *tx) run(ctx context.Context, op string) error {
	if t.err != nil {
		return wrap(op, t.err)
	}
	_, err := t.s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: t.items})
	reasons, _ := ddb.CancellationReasons(err)
	return t.answer(op, err, reasons)
}

// alone writes the only item, an update, on its own (UpdateItem: half the
// cost of a transaction), decoding the item as it is then into into (nil
// for none).
func (t *tx) alone(ctx context.Context, op string, into any) error {
	if t.err != nil {
		return wrap(op, t.err)
	}
	u := t.items[0].Update
	in := &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ConditionExpression: u.ConditionExpression, ExpressionAttributeNames: u.ExpressionAttributeNames,
		ExpressionAttributeValues:           u.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure,
	}
	if into != nil {
		in.ReturnValues = types.ReturnValueAllNew
	}
	out, err := t.s.db.UpdateItem(ctx, in)
	if ccf, ok := ddb.ConditionFailure(err); ok {
		return t.answer(op, err, []types.CancellationReason{{Code: aws.String("ConditionalCheckFailed"), Item: ccf.Item}})
	}
	if err == nil && into != nil {
		err = attributevalue.UnmarshalMap(out.Attributes, into)
	}
	return wrap(op, err)
}

// answer is what the write op that failed with err says: the answer of
// its first item that failed its condition and has one, else err.
func (t *tx) answer(op string, err error, reasons []types.CancellationReason) error {
	for i, r := range reasons {
		if f := t.answers[i]; f != nil && ddb.ConditionFailedAt(reasons, i) {
			return f(r.Item)
		}
	}
	return wrap(op, err)
}

// decode is the item av as an R; ok is false for no item or another.
func decode[R any](av item) (r R, ok bool) {
	return r, len(av) > 0 && attributevalue.UnmarshalMap(av, &r) == nil
}

// batchGet reads the items at the keys of records in one consistent
// BatchGetItem and decodes each into its record (a pointer), which a
// missing item leaves as it is; found is how many items there were.
func (s *Store) batchGet(ctx context.Context, records map[key]any) (found int, err error) {
	keys := make([]item, 0, len(records))
	for k := range records {
		keys = append(keys, k.av())
	}
	out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
		RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}},
	})
	if err != nil {
		return 0, err
	}
	if n := len(out.UnprocessedKeys[s.table].Keys); n > 0 {
		return 0, fmt.Errorf("%d keys unprocessed", n)
	}
	for _, av := range out.Responses[s.table] {
		var k key
		err = errors.Join(err, attributevalue.UnmarshalMap(av, &k), attributevalue.UnmarshalMap(av, records[k]))
	}
	return len(out.Responses[s.table]), err
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
