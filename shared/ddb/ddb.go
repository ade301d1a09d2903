// Package ddb holds the few DynamoDB helpers every service's store needs:
// building keys and reading why a conditional write or a transaction
// failed. Each service still owns its own table and item types.
package ddb

import (
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
