package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/ddb"
)

// queuesDB is what enqueue needs of DynamoDB.
type queuesDB interface {
	dynamodb.ScanAPIClient
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// enqueue gives the orders of table written before staff's routes existed
// (order items without a queue) what staff need, and says how many: their
// owner item (staff's way to an order by its id), then their place on
// their status's queue. It scans the table once for them, then updates
// each on condition that it is still unqueued in the status read: an order
// that changed meanwhile joined its queue by that change. The update also
// removes the order's event, announced long ago, so that the stream record
// it makes is no event for the orders relay (store.FromStream): nobody is
// mailed again. Run once after upgrading; a second run finds nothing.
func enqueue(ctx context.Context, db queuesDB, table string) (int, error) {
	filter := expression.Name("SK").BeginsWith(store.SKPrefix).And(expression.AttributeNotExists(expression.Name(store.AttrQueue)))
	projection := expression.NamesList(expression.Name("PK"), expression.Name("SK"), expression.Name("id"),
		expression.Name(store.AttrStatus), expression.Name("createdAt"), expression.Name(store.AttrHistory),
		expression.Name("lines"), expression.Name("stockTaken"))
	scan, err := expression.NewBuilder().WithFilter(filter).WithProjection(projection).Build()
	if err != nil {
		return 0, err
	}
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName: &table, FilterExpression: scan.Filter(), ProjectionExpression: scan.Projection(),
		ExpressionAttributeNames: scan.Names(), ExpressionAttributeValues: scan.Values(),
	})
	queued := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return queued, fmt.Errorf("scan %s: %w", table, err)
		}
		var items []store.Item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return queued, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range items {
			done, err := enqueueOne(ctx, db, table, it)
			if err != nil {
				return queued, err
			}
			if done {
				queued++
			}
		}
	}
	return queued, nil
}

// enqueueOne writes the owner item of the order it, unless there is one,
// and puts the order on its queue, unless it changed since read (done
// false).
func enqueueOne(ctx context.Context, db queuesDB, table string, it store.Item) (done bool, err error) {
	owner, err := store.OwnerItem(it)
	if err != nil {
		return false, err
	}
	_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: owner, ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if _, exists := ddb.ConditionFailure(err); err != nil && !exists {
		return false, fmt.Errorf("owner of order %s: %w", it.ID, err)
	}
	o := order.Order{ID: it.ID, Status: order.Status(it.Status), CreatedAt: it.CreatedAt, History: it.History}
	status := expression.Name(store.AttrStatus)
	update := expression.Set(expression.Name(store.AttrQueue), expression.Value(store.QueueOf(o.ID, o.Status))).
		Set(expression.Name(store.AttrQueueAt), expression.Value(order.QueuePosition(o))).
		Remove(expression.Name(store.AttrEventID)).Remove(expression.Name(store.AttrEventType)).Remove(expression.Name(store.AttrCorrelationID))
	unchanged := expression.AttributeNotExists(expression.Name(store.AttrQueue)).And(status.Equal(expression.Value(it.Status)))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(unchanged).Build()
	if err != nil {
		return false, err
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &table, Key: ddb.Key(it.PK, it.SK),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	if _, changed := ddb.ConditionFailure(err); changed {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("queue order %s: %w", it.ID, err)
	}
	return true, nil
}
