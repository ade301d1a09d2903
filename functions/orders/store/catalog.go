package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
)

type productRecord struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	SKU         string    `dynamodbav:"sku"`
	Name        string    `dynamodbav:"name"`
	Description string    `dynamodbav:"description"`
	UnitPrice   int64     `dynamodbav:"unitPrice"`
	Currency    string    `dynamodbav:"currency"`
	Active      bool      `dynamodbav:"active"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
}

func (r productRecord) product() order.Product {
	return order.Product{SKU: r.SKU, Name: r.Name, Description: r.Description, UnitPrice: r.UnitPrice,
		Currency: r.Currency, Active: r.Active, UpdatedAt: r.UpdatedAt.UTC()}
}

// Products returns the whole catalog, ordered by SKU, through a Query of
// the catalog partition (eventually consistent: the service keeps a copy
// for minutes anyway).
func (s *Store) Products(ctx context.Context) ([]order.Product, error) { return s.products(ctx, false) }

// products reads the catalog partition, consistently or not.
func (s *Store) products(ctx context.Context, consistent bool) ([]order.Product, error) {
	var out []order.Product
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		ConsistentRead:         aws.Bool(consistent),
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pkCatalog},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list products", err)
		}
		var records []productRecord
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &records); err != nil {
			return nil, wrap("list products", err)
		}
		for _, r := range records {
			out = append(out, r.product())
		}
	}
	return out, nil
}

// SeedProducts adds the products the catalog lacks, and gives each a stock
// of stock units, spread over its shards, unless it has a stock item: a
// first deploy's catalog, which later deploys never change, so that
// nothing staff changed is overwritten (conditional writes, one product at
// a time).
func (s *Store) SeedProducts(ctx context.Context, products []order.Product, stock int64) error {
	for _, p := range products {
		if err := s.CreateProduct(ctx, p); err != nil && !errors.Is(err, order.ErrProductExists) {
			return wrap("seed products", err)
		}
		// Every shard at once, each only if absent: one that exists (staff
		// set the stock, perhaps over fewer shards) keeps them all as they
		// are.
		writes := make([]types.TransactWriteItem, s.shards)
		for n, units := range spread(stock, s.shards) {
			item, _ := attributevalue.MarshalMap(stockRecord{PK: stockShardPK(p.SKU, n), SK: skStock, SKU: p.SKU, Units: units}) // strings and a number: it cannot fail
			writes[n] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		if reasons, ok := ddb.CancellationReasons(err); ok && slices.ContainsFunc(reasons, func(r types.CancellationReason) bool {
			return aws.ToString(r.Code) == "ConditionalCheckFailed"
		}) {
			continue // it has stock
		}
		if err != nil {
			return wrap("seed stock", err)
		}
	}
	return nil
}
