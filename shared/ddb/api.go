package ddb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// The DynamoDB calls the stores make, one interface each, so that a store's
// client interface embeds exactly the calls it uses (and a test double
// implements no more).
type (
	// GetItemAPI reads one item.
	GetItemAPI interface {
		GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	}
	// BatchGetItemAPI reads several items.
	BatchGetItemAPI interface {
		BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	}
	// BatchWriteItemAPI writes several items.
	BatchWriteItemAPI interface {
		BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	}
	// QueryAPI reads the items of a partition.
	QueryAPI interface {
		Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	}
	// PutItemAPI writes one item.
	PutItemAPI interface {
		PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	}
	// UpdateItemAPI changes one item.
	UpdateItemAPI interface {
		UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	}
	// TransactWriteItemsAPI writes several items at once, or none.
	TransactWriteItemsAPI interface {
		TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	}
)
