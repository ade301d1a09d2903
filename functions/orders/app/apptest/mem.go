// Package apptest provides a stand-in for the orders service's store, for
// tests that run without a database: MemStore, an in-memory store that
// keeps the contract the app package's Store interface documents. The
// store's conformance tests (functions/orders/store) run against it and
// against DynamoDB, so it cannot drift from the real store.
package apptest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/events"
)

// MemStore is the orders table in memory: it keeps the contract documented
// on the methods of *store.Store. Instead of a stream it keeps the events
// its writes announce (Events).
type MemStore struct {
	mu       sync.Mutex
	products map[string]order.Product
	orders   map[memKey]order.Order
	keys     map[memKey]memClaim
	quotas   map[memKey]int // orders per customer and window start
	stock    map[string]int64
	events   []events.OrderEvent
}

// memKey is an item's key: a customer and the id of one of their things.
type memKey struct{ customerID, id string }

// memClaim is a used idempotency key.
type memClaim struct {
	requestHash string
	orderID     string
	expiresAt   int64 // Unix seconds, as stored
}

var _ app.Store = (*MemStore)(nil)

// Catalog is a catalog for the other layers' tests, out of SKU order on
// purpose (the store sorts it): four products in USD, one of them retired,
// and one in euros.
func Catalog() []order.Product {
	return []order.Product{
		{SKU: "TEA-EARL-100", Name: "Earl Grey, 100 g", Description: "Black tea.", UnitPrice: 850, Currency: "USD", Active: true},
		{SKU: "COF-ESP-250", Name: "Espresso Blend, 250 g", Description: "Dark roast.", UnitPrice: 1290, Currency: "USD", Active: true},
		{SKU: "MUG-OLD", Name: "Old mug", Description: "Retired.", UnitPrice: 1500, Currency: "USD", Active: false},
		{SKU: "BRW-V60-02", Name: "Pour-over Dripper", Description: "Ceramic.", UnitPrice: 2400, Currency: "USD", Active: true},
		{SKU: "EUR-ONLY", Name: "Euro item", Description: "Priced in euros.", UnitPrice: 999, Currency: "EUR", Active: true},
	}
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{products: map[string]order.Product{}, orders: map[memKey]order.Order{}, keys: map[memKey]memClaim{}, quotas: map[memKey]int{}, stock: map[string]int64{}}
}

// PutProducts writes products to the catalog, replacing any of the same SKU.
func (m *MemStore) PutProducts(products ...order.Product) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range products {
		m.products[p.SKU] = p
	}
}

// Products returns the whole catalog, ordered by SKU.
func (m *MemStore) Products(context.Context) ([]order.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.SortedFunc(maps.Values(m.products), func(a, b order.Product) int { return strings.Compare(a.SKU, b.SKU) }), nil
}

// KeyedOrder is (*store.Store).KeyedOrder.
func (m *MemStore) KeyedOrder(_ context.Context, k order.Claim, now time.Time) (*order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.replay(k, now)
}

func (m *MemStore) replay(k order.Claim, now time.Time) (*order.Order, error) {
	c, ok := m.keys[memKey{k.CustomerID, k.Key}]
	switch {
	case !ok || c.expiresAt <= now.Unix():
		return nil, nil
	case c.requestHash != k.RequestHash:
		return nil, order.ErrIdempotencyReuse
	}
	o := m.orders[memKey{k.CustomerID, c.orderID}].AsPlaced()
	o.Lines = slices.Clone(o.Lines)
	return &o, nil
}

