// Package store keeps the reviews in the reviews table.
package store

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// QueryAPI is the DynamoDB call the store makes.
type QueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Store reads the reviews table.
type Store struct {
	db    QueryAPI
	table string
}

// New returns the store of table.
func New(db QueryAPI, table string) *Store { return &Store{db: db, table: table} }

// Count counts the reviews of a customer.
func (s *Store) Count(ctx context.Context, customer string) (int, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "CUSTOMER#" + customer}},
		Select:                    types.SelectCount,
	})
	if err != nil {
		return 0, fmt.Errorf("count reviews of %s: %w", customer, err)
	}
	return int(out.Count), nil
}
