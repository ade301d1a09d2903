package api

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/orders/store"
	"github.com/serverless-shop/backend/shared/events"
)

// fakeStore is a Store whose methods are function fields, so that a test can
// replace any one of them. newFakeStore fills them with memStore's.
type fakeStore struct {
	ProductsFunc    func(ctx context.Context) ([]order.Product, error)
	KeyedOrderFunc  func(ctx context.Context, k order.Claim, now time.Time) (*order.Order, error)
	CreateOrderFunc func(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error)
	OrderFunc       func(ctx context.Context, customerID, id string) (order.Order, error)
	OrdersFunc      func(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error)
	CancelOrderFunc func(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error)
}

var _ app.Store = (*fakeStore)(nil)

func (f *fakeStore) Products(ctx context.Context) ([]order.Product, error) {
	return f.ProductsFunc(ctx)
}

func (f *fakeStore) KeyedOrder(ctx context.Context, k order.Claim, now time.Time) (*order.Order, error) {
	return f.KeyedOrderFunc(ctx, k, now)
}

func (f *fakeStore) CreateOrder(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	return f.CreateOrderFunc(ctx, o, ev, key, quota, now)
}

func (f *fakeStore) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	return f.OrderFunc(ctx, customerID, id)
}

func (f *fakeStore) Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error) {
	return f.OrdersFunc(ctx, customerID, limit, after)
}

func (f *fakeStore) CancelOrder(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	return f.CancelOrderFunc(ctx, customerID, id, at, ev)
}

// memStore is an in-memory orders table that keeps the contract documented
// on the methods of *store.Store, and records the calls made to it.
type memStore struct {
	mu       sync.Mutex
	products []order.Product // ordered by SKU, as the store returns them
	orders   map[string]order.Order
	keys     map[string]*keyRecord
	quotas   map[string]int      // orders per customer and quota window
	outbox   []events.OrderEvent // the events the relay would publish

	creates      []*order.Claim // the key of every CreateOrder call
	keyReads     int
	pageCalls    []pageCall
	orderReads   int
	productReads int
}

// keyRecord is a used key: the request it served and the order it placed.
type keyRecord struct {
	claim   order.Claim
	orderID string
}

type pageCall struct {
	customerID string
	limit      int
	after      string
}

func newFakeStore(products ...order.Product) (*fakeStore, *memStore) {
	m := &memStore{
		products: slices.SortedFunc(slices.Values(products), func(a, b order.Product) int { return strings.Compare(a.SKU, b.SKU) }),
		orders:   map[string]order.Order{},
		keys:     map[string]*keyRecord{},
		quotas:   map[string]int{},
	}
	return &fakeStore{
		ProductsFunc:    m.Products,
		KeyedOrderFunc:  m.KeyedOrder,
		CreateOrderFunc: m.CreateOrder,
		OrderFunc:       m.Order,
		OrdersFunc:      m.Orders,
		CancelOrderFunc: m.CancelOrder,
	}, m
}

func orderKey(customerID, id string) string { return customerID + "\x00" + id }

func (m *memStore) Products(context.Context) ([]order.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.productReads++
	return slices.Clone(m.products), nil
}

// KeyedOrder follows store.KeyedOrder: nil for a free key, the order a key
// placed for the same request, ErrIdempotencyReuse for another request.
func (m *memStore) KeyedOrder(_ context.Context, k order.Claim, _ time.Time) (*order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keyReads++
	return m.replay(k)
}

func (m *memStore) replay(k order.Claim) (*order.Order, error) {
	r, ok := m.keys[orderKey(k.CustomerID, k.Key)]
	switch {
	case !ok:
		return nil, nil
	case r.claim.RequestHash != k.RequestHash:
		return nil, order.ErrIdempotencyReuse
	}
	o := m.orders[orderKey(k.CustomerID, r.orderID)].AsPlaced()
	o.Lines = slices.Clone(o.Lines)
	return &o, nil
}

// CreateOrder follows store.CreateOrder: all or nothing; a used key
// replays its order (before the quota is checked) or is
// ErrIdempotencyReuse.
func (m *memStore) CreateOrder(_ context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, _ time.Time) (*order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.creates = append(m.creates, key)
	if key != nil {
		if _, used := m.keys[orderKey(key.CustomerID, key.Key)]; used {
			return m.replay(*key)
		}
	}
	window := o.Customer.ID + "@" + quota.WindowStart(o.CreatedAt).String()
	if m.quotas[window] >= quota.Max {
		return nil, quota.Refused(o.CreatedAt)
	}
	k := orderKey(o.Customer.ID, o.ID)
	if _, dup := m.orders[k]; dup {
		return nil, errDuplicate
	}
	m.orders[k] = o
	m.quotas[window]++
	m.outbox = append(m.outbox, store.Announced(o, events.OrderCreated, ev))
	if key != nil {
		m.keys[orderKey(key.CustomerID, key.Key)] = &keyRecord{claim: *key, orderID: o.ID}
	}
	return nil, nil
}

var errDuplicate = errors.New("memstore: order exists")

func (m *memStore) Order(_ context.Context, customerID, id string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orderReads++
	o, ok := m.orders[orderKey(customerID, id)]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	return o, nil
}

// Orders follows store.Orders: newest first (ids sort by time), after an
// id, and next empty on the last page.
func (m *memStore) Orders(_ context.Context, customerID string, limit int, after string) ([]order.Order, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pageCalls = append(m.pageCalls, pageCall{customerID, limit, after})
	var mine []order.Order
	for _, o := range m.orders {
		if o.Customer.ID == customerID && (after == "" || o.ID < after) {
			mine = append(mine, o)
		}
	}
	slices.SortFunc(mine, func(a, b order.Order) int { return strings.Compare(b.ID, a.ID) })
	if len(mine) <= limit {
		return mine, "", nil
	}
	page := mine[:limit]
	return page, page[len(page)-1].ID, nil
}

// CancelOrder follows store.CancelOrder: one conditional write.
func (m *memStore) CancelOrder(_ context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := orderKey(customerID, id)
	prev, ok := m.orders[k]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	next, err := order.Cancel().Apply(prev, at)
	if err != nil {
		return order.Order{}, err
	}
	m.orders[k] = next
	m.outbox = append(m.outbox, store.Announced(next, events.OrderCancelled, ev))
	return next, nil
}

func (m *memStore) put(o order.Order) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[orderKey(o.Customer.ID, o.ID)] = o
}

func (m *memStore) stored(customerID, id string) (order.Order, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[orderKey(customerID, id)]
	return o, ok
}

func (m *memStore) events() []events.OrderEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.outbox)
}