// CreateOrder is (*store.Store).CreateOrder: all or nothing, and a key
// that placed an order replays it before the quota is looked at, and the
// quota before the stock.
func (m *MemStore) CreateOrder(_ context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if key != nil {
		if earlier, err := m.replay(*key, now); earlier != nil || err != nil {
			return earlier, err
		}
	}
	window := memKey{o.Customer.ID, quota.WindowStart(o.CreatedAt).String()}
	if m.quotas[window] >= quota.Max {
		return nil, quota.Refused(o.CreatedAt)
	}
	if _, dup := m.orders[memKey{o.Customer.ID, o.ID}]; dup {
		return nil, fmt.Errorf("orders store: create order: order %s exists", o.ID)
	}
	var short []order.Short
	for i, l := range o.Lines {
		if left := m.stock[l.SKU]; left < int64(l.Quantity) {
			short = append(short, order.Short{Line: i, Left: left})
		}
	}
	if len(short) > 0 {
		return nil, order.OutOfStock(short)
	}
	for _, l := range o.Lines {
		m.stock[l.SKU] -= int64(l.Quantity)
	}
	o.Lines = slices.Clone(o.Lines)
	m.orders[memKey{o.Customer.ID, o.ID}] = o
	m.quotas[window]++
	m.events = append(m.events, store.Announced(o, events.OrderCreated, ev))
	if key != nil {
		m.keys[memKey{key.CustomerID, key.Key}] = memClaim{key.RequestHash, o.ID, now.Add(store.IdempotencyTTL).Unix()}
	}
	return nil, nil
}

// Order is (*store.Store).Order.
func (m *MemStore) Order(_ context.Context, customerID, id string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[memKey{customerID, id}]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	o.Lines = slices.Clone(o.Lines)
	return o, nil
}

// Orders is (*store.Store).Orders: newest first (ids sort by time), after
// an id.
func (m *MemStore) Orders(_ context.Context, customerID string, limit int, after string) ([]order.Order, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []order.Order
	for k, o := range m.orders {
		if k.customerID == customerID && (after == "" || o.ID < after) {
			mine = append(mine, o)
		}
	}
	slices.SortFunc(mine, func(a, b order.Order) int { return strings.Compare(b.ID, a.ID) })
	if len(mine) <= limit {
		return mine, "", nil
	}
	return mine[:limit], mine[limit-1].ID, nil
}

// CancelOrder is (*store.Store).CancelOrder: order.Cancel applied to the
// customer's stored order (apply).
func (m *MemStore) CancelOrder(_ context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, ok := m.orders[memKey{customerID, id}]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	return m.apply(prev, order.Cancel(), at, ev)
}

// Transition is (*store.Store).Transition: t applied to the order id of
// whichever customer (apply).
func (m *MemStore) Transition(_ context.Context, id string, t order.Transition, at time.Time, ev order.EventRef) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, o := range m.orders {
		if k.id == id {
			return m.apply(o, t, at, ev)
		}
	}
	return order.Order{}, order.ErrNotFound
}

// apply moves prev, a stored order, along t; a cancel gives the units
// back. A refused transition whose event the order already announces is
// answered, as the store answers the SDK's retry; a repeat of a Repeatable
// one writes nothing.
func (m *MemStore) apply(prev order.Order, t order.Transition, at time.Time, ev order.EventRef) (order.Order, error) {
	if ev.ID != "" && m.lastEventID(prev) == ev.ID {
		return prev, nil
	}
	next, err := t.Apply(prev, at)
	if err != nil || !t.Allows(prev.Status) {
		return next, err
	}
	m.orders[memKey{prev.Customer.ID, prev.ID}] = next
	if next.Status == order.Cancelled {
		for _, l := range next.Lines {
			m.stock[l.SKU] += int64(l.Quantity)
		}
	}
	m.events = append(m.events, store.Announced(next, eventTypes[t.To], ev))
	return next, nil
}

// eventTypes is the event a transition to each status announces.
var eventTypes = map[order.Status]string{
	order.Confirmed: events.OrderConfirmed, order.Shipped: events.OrderShipped,
	order.Delivered: events.OrderDelivered, order.Cancelled: events.OrderCancelled,
}

// Put stores o as it is, announcing nothing: what another writer, such as
// fulfilment, does.
func (m *MemStore) Put(o order.Order) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[memKey{o.Customer.ID, o.ID}] = o
}

// Events returns the events the writes announced, in order: what the
// relay would publish.
func (m *MemStore) Events() []events.OrderEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// lastEventID is the id of the event the last write of o announced.
func (m *MemStore) lastEventID(o order.Order) string {
	for _, ev := range slices.Backward(m.events) {
		if ev.Order.ID == o.ID && ev.Customer.ID == o.Customer.ID {
			return ev.ID
		}
	}
	return ""
}
