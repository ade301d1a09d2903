package ddb_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/ddb"
)

func TestConditionFailureSeesThroughWrapping(t *testing.T) {
	item := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "X"}}
	err := fmt.Errorf("put: %w", &types.ConditionalCheckFailedException{Item: item})
	ccf, ok := ddb.ConditionFailure(err)
	if !ok || ccf.Item["PK"].(*types.AttributeValueMemberS).Value != "X" {
		t.Fatalf("ConditionFailure = %v, %v", ccf, ok)
	}
	if _, ok := ddb.ConditionFailure(errors.New("throttled")); ok {
		t.Fatal("another error taken for a failed condition")
	}
	if _, ok := ddb.ConditionFailure(nil); ok {
		t.Fatal("nil taken for a failed condition")
	}
}

func TestCancellationReasons(t *testing.T) {
	reasons := []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")}}
	err := fmt.Errorf("transact: %w", &types.TransactionCanceledException{CancellationReasons: reasons})
	got, ok := ddb.CancellationReasons(err)
	if !ok || len(got) != 2 {
		t.Fatalf("CancellationReasons = %v, %v", got, ok)
	}
	for i, want := range []bool{false, true, false, false} { // 2 and 3 are out of range
		if ddb.ConditionFailedAt(got, i) != want {
			t.Errorf("ConditionFailedAt(%d) = %v, want %v", i, !want, want)
		}
	}
	if _, ok := ddb.CancellationReasons(errors.New("x")); ok {
		t.Fatal("another error taken for a cancellation")
	}
}

func TestKeyAndUnix(t *testing.T) {
	k := ddb.Key("USER#1", "PROFILE")
	if k["PK"].(*types.AttributeValueMemberS).Value != "USER#1" || k["SK"].(*types.AttributeValueMemberS).Value != "PROFILE" || len(k) != 2 {
		t.Fatalf("Key = %v", k)
	}
	if got := ddb.Unix(time.Unix(1700000000, 999)).Value; got != "1700000000" {
		t.Fatalf("Unix = %s", got)
	}
}
