//go:build integration

package testcloud

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/shared/ddb"
)

// StockShards reads the shards of a SKU's stock from an orders table as
// stored: STOCK#<sku>, then STOCK#<sku>#<n>, a missing one holding 0. It
// does not end the test, so a goroutine may call it.
func StockShards(db *dynamodb.Client, table, sku string, shards int) ([]int64, error) {
	units := make([]int64, shards)
	for n := range units {
		pk := "STOCK#" + sku
		if n > 0 {
			pk += fmt.Sprint("#", n)
		}
		out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: ddb.Key(pk, "STOCK"), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return nil, err
		}
		var r struct {
			Units int64 `dynamodbav:"units"`
		}
		if err := attributevalue.UnmarshalMap(out.Item, &r); err != nil {
			return nil, err
		}
		units[n] = r.Units
	}
	return units, nil
}
