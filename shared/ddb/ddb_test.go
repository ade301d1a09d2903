package ddb_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/ddb"
)

// TestFailures reads failed conditions and cancelled transactions
// through wrapping, and nothing else as either.
func TestFailures(t *testing.T) {
	item := map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "X"}}
	failed := fmt.Errorf("put: %w", &types.ConditionalCheckFailedException{Item: item})
	throttled := errors.New("throttled")
	if ccf, ok := ddb.ConditionFailure(failed); !ok || ccf.Item["PK"].(*types.AttributeValueMemberS).Value != "X" {
		t.Errorf("ConditionFailure = %v, %v", ccf, ok)
	}
	reasons := []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("ConditionalCheckFailed")}}
	got, ok := ddb.CancellationReasons(fmt.Errorf("transact: %w", &types.TransactionCanceledException{CancellationReasons: reasons}))
	if !ok || len(got) != 2 {
		t.Fatalf("CancellationReasons = %v, %v", got, ok)
	}
	for i, want := range []bool{false, true, false, false} { // 2 and 3 are out of range
		if ddb.ConditionFailedAt(got, i) != want {
			t.Errorf("ConditionFailedAt(%d) = %v, want %v", i, !want, want)
		}
	}
	for _, err := range []error{throttled, nil} {
		if _, ok := ddb.ConditionFailure(err); ok {
			t.Errorf("%v taken for a failed condition", err)
		}
		if _, ok := ddb.CancellationReasons(err); ok {
			t.Errorf("%v taken for a cancellation", err)
		}
	}
	if n := ddb.Unix(time.Unix(1700000000, 999)); n.Value != "1700000000" {
		t.Errorf("Unix = %s, want 1700000000", n.Value)
	}
	k := ddb.Key("USER#1", "PROFILE")
	if k["PK"].(*types.AttributeValueMemberS).Value != "USER#1" || k["SK"].(*types.AttributeValueMemberS).Value != "PROFILE" || len(k) != 2 {
		t.Errorf("Key = %v", k)
	}
}

// getItem answers GetItem with a fixed item or error.
type getItem struct {
	item map[string]types.AttributeValue
	err  error
}

func (g getItem) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{Item: g.item}, g.err
}

func TestGet(t *testing.T) {
	type record struct {
		Name string `dynamodbav:"name"`
	}
	ctx := context.Background()
	in := &dynamodb.GetItemInput{}

	r, found, err := ddb.Get[record](ctx, getItem{item: map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: "Ada"}}}, in)
	if err != nil || !found || r.Name != "Ada" {
		t.Fatalf("item: Get = %+v, %v, %v", r, found, err)
	}
	if _, found, err := ddb.Get[record](ctx, getItem{}, in); err != nil || found {
		t.Fatalf("no item: found %v, err %v", found, err)
	}
	failure := errors.New("throttled")
	if _, found, err := ddb.Get[record](ctx, getItem{err: failure}, in); !errors.Is(err, failure) || found {
		t.Fatalf("failure: found %v, err %v", found, err)
	}
	bad := map[string]types.AttributeValue{"name": &types.AttributeValueMemberL{}}
	if _, found, err := ddb.Get[record](ctx, getItem{item: bad}, in); err == nil || found {
		t.Fatalf("undecodable item: found %v, err %v", found, err)
	}
}

func TestUpdateCarriesTheWholeExpression(t *testing.T) {
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(expression.Name("n"), expression.Value(1))).
		WithCondition(expression.AttributeExists(expression.Name("PK"))).
		Build()
	if err != nil {
		t.Fatal(err)
	}
	u := ddb.Update("t", ddb.Key("A", "B"), expr)
	if aws.ToString(u.TableName) != "t" || len(u.Key) != 2 || aws.ToString(u.UpdateExpression) == "" ||
		aws.ToString(u.ConditionExpression) == "" || len(u.ExpressionAttributeNames) != 2 || len(u.ExpressionAttributeValues) != 1 {
		t.Fatalf("Update = %+v", u)
	}
}
