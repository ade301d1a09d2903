package apptest

import (
	"context"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/orders/app"
	"github.com/serverless-shop/backend/functions/orders/order"
)

// Faulty is a MemStore that counts the calls the use cases make and fails
// a method with the error Fail names for it: the answers a DynamoDB store
// gives besides its contract's (throttles, outages, a key in flight).
type Faulty struct {
	*MemStore
	mu     sync.Mutex
	fail   map[string]error
	calls  map[string]int
	claims []*order.Claim // the key of every CreateOrder call
}

var _ app.Store = (*Faulty)(nil)

// NewFaulty returns an empty store that fails nothing.
func NewFaulty() *Faulty {
	return &Faulty{MemStore: NewMemStore(), fail: map[string]error{}, calls: map[string]int{}}
}

// Fail makes the method (such as "CreateOrder") answer err; nil heals it.
func (f *Faulty) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = err
}

// Calls is how many times the method was called.
func (f *Faulty) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// Claims are the keys CreateOrder was called with, nil for a call without.
func (f *Faulty) Claims() []*order.Claim {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.claims
}

func (f *Faulty) call(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	return f.fail[method]
}

// faulty is the answer of the method: its failure, or call's answer.
func faulty[T any](f *Faulty, method string, call func() (T, error)) (T, error) {
	if err := f.call(method); err != nil {
		var zero T
		return zero, err
	}
	return call()
}

// Products is MemStore.Products, or its failure.
func (f *Faulty) Products(ctx context.Context) ([]order.Product, error) {
	return faulty(f, "Products", func() ([]order.Product, error) { return f.MemStore.Products(ctx) })
}

// KeyedOrder is MemStore.KeyedOrder, or its failure.
func (f *Faulty) KeyedOrder(ctx context.Context, k order.Claim, now time.Time) (*order.Order, error) {
	return faulty(f, "KeyedOrder", func() (*order.Order, error) { return f.MemStore.KeyedOrder(ctx, k, now) })
}

// CreateOrder is MemStore.CreateOrder, or its failure.
func (f *Faulty) CreateOrder(ctx context.Context, o order.Order, ev order.EventRef, key *order.Claim, quota order.Quota, now time.Time) (*order.Order, error) {
	return faulty(f, "CreateOrder", func() (*order.Order, error) {
		f.mu.Lock()
		f.claims = append(f.claims, key)
		f.mu.Unlock()
		return f.MemStore.CreateOrder(ctx, o, ev, key, quota, now)
	})
}

// Order is MemStore.Order, or its failure.
func (f *Faulty) Order(ctx context.Context, customerID, id string) (order.Order, error) {
	return faulty(f, "Order", func() (order.Order, error) { return f.MemStore.Order(ctx, customerID, id) })
}

// Orders is MemStore.Orders, or its failure.
func (f *Faulty) Orders(ctx context.Context, customerID string, limit int, after string) ([]order.Order, string, error) {
	if err := f.call("Orders"); err != nil {
		return nil, "", err
	}
	return f.MemStore.Orders(ctx, customerID, limit, after)
}

// CancelOrder is MemStore.CancelOrder, or its failure.
func (f *Faulty) CancelOrder(ctx context.Context, customerID, id string, at time.Time, ev order.EventRef) (order.Order, error) {
	return faulty(f, "CancelOrder", func() (order.Order, error) { return f.MemStore.CancelOrder(ctx, customerID, id, at, ev) })
}
