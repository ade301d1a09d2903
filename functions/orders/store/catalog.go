package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
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
func (s *Store) Products(ctx context.Context) ([]order.Product, error) {
	var out []order.Product
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
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

// PutProducts writes products to the catalog, replacing any of the same SKU.
func (s *Store) PutProducts(ctx context.Context, products []order.Product) error {
	for start := 0; start < len(products); start += 25 {
		batch := products[start:min(start+25, len(products))]
		writes := make([]types.WriteRequest, len(batch))
		for i, p := range batch {
			item, err := attributevalue.MarshalMap(productRecord{
				PK: pkCatalog, SK: "PRODUCT#" + p.SKU, SKU: p.SKU, Name: p.Name, Description: p.Description,
				UnitPrice: p.UnitPrice, Currency: p.Currency, Active: p.Active, UpdatedAt: p.UpdatedAt.UTC(),
			})
			if err != nil {
				return wrap("put products", err)
			}
			writes[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
		}
		request := map[string][]types.WriteRequest{s.table: writes}
		for attempt := 0; len(request) > 0; attempt++ {
			if attempt > 0 { // unprocessed items go again after 50 ms, 100 ms, ...
				select {
				case <-ctx.Done():
					return wrap("put products", ctx.Err())
				case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
				}
			}
			if attempt == maxBatchAttempts {
				return wrap("put products", fmt.Errorf("items still unprocessed after %d attempts", attempt))
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: request})
			if err != nil {
				return wrap("put products", err)
			}
			request = out.UnprocessedItems
		}
	}
	return nil
}

const maxBatchAttempts = 6
