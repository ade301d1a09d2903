package apptest

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// CreateProduct is (*store.Store).CreateProduct.
func (m *MemStore) CreateProduct(_ context.Context, p order.Product) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.products[p.SKU]; taken {
		return order.ErrProductExists
	}
	m.products[p.SKU] = p
	return nil
}

// UpdateProduct is (*store.Store).UpdateProduct.
func (m *MemStore) UpdateProduct(_ context.Context, sku string, c order.ProductChange, at time.Time) (order.Product, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.products[sku]
	if !ok {
		return order.Product{}, order.ErrProductNotFound
	}
	if c.Name != nil {
		p.Name = *c.Name
	}
	if c.Description != nil {
		p.Description = *c.Description
	}
	if c.UnitPrice != nil {
		p.UnitPrice = *c.UnitPrice
	}
	if c.Active != nil {
		p.Active = *c.Active
	}
	p.UpdatedAt = at
	m.products[sku] = p
	return p, nil
}

// StaffProduct is (*store.Store).StaffProduct.
func (m *MemStore) StaffProduct(_ context.Context, sku string) (order.StaffProduct, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.products[sku]
	if !ok {
		return order.StaffProduct{}, order.ErrProductNotFound
	}
	return order.StaffProduct{Product: p, Active: p.Active, Stock: m.stock[sku]}, nil
}

// StaffProducts is (*store.Store).StaffProducts.
func (m *MemStore) StaffProducts(ctx context.Context) ([]order.StaffProduct, error) {
	products, _ := m.Products(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]order.StaffProduct, len(products))
	for i, p := range products {
		out[i] = order.StaffProduct{Product: p, Active: p.Active, Stock: m.stock[p.SKU]}
	}
	return out, nil
}

// Stock is (*store.Store).Stock.
func (m *MemStore) Stock(_ context.Context, skus ...string) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(skus))
	for _, sku := range skus {
		out[sku] = m.stock[sku]
	}
	return out, nil
}

// AdjustStock is (*store.Store).AdjustStock.
func (m *MemStore) AdjustStock(_ context.Context, sku string, delta int64) (int64, error) {
	return m.changeStock(sku, func(units int64) (int64, error) {
		if units+delta < 0 {
			return 0, order.ErrStockBelowZero
		}
		return units + delta, nil
	})
}

// SetStock is (*store.Store).SetStock.
func (m *MemStore) SetStock(_ context.Context, sku string, set, expected int64) (int64, error) {
	return m.changeStock(sku, func(units int64) (int64, error) {
		if units != expected {
			return 0, order.ErrStockChanged
		}
		return set, nil
	})
}

func (m *MemStore) changeStock(sku string, change func(units int64) (int64, error)) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.products[sku]; !ok {
		return 0, order.ErrProductNotFound
	}
	units, err := change(m.stock[sku])
	if err != nil {
		return 0, err
	}
	m.stock[sku] = units
	return units, nil
}

// PutStock sets the stock of each SKU to units, checking nothing: what a
// test starts from.
func (m *MemStore) PutStock(units int64, skus ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sku := range skus {
		m.stock[sku] = units
	}
}

// SKUs are the SKUs of products.
func SKUs(products []order.Product) []string {
	skus := make([]string, len(products))
	for i, p := range products {
		skus[i] = p.SKU
	}
	return skus
}

// StaffOrders is (*store.Store).StaffOrders: the orders in status, oldest
// first by their queue position, after the position after.
func (m *MemStore) StaffOrders(_ context.Context, status order.Status, limit int, after string) ([]order.Order, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var queue []order.Order
	for _, o := range m.orders {
		if o.Status == status && order.QueuePosition(o) > after {
			queue = append(queue, o)
		}
	}
	slices.SortFunc(queue, func(a, b order.Order) int { return strings.Compare(order.QueuePosition(a), order.QueuePosition(b)) })
	if len(queue) <= limit {
		return queue, "", nil
	}
	return queue[:limit], order.QueuePosition(queue[limit-1]), nil
}

// StaffOrder is (*store.Store).StaffOrder: the order id of whichever
// customer.
func (m *MemStore) StaffOrder(_ context.Context, id string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, o := range m.orders {
		if k.id == id {
			o.Lines = slices.Clone(o.Lines)
			return o, nil
		}
	}
	return order.Order{}, order.ErrNotFound
}
