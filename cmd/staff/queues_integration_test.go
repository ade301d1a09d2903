//go:build integration

package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/internal/testcloud"
)

// TestEnqueue: orders written before staff's routes existed get their
// owner item (staff reach them by id) and join the queues, oldest first,
// without an event for the relay; orders already queued are left as they
// are, and a second run finds nothing.
func TestEnqueue(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true, Indexes: store.Indexes()})
	s := store.New(db, table)
	at := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	old := func(id string, status order.Status, history []order.Change) {
		t.Helper()
		it := store.Item{PK: "CUSTOMER#c-" + id, SK: store.SKPrefix + id, ID: id, CustomerID: "c-" + id, Status: string(status),
			Currency: "USD", CreatedAt: at, UpdatedAt: at, Version: 1, EventID: "ev-" + id, EventType: "order.created", History: history}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: av}); err != nil {
			t.Fatal(err)
		}
	}
	const pendingOld, confirmedOld, pendingNew = "01OLDPENDING00000000000000", "01OLDCONFIRMED000000000000", "01NEWPENDING00000000000000"
	old(pendingOld, order.Pending, nil) // placed before the history was kept
	old(confirmedOld, order.Confirmed, []order.Change{{Status: order.Pending, At: at}, {Status: order.Confirmed, At: at.Add(time.Minute)}})
	placed := order.Order{ID: pendingNew, Customer: order.Customer{ID: "c-new"}, Status: order.Pending, Currency: "USD",
		CreatedAt: at.Add(-time.Minute), UpdatedAt: at.Add(-time.Minute), History: []order.Change{{Status: order.Pending, At: at.Add(-time.Minute)}}}
	if _, err := s.CreateOrder(ctx, placed, order.EventRef{ID: "ev-new"}, nil, order.Quota{Max: 10, Window: time.Hour}, placed.CreatedAt); err != nil {
		t.Fatal(err)
	}

	if _, err := s.StaffOrder(ctx, pendingOld); err != order.ErrNotFound {
		t.Fatalf("staff found an order written before its owner item: %v", err)
	}
	if n, err := enqueue(ctx, db, table); err != nil || n != 2 {
		t.Fatalf("enqueue = %d, %v; want the 2 orders written before the queues", n, err)
	}
	for _, id := range []string{pendingOld, confirmedOld, pendingNew} {
		if o, err := s.StaffOrder(ctx, id); err != nil || o.ID != id {
			t.Errorf("staff's read of %s after enqueue: %+v, %v", id, o, err)
		}
	}
	for status, want := range map[order.Status][]string{order.Pending: {pendingNew, pendingOld}, order.Confirmed: {confirmedOld}} {
		list, _, err := s.StaffOrders(ctx, status, 10, "")
		var got []string
		for _, o := range list {
			got = append(got, o.ID)
		}
		if err != nil || len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
			t.Errorf("the %s queue: %v, %v; want %v, oldest first", status, got, err, want)
		}
	}
	// The old orders' events are gone from their items (the relay ignores
	// the write); the new order's is still there.
	for pk, wantEvent := range map[string]string{"CUSTOMER#c-" + pendingOld: "", "CUSTOMER#c-" + confirmedOld: "", "CUSTOMER#c-new": "ev-new"} {
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :order)"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}, ":order": &types.AttributeValueMemberS{Value: store.SKPrefix}}})
		var items []store.Item
		if err == nil {
			err = attributevalue.UnmarshalListOfMaps(out.Items, &items)
		}
		if err != nil || len(items) != 1 || items[0].EventID != wantEvent || items[0].Queue == "" {
			t.Errorf("%s: %+v, %v; want one order item on a queue, with event %q", pk, items, err, wantEvent)
		}
	}
	if n, err := enqueue(ctx, db, table); err != nil || n != 0 {
		t.Errorf("a second run = %d, %v; want nothing to do", n, err)
	}
}
