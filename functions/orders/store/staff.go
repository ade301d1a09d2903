package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
)

func productSK(sku string) string { return "PRODUCT#" + sku }

func productItem(p order.Product) map[string]types.AttributeValue {
	item, _ := attributevalue.MarshalMap(productRecord{
		PK: pkCatalog, SK: productSK(p.SKU), SKU: p.SKU, Name: p.Name, Description: p.Description,
		UnitPrice: p.UnitPrice, Currency: p.Currency, Active: p.Active, UpdatedAt: p.UpdatedAt.UTC(),
	}) // plain fields: it cannot fail
	return item
}

// CreateProduct adds p to the catalog, or answers order.ErrProductExists
// when its SKU is taken (by an archived product too).
func (s *Store) CreateProduct(ctx context.Context, p order.Product) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: productItem(p), ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if _, ok := ddb.ConditionFailure(err); ok {
		return order.ErrProductExists
	}
	if err != nil {
		return wrap("create product", err)
	}
	return nil
}

// UpdateProduct applies c to the product at the time at and returns it, or
// order.ErrProductNotFound. One UpdateItem that sets only the fields c
// changes: two staff members changing a product at once never undo each
// other's fields, and it needs no read first.
func (s *Store) UpdateProduct(ctx context.Context, sku string, c order.ProductChange, at time.Time) (order.Product, error) {
	set := expression.Set(expression.Name("updatedAt"), expression.Value(at.UTC()))
	if c.Name != nil {
		set = set.Set(expression.Name("name"), expression.Value(*c.Name))
	}
	if c.Description != nil {
		set = set.Set(expression.Name("description"), expression.Value(*c.Description))
	}
	if c.UnitPrice != nil {
		set = set.Set(expression.Name("unitPrice"), expression.Value(*c.UnitPrice))
	}
	if c.Active != nil {
		set = set.Set(expression.Name("active"), expression.Value(*c.Active))
	}
	expr, _ := expression.NewBuilder().WithUpdate(set).WithCondition(expression.AttributeExists(expression.Name("PK"))).
		Build() // constant names and plain values: it cannot fail
	r, err := updateItem[productRecord](ctx, s, ddb.Key(pkCatalog, productSK(sku)), expr)
	if _, ok := ddb.ConditionFailure(err); ok {
		return order.Product{}, order.ErrProductNotFound
	}
	if err != nil {
		return order.Product{}, wrap("update product", err)
	}
	return r.product(), nil
}

// StaffProduct returns the product, archived or not, with its stock, or
// order.ErrProductNotFound: a consistent GetItem and the stock's.
func (s *Store) StaffProduct(ctx context.Context, sku string) (order.StaffProduct, error) {
	r, err := get[productRecord](ctx, s, "get product", ddb.Key(pkCatalog, productSK(sku)), order.ErrProductNotFound)
	if err != nil {
		return order.StaffProduct{}, err
	}
	stock, err := s.Stock(ctx, sku)
	if err != nil {
		return order.StaffProduct{}, err
	}
	return order.StaffProduct{Product: r.product(), Active: r.Active, Stock: stock[sku]}, nil
}

// StaffProducts returns the whole catalog, archived products too, ordered
// by SKU, with their stock: a consistent Query of the catalog partition
// and a BatchGetItem of the stock items.
func (s *Store) StaffProducts(ctx context.Context) ([]order.StaffProduct, error) {
	products, err := s.products(ctx, true)
	if err != nil {
		return nil, err
	}
	skus := make([]string, len(products))
	for i, p := range products {
		skus[i] = p.SKU
	}
	stock, err := s.Stock(ctx, skus...)
	if err != nil {
		return nil, err
	}
	out := make([]order.StaffProduct, len(products))
	for i, p := range products {
		out[i] = order.StaffProduct{Product: p, Active: p.Active, Stock: stock[p.SKU]}
	}
	return out, nil
}

// stockRecord is a product's stock, or one shard of it (stockplan.go): a
// separate item per SKU and shard, out of the catalog's one partition,
// since every order writes it. No item is a stock of 0.
type stockRecord struct {
	PK    string `dynamodbav:"PK"`
	SK    string `dynamodbav:"SK"`
	SKU   string `dynamodbav:"sku"`
	Units int64  `dynamodbav:"units"`
}

// shard is the record's shard, from its key.
func (r stockRecord) shard() int {
	n, _ := strconv.Atoi(strings.TrimPrefix(r.PK, stockPK(r.SKU)+"#")) // shard 0: no suffix, 0
	return n
}

const skStock = "STOCK"

