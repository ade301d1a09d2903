// Package ddb holds the few DynamoDB helpers every service's store needs:
// building keys and reading why a conditional write or a transaction
// failed. Each service still owns its own table and item types.
package ddb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key is the primary key of an item in a table keyed on PK and SK.
func Key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk},
		"SK": &types.AttributeValueMemberS{Value: sk},
	}
}

// ConditionFailure returns the failed condition of a single-item write.
// Its Item is the item as it was, when the write asked for
// ReturnValuesOnConditionCheckFailure ALL_OLD.
func ConditionFailure(err error) (*types.ConditionalCheckFailedException, bool) {
	var ccf *types.ConditionalCheckFailedException
	return ccf, errors.As(err, &ccf)
}

// CancellationReasons returns the per-item reasons of a cancelled
// transaction, in the order of its items.
func CancellationReasons(err error) ([]types.CancellationReason, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	return tce.CancellationReasons, true
}

// ConditionFailedAt reports whether item i of a cancelled transaction
// failed its condition.
func ConditionFailedAt(reasons []types.CancellationReason, i int) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed"
}

// Unix is a number attribute holding t in seconds since the epoch, the
// form TTL attributes take.
func Unix(t time.Time) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// GetItemAPI is the DynamoDB call Get makes.
type GetItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Get reads one item into a record of type R; found is false when there is
// no such item.
func Get[R any](ctx context.Context, db GetItemAPI, in *dynamodb.GetItemInput) (r R, found bool, err error) {
	out, err := db.GetItem(ctx, in)
	if err != nil || out.Item == nil {
		return r, false, err
	}
	if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
		return r, false, fmt.Errorf("decode %T: %w", r, err)
	}
	return r, true, nil
}

// Update is the transaction item that applies expr, an update with its
// condition, to the item at key of table.
func Update(table string, key map[string]types.AttributeValue, expr expression.Expression) *types.Update {
	return &types.Update{
		TableName: aws.String(table), Key: key,
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}
}
