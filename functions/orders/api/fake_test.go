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
	ProductsFunc      func(ctx context.Context) ([]order.Product, error)
	ProductFunc       func(ctx context.Context, sku string) (order.Product, error)
	ProductsBySKUFunc func(ctx context.Context, skus []string) (map[string]order.Product, error)
	ClaimKeyFunc      func(ctx context.Context, c order.Claim, now time.Time) (*order.Order, error)
	ReleaseKeyFunc    func(ctx context.Context, c order.Claim) error
	CreateOrderFunc   func(ctx context.Context, o order.Order, ev events.OrderEvent, claim *order.Claim, quota order.Quota) error
	OrderFunc         func(ctx context.Context, customerID, id string) (order.Order, error)
	OrdersFunc        func(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error)
	UpdateOrderFunc   func(ctx context.Context, customerID, id string, change order.Change) (order.Order, error)
}

var _ app.Store = (*fakeStore)(nil)

func (f *fakeStore) Products(ctx context.Context) ([]order.Product, error) {
	return f.ProductsFunc(ctx)
}

func (f *fakeStore) Product(ctx context.Context, sku string) (order.Product, error) {
	return f.ProductFunc(ctx, sku)
}

func (f *fakeStore) ProductsBySKU(ctx context.Context, skus []string) (map[string]order.Product, error) {
	return f.ProductsBySKUFunc(ctx, skus)
}

func (f *fakeStore) ClaimKey(ctx context.Context, c order.Claim, now time.Time) (*order.Order, error) {
	return f.ClaimKeyFunc(ctx, c, now)
}

func (f *fakeStore) ReleaseKey(ctx context.Context, c order.Claim) error {
	return f.ReleaseKeyFunc(ctx, c)
}

func (f *fakeStore) CreateOrder(ctx context.Context, o order.Order, ev events.OrderEvent, claim *order.Claim, quota order.Quota) error {
	return f.CreateOrderFunc(ctx, o, ev, claim, quota)
}

func (f *fakeStore) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	return f.OrderFunc(ctx, customerID, id)
}

func (f *fakeStore) Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error) {
	return f.OrdersFunc(ctx, customerID, limit, after)
}

func (f *fakeStore) UpdateOrder(ctx context.Context, customerID, id string, change order.Change) (order.Order, error) {
	return f.UpdateOrderFunc(ctx, customerID, id, change)
}

// memStore is an in-memory orders table that keeps the contract documented
// on the methods of *store.Store, and records the calls made to it.
type memStore struct {
	mu       sync.Mutex
	products []order.Product // ordered by SKU, as the store returns them
	orders   map[string]order.Order
	keys     map[string]*keyRecord
	quotas   map[string]int // orders per customer and quota window
	outbox   []events.OrderEvent

	claims      []order.Claim
	releases    []order.Claim
	completions []*order.Claim
	pageCalls   []pageCall
	orderReads  int
	productGets []string
}

type keyRecord struct {
	claim     order.Claim
	completed bool
	lease     time.Time
	placed    order.Order
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
		ProductsFunc:      m.Products,
		ProductFunc:       m.Product,
		ProductsBySKUFunc: m.ProductsBySKU,
		ClaimKeyFunc:      m.ClaimKey,
		ReleaseKeyFunc:    m.ReleaseKey,
		CreateOrderFunc:   m.CreateOrder,
		OrderFunc:         m.Order,
		OrdersFunc:        m.Orders,
		UpdateOrderFunc:   m.UpdateOrder,
	}, m
}

func orderKey(customerID, id string) string { return customerID + "\x00" + id }

func (m *memStore) Products(context.Context) ([]order.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.products), nil
}

func (m *memStore) Product(_ context.Context, sku string) (order.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.productGets = append(m.productGets, sku)
	for _, p := range m.products {
		if p.SKU == sku {
			return p, nil
		}
	}
	return order.Product{}, order.ErrNotFound
}

func (m *memStore) ProductsBySKU(_ context.Context, skus []string) (map[string]order.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := map[string]order.Product{}
	for _, p := range m.products {
		if slices.Contains(skus, p.SKU) {
			found[p.SKU] = p
		}
	}
	return found, nil
}

// ClaimKey follows store.ClaimKey: free or lapsed keys are claimed, a
// different request is ErrIdempotencyReuse, a completed one gives back the
// order it placed, one in flight is ErrIdempotencyBusy.
func (m *memStore) ClaimKey(_ context.Context, c order.Claim, now time.Time) (*order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.claims = append(m.claims, c)
	k := orderKey(c.CustomerID, c.Key)
	existing, ok := m.keys[k]
	// The table keeps leases in whole seconds.
	if !ok || (!existing.completed && now.Unix() >= existing.lease.Unix()) {
		m.keys[k] = &keyRecord{claim: c, lease: now.Add(store.IdempotencyLease)}
		return nil, nil
	}
	switch {
	case existing.claim.RequestHash != c.RequestHash:
		return nil, order.ErrIdempotencyReuse
	case existing.completed:
		o := existing.placed
		o.Lines = slices.Clone(o.Lines)
		return &o, nil
	default:
		return nil, order.ErrIdempotencyBusy
	}
}

// ReleaseKey follows store.ReleaseKey: only the owner of a claim in flight
// releases it; anything else is a no-op.
func (m *memStore) ReleaseKey(_ context.Context, c order.Claim) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releases = append(m.releases, c)
	k := orderKey(c.CustomerID, c.Key)
	if r, ok := m.keys[k]; ok && !r.completed && r.claim.Owner == c.Owner {
		delete(m.keys, k)
	}
	return nil
}

// CreateOrder follows store.CreateOrder: all or nothing, and
// ErrIdempotencyBusy when the claim is no longer ours.
func (m *memStore) CreateOrder(_ context.Context, o order.Order, ev events.OrderEvent, claim *order.Claim, quota order.Quota) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.completions = append(m.completions, claim)
	window := o.Customer.ID + "@" + quota.WindowStart(o.CreatedAt).String()
	if m.quotas[window] >= quota.Max {
		return quota.Refused(o.CreatedAt)
	}
	var rec *keyRecord
	if claim != nil {
		r, ok := m.keys[orderKey(o.Customer.ID, claim.Key)]
		if !ok || r.completed || r.claim.Owner != claim.Owner {
			return order.ErrIdempotencyBusy
		}
		rec = r
	}
	k := orderKey(o.Customer.ID, o.ID)
	if _, dup := m.orders[k]; dup {
		return errDuplicate
	}
	m.orders[k] = o
	m.quotas[window]++
	m.outbox = append(m.outbox, ev)
	if rec != nil {
		rec.completed = true
		rec.placed = o
		rec.placed.Lines = slices.Clone(o.Lines)
	}
	return nil
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

// UpdateOrder follows store.UpdateOrder, in one round: nothing can change
// the order between the read and the write of an in-memory store. (The
// real store's retries after a concurrent write are tested against the
// table, in the store's integration tests.)
func (m *memStore) UpdateOrder(_ context.Context, customerID, id string, change order.Change) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orderReads++
	k := orderKey(customerID, id)
	prev, ok := m.orders[k]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	next, ev, err := change(prev)
	if err != nil {
		return order.Order{}, err
	}
	m.orders[k] = next
	m.outbox = append(m.outbox, ev)
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
