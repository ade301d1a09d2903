package ddb_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/ddb"
)

// TestFromStreamImage converts every attribute type a stream image can
// hold, nested too.
func TestFromStreamImage(t *testing.T) {
	const image = `{
		"s": {"S": "text"}, "n": {"N": "-12.5"}, "b": {"B": "AQI="}, "t": {"BOOL": true}, "null": {"NULL": true},
		"ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AQ=="]},
		"l": {"L": [{"S": "x"}, {"M": {"k": {"N": "1"}}}]},
		"m": {"M": {"inner": {"L": [{"BOOL": false}]}}}
	}`
	var img map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal([]byte(image), &img); err != nil {
		t.Fatal(err)
	}
	got := ddb.FromStreamImage(img)
	want := map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "text"},
		"n":    &types.AttributeValueMemberN{Value: "-12.5"},
		"b":    &types.AttributeValueMemberB{Value: []byte{1, 2}},
		"t":    &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}}},
		"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: "x"},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberN{Value: "1"}}},
		}},
		"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"inner": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: false}}},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromStreamImage =\n%#v\nwant\n%#v", got, want)
	}
	// What a store writes reads back from the stream as written.
	if back := ddb.FromStreamImage(testcloud.StreamImage(t, want)); !reflect.DeepEqual(back, want) {
		t.Errorf("FromStreamImage(StreamImage(item)) = %#v; want the item", back)
	}
}
