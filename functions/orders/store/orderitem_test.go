package store_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	shared "github.com/serverless-shop/backend/shared/events"
)

func loadStream(t testing.TB) events.DynamoDBEvent {
	t.Helper()
	b, err := os.ReadFile("testdata/stream.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func sampleOrder(status string) shared.Order {
	return shared.Order{
		ID: "01JNQORDER0000000000000001", Status: status,
		Items: []shared.Line{
			{SKU: "COF-ESP-250", Name: "Espresso beans, 250 g", Quantity: 2, UnitPrice: 1450, LineTotal: 2900},
			{SKU: "BRW-V60-02", Name: "V60 dripper", Quantity: 1, UnitPrice: 2300, LineTotal: 2300},
		},
		Total: 5200, Currency: "EUR",
		CreatedAt: time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC),
	}
}

// TestFromStream reads the records of testdata/stream.json: writes of
// order items that carry their event become that event, with the order as
// the message group; other records are not the relay's.
func TestFromStream(t *testing.T) {
	stream := loadStream(t)
	ada := shared.Customer{ID: "user-ada", Email: "ada@example.com", Name: "Ada Lovelace"}
	created := sampleOrder("PENDING")
	created.UpdatedAt = created.CreatedAt
	cancelled := sampleOrder("CANCELLED")
	cancelled.UpdatedAt = time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC)
	noCorrelation := sampleOrder("PENDING")
	noCorrelation.ID, noCorrelation.UpdatedAt = "01JNQORDER0000000000000004", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	noCorrelation.CreatedAt = noCorrelation.UpdatedAt.Add(123456789)

	event := func(typ, id, corr string, at time.Time, o shared.Order) *shared.OrderEvent {
		return &shared.OrderEvent{
			Header: shared.Header{Type: typ, Version: shared.Version, ID: id, OccurredAt: at, CorrelationID: corr},
			Order:  o, Customer: ada,
		}
	}
	tests := []struct {
		name    string
		want    *shared.OrderEvent // nil: not the relay's
		wantErr string
	}{
		{"insert of a placed order", event(shared.OrderCreated, "01JNQEVENT0000000000000001", "corr-req-0001", created.UpdatedAt, created), ""},
		{"change of the order: cancelled", event(shared.OrderCancelled, "01JNQEVENT0000000000000002", "corr-req-0002", cancelled.UpdatedAt, cancelled), ""},
		{"order item of an earlier version, without its event", nil, ""},
		{"another item of the customer (quota)", nil, ""},
		{"removal of an order item", nil, ""},
		{"order item whose lines are not a list", nil, "order item"},
		{"order item without a correlation id", event(shared.OrderCreated, "01JNQEVENT0000000000000006", "", noCorrelation.UpdatedAt, noCorrelation), ""},
	}
	if len(tests) != len(stream.Records) {
		t.Fatalf("%d cases for %d records", len(tests), len(stream.Records))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok, err := store.FromStream(stream.Records[i])
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || ok {
					t.Fatalf("FromStream = ok %v, %v; want an error naming %q", ok, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromStream: %v", err)
			}
			if ok != (tt.want != nil) {
				t.Fatalf("ok = %v, want %v", ok, tt.want != nil)
			}
			if !ok {
				return
			}
			if r.EventID != tt.want.ID || r.EventType != tt.want.Type || r.Group != tt.want.Order.ID ||
				r.CorrelationID != tt.want.CorrelationID {
				t.Errorf("record = %+v, want the event %s %s of order %s", r, tt.want.Type, tt.want.ID, tt.want.Order.ID)
			}
			// The payload is what the consumers parse, and nothing else.
			got, err := shared.Parse([]byte(r.Body))
			if err != nil {
				t.Fatalf("payload does not parse: %v\n%s", err, r.Body)
			}
			if !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("payload =\n%+v\nwant\n%+v", got, *tt.want)
			}
		})
	}
}

// TestEventIsInUTC: times stored in another zone come out in UTC.
func TestEventIsInUTC(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	it := store.Item{
		ID: "01JNQORDER0000000000000001", CustomerID: "u", CustomerEmail: "u@example.com", Status: "PENDING",
		Lines: []order.Line{{SKU: "A", Name: "Alpha", Quantity: 1, UnitPrice: 5, LineTotal: 5}}, Total: 5, Currency: "EUR",
		CreatedAt: time.Date(2026, 3, 1, 11, 0, 0, 0, paris), UpdatedAt: time.Date(2026, 3, 1, 11, 30, 0, 0, paris),
		EventID: "ev-1", EventType: shared.OrderCreated,
	}
	ev := it.Event()
	for name, ts := range map[string]time.Time{"occurredAt": ev.OccurredAt, "createdAt": ev.Order.CreatedAt, "updatedAt": ev.Order.UpdatedAt} {
		if ts.Location() != time.UTC {
			t.Errorf("%s is in %v, want UTC", name, ts.Location())
		}
	}
	if want := time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC); !ev.OccurredAt.Equal(want) {
		t.Errorf("occurredAt = %v, want the last update %v", ev.OccurredAt, want)
	}
	// The event does not share its lines with the item.
	it.Lines[0].Quantity = 99
	if ev.Order.Items[0].Quantity != 1 {
		t.Errorf("event line changed with the item: %+v", ev.Order.Items[0])
	}
}

// TestStoredAttributeNames pins the names an order item is stored under:
// orders already stored must stay readable, and the relay reads them.
func TestStoredAttributeNames(t *testing.T) {
	av, err := attributevalue.MarshalMap(store.Item{
		Lines: []order.Line{{}}, EventID: "e", EventType: "t", CorrelationID: "c",
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range av {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"PK", "SK", store.AttrCorrelationID, "createdAt", "currency", "customerEmail", "customerId", "customerName",
		store.AttrEventID, store.AttrEventType, "id", "lines", store.AttrStatus, "total", store.AttrUpdatedAt, store.AttrVersion}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("attributes = %v\nwant %v", names, want)
	}
	line := av["lines"]
	var lines []map[string]any
	if err := attributevalue.Unmarshal(line, &lines); err != nil {
		t.Fatal(err)
	}
	var lineNames []string
	for n := range lines[0] {
		lineNames = append(lineNames, n)
	}
	slices.Sort(lineNames)
	if want := []string{"LineTotal", "Name", "Quantity", "SKU", "UnitPrice"}; !slices.Equal(lineNames, want) {
		t.Errorf("line attributes = %v, want %v (the first version's)", lineNames, want)
	}
}
