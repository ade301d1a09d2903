package api

import (
	"context"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/events"
)

// fakeStore is the in-memory store the conformance suite holds to the
// DynamoDB store's contract (apptest.MemStore), recording the calls the
// handlers make. A test makes one method fail by setting its Func field.
type fakeStore struct {
	*apptest.MemStore
	ProductsFunc    func(ctx context.Context) ([]order.Product, error)
	CreateOrderFunc func(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error)
	OrdersFunc      func(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error)
	CancelOrderFunc func(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error)

	mu           sync.Mutex
	creates      []*order.Claim // the key of every CreateOrder call
	pageCalls    []pageCall
	keyReads     int
	orderReads   int
	productReads int
}

var _ app.Store = (*fakeStore)(nil)

type pageCall struct {
	customerID string
	limit      int
	after      string
}

// newFakeStore returns the store holding products, twice: as the handlers'
// store and as the record of their calls.
func newFakeStore(products ...order.Product) (*fakeStore, *fakeStore) {
	f := &fakeStore{MemStore: apptest.NewMemStore()}
	f.ProductsFunc, f.CreateOrderFunc, f.OrdersFunc, f.CancelOrderFunc = f.MemStore.Products, f.MemStore.CreateOrder, f.MemStore.Orders, f.MemStore.CancelOrder
	_ = f.PutProducts(context.Background(), products)
	return f, f
}

func (f *fakeStore) count(record func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	record()
}

func (f *fakeStore) Products(ctx context.Context) ([]order.Product, error) {
	f.count(func() { f.productReads++ })
	return f.ProductsFunc(ctx)
}

func (f *fakeStore) KeyedOrder(ctx context.Context, k order.Claim, now time.Time) (*order.Order, error) {
	f.count(func() { f.keyReads++ })
	return f.MemStore.KeyedOrder(ctx, k, now)
}

func (f *fakeStore) CreateOrder(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	f.count(func() { f.creates = append(f.creates, key) })
	return f.CreateOrderFunc(ctx, o, ev, key, quota, now)
}

func (f *fakeStore) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	f.count(func() { f.orderReads++ })
	return f.MemStore.Order(ctx, customerID, id)
}

func (f *fakeStore) Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error) {
	f.count(func() { f.pageCalls = append(f.pageCalls, pageCall{customerID, limit, after}) })
	return f.OrdersFunc(ctx, customerID, limit, after)
}

func (f *fakeStore) CancelOrder(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	return f.CancelOrderFunc(ctx, customerID, id, at, ev)
}

// stored reads an order without counting the read.
func (f *fakeStore) stored(customerID, id string) (order.Order, bool) {
	o, err := f.MemStore.Order(context.Background(), customerID, id)
	return o, err == nil
}

// ordersOf counts the orders stored for a customer.
func (f *fakeStore) ordersOf(customerID string) int {
	mine, _, _ := f.MemStore.Orders(context.Background(), customerID, 1000, "")
	return len(mine)
}

func (f *fakeStore) put(o order.Order)           { f.Put(o) }
func (f *fakeStore) events() []events.OrderEvent { return f.Events() }
