package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// TestOrderItemRoundTrip: an order stored, in any zone, reads back as it
// was, in UTC.
func TestOrderItemRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 1, 11, 0, 0, 123000000, time.FixedZone("CET", 3600))
	o := order.Order{ID: "01JNQORDER0000000000000001", Customer: order.Customer{ID: "u", Email: "u@example.com", Name: "U"},
		Status: order.Confirmed, Lines: []order.Line{{SKU: "A", Name: "Alpha", Quantity: 2, UnitPrice: 5, LineTotal: 10}},
		Total: 10, Currency: "EUR", CreatedAt: at, UpdatedAt: at.Add(time.Minute)}
	av, err := attributevalue.MarshalMap(orderItem(o, "order.created", order.EventRef{ID: "ev-1"}))
	var it Item
	if err == nil {
		err = attributevalue.UnmarshalMap(av, &it)
	}
	want := o
	want.CreatedAt, want.UpdatedAt = at.UTC(), at.Add(time.Minute).UTC()
	if got := orderOf(it); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, %v; want %+v", got, err, want)
	}
}