func stockPK(sku string) string { return "STOCK#" + sku }

// Stock returns the stock of each SKU (0 for one without a stock item),
// the sum of its shards, read consistently with BatchGetItem, 100 keys a
// call.
func (s *Store) Stock(ctx context.Context, skus ...string) (map[string]int64, error) {
	shards, err := s.shardStock(ctx, skus...)
	if err != nil {
		return nil, err
	}
	stock := make(map[string]int64, len(skus))
	for sku, units := range shards {
		stock[sku] = sumUnits(units)
	}
	return stock, nil
}

// shardStock returns the units of every shard of each SKU (a missing
// shard: 0), read consistently with BatchGetItem, 100 keys a call (one
// call for up to 100 / shards SKUs). The reads of one call are each
// consistent, not a snapshot of them all: writers' conditions decide.
func (s *Store) shardStock(ctx context.Context, skus ...string) (map[string][]int64, error) {
	stock := make(map[string][]int64, len(skus))
	keys := make([]map[string]types.AttributeValue, 0, len(skus)*s.shards)
	for _, sku := range skus {
		stock[sku] = make([]int64, s.shards)
		for n := range s.shards {
			keys = append(keys, ddb.Key(stockShardPK(sku, n), skStock))
		}
	}
	for keys := range slices.Chunk(keys, 100) {
		// What a call leaves unprocessed is asked for again after 50 ms,
		// 100 ms, ..., up to maxBatchAttempts calls.
		request := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(request) > 0; attempt++ {
			if attempt == maxBatchAttempts {
				return nil, wrap("get stock", fmt.Errorf("items still unprocessed after %d attempts", attempt))
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return nil, wrap("get stock", ctx.Err())
				case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
			if err != nil {
				return nil, wrap("get stock", err)
			}
			var records []stockRecord
			if err := attributevalue.UnmarshalListOfMaps(out.Responses[s.table], &records); err != nil {
				return nil, wrap("get stock", err)
			}
			for _, r := range records {
				if n := r.shard(); n >= 0 && n < s.shards && stock[r.SKU] != nil {
					stock[r.SKU][n] = r.Units
				}
			}
			request = out.UnprocessedKeys
		}
	}
	return stock, nil
}

// maxBatchAttempts bounds the calls of one batch of reads.
const maxBatchAttempts = 6

// AdjustStock adds delta to the product's stock at once (ADD: concurrent
// changes all count) and returns the new stock (over shards:
// adjustShards), after one GetItem that finds the product (products are
// never deleted, so none can go in between). Errors:
// order.ErrProductNotFound, order.ErrStockBelowZero (nothing changed).
func (s *Store) AdjustStock(ctx context.Context, sku string, delta int64) (int64, error) {
	if err := s.productExists(ctx, sku); err != nil {
		return 0, err
	}
	if s.shards > 1 {
		return s.adjustShards(ctx, sku, delta)
	}
	b := addUnits(sku, delta)
	if delta < 0 {
		b = b.WithCondition(expression.Name("units").GreaterThanEqual(expression.Value(-delta)))
	}
	return s.changeStock(ctx, sku, b, order.ErrStockBelowZero)
}

// SetStock sets the product's stock to set if it is still expected (a
// missing stock item is 0), so that two staff members never lose each
// other's change, and returns it (over shards: setShards), after one
// GetItem that finds the product, as AdjustStock. Errors:
// order.ErrProductNotFound, order.ErrStockChanged (nothing changed).
func (s *Store) SetStock(ctx context.Context, sku string, set, expected int64) (int64, error) {
	if err := s.productExists(ctx, sku); err != nil {
		return 0, err
	}
	if s.shards > 1 {
		return s.setShards(ctx, sku, set, expected)
	}
	return s.changeStock(ctx, sku, setUnits(sku, set, expected), order.ErrStockChanged)
}

// addUnits adds units to the SKU's stock item, or a shard of it.
func addUnits(sku string, units int64) expression.Builder {
	return expression.NewBuilder().WithUpdate(expression.Set(expression.Name("sku"), expression.Value(sku)).
		Add(expression.Name("units"), expression.Value(units)))
}

// setUnits sets the SKU's stock item, or a shard of it, to units if it
// still holds was (a missing item holds 0).
func setUnits(sku string, units, was int64) expression.Builder {
	cond := expression.Name("units").Equal(expression.Value(was))
	if was == 0 {
		cond = expression.AttributeNotExists(expression.Name("units")).Or(cond)
	}
	return expression.NewBuilder().WithCondition(cond).
		WithUpdate(expression.Set(expression.Name("sku"), expression.Value(sku)).Set(expression.Name("units"), expression.Value(units)))
}

// adjustShards is AdjustStock over the shards of a split stock (ADR 9):
// units added are spread over the shards in one transaction of ADDs;
// units taken are planned from a consistent read of the shards, like an
// order's last units, and taken in one transaction conditioned on each
// shard it takes from holding as many (read and planned again when another
// writer got there first), refused only when a read shows the total
// short. The stock returned is a consistent read of the shards after the
// change. Calls, after AdjustStock's GetItem: (BatchGetItem, when
// taking,) TransactWriteItems, BatchGetItem.
func (s *Store) adjustShards(ctx context.Context, sku string, delta int64) (int64, error) {
	for attempt := 1; delta != 0; attempt++ {
		var writes []types.TransactWriteItem
		if delta > 0 {
			for n, units := range spread(delta, s.shards) {
				if units > 0 {
					writes = append(writes, types.TransactWriteItem{Update: s.shardUpdate(sku, n, addUnits(sku, units))})
				}
			}
		} else {
			stock, err := s.shardStock(ctx, sku)
			if err != nil {
				return 0, err
			}
			takes, short := planTakes([]order.Line{{SKU: sku, Quantity: int(-delta)}}, stock, rand.IntN)
			if len(short) > 0 {
				return 0, order.ErrStockBelowZero
			}
			writes = s.takeWrites(takes)
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		if reasons, ok := ddb.CancellationReasons(err); ok && takeRefused(reasons) && attempt < maxTakeAttempts {
			continue // another writer took from a shard first: read again
		}
		if err != nil {
			return 0, wrap("change stock", err)
		}
		break
	}
	stock, err := s.Stock(ctx, sku)
	if err != nil {
		return 0, err
	}
	return stock[sku], nil
}

// shardUpdate is the update b makes to shard n of the SKU's stock.
func (s *Store) shardUpdate(sku string, n int, b expression.Builder) *types.Update {
	expr, _ := b.Build() // constant names and plain values: it cannot fail
	return ddb.Update(s.table, ddb.Key(stockShardPK(sku, n), skStock), expr)
}

// setShards is SetStock over the shards of a split stock (ADR 9): a
// consistent read of every shard, refused unless they sum to expected,
// then one transaction that sets each shard to its share of set (spread),
// conditioned on each still holding what was read, so that the change is
// atomic across the shards. When a shard moved meanwhile (an order, a
// cancel) and the shards still sum to expected, it is read and tried
// again. Calls, after SetStock's GetItem: BatchGetItem,
// TransactWriteItems.
func (s *Store) setShards(ctx context.Context, sku string, set, expected int64) (int64, error) {
	for attempt := 1; ; attempt++ {
		stock, err := s.shardStock(ctx, sku)
		if err != nil {
			return 0, err
		}
		if sumUnits(stock[sku]) != expected {
			return 0, order.ErrStockChanged
		}
		share := spread(set, s.shards)
		writes := make([]types.TransactWriteItem, s.shards)
		for n, was := range stock[sku] {
			writes[n] = types.TransactWriteItem{Update: s.shardUpdate(sku, n, setUnits(sku, share[n], was))}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		if reasons, ok := ddb.CancellationReasons(err); ok && takeRefused(reasons) {
			if attempt == maxTakeAttempts {
				return 0, order.ErrStockChanged
			}
			continue
		}
		if err != nil {
			return 0, wrap("change stock", err)
		}
		return set, nil
	}
}

// productExists answers order.ErrProductNotFound unless the catalog has
// the product (one GetItem: products are never deleted).
func (s *Store) productExists(ctx context.Context, sku string) error {
	_, found, err := ddb.Get[productRecord](ctx, s.db, &dynamodb.GetItemInput{
		TableName: &s.table, Key: ddb.Key(pkCatalog, productSK(sku)), ProjectionExpression: aws.String("PK"),
	})
	if err != nil {
		return wrap("change stock", err)
	}
	if !found {
		return order.ErrProductNotFound
	}
	return nil
}

// changeStock applies the update of b to the SKU's stock item, answering
// refused when its condition fails.
func (s *Store) changeStock(ctx context.Context, sku string, b expression.Builder, refused error) (int64, error) {
	expr, _ := b.Build() // constant names and plain values: it cannot fail
	r, err := updateItem[stockRecord](ctx, s, ddb.Key(stockPK(sku), skStock), expr)
	if _, ok := ddb.ConditionFailure(err); ok {
		return 0, refused
	}
	if err != nil {
		return 0, wrap("change stock", err)
	}
	return r.Units, nil
}
