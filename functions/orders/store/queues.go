package store

import (
	"cmp"
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/shared/ddb"
)

// IndexByStatus is the orders table's global secondary index of staff's
// queues: the orders of each status, oldest first by the time they
// entered it. A status has five values and every order enters PENDING, so
// a partition per status would take the write of every order placed: the
// queue of a status is split over QueueShards partitions (the attribute
// queue, "<status>#<n>", n from the order id), which a page reads at once
// and merges (docs/decisions/0010-staff-queues.md). Its sort key, queueAt
// ("<time entered>#<id>", order.QueuePosition), is unique and sorts by
// time. It projects the whole order: a page of a queue is the orders on
// it. template.yaml declares it; a test checks they agree.
const IndexByStatus = "ByStatus"

// QueueShards is how many partitions of IndexByStatus hold one status's
// queue. Each takes DynamoDB's 1,000 writes a second of one partition, so
// a status takes QueueShards times that (docs/capacity.md); a page reads
// them all. Changing it strands the orders of the shards it drops until
// they next change status.
const QueueShards = 8

// Attributes of IndexByStatus's keys, which every write of an order item
// sets.
const (
	AttrQueue   = "queue"
	AttrQueueAt = "queueAt"
)

// Indexes are the orders table's global secondary indexes as CreateTable
// takes them (the tests' tables; template.yaml declares the deployed
// ones): IndexByStatus.
func Indexes() []types.GlobalSecondaryIndex {
	return []types.GlobalSecondaryIndex{{
		IndexName: aws.String(IndexByStatus),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(AttrQueue), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(AttrQueueAt), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}}
}

// QueueOf is the partition of IndexByStatus that holds order id while it
// is in status.
func QueueOf(id string, status order.Status) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return queueShard(status, int(h.Sum32()%QueueShards))
}

func queueShard(status order.Status, n int) string { return string(status) + "#" + strconv.Itoa(n) }

// StaffOrders returns up to limit orders in status, oldest first by the
// time they entered it, starting after the queue position after (empty:
// from the oldest). next is the position to pass as after for the
// following page, empty on the last page. One Query per shard of the
// queue, at once, each reading one order more than a page, merged: the
// first limit of them are the page. The index is eventually consistent: an
// order that changed status a moment ago may still be on its old queue,
// or not yet on its new one. An order that enters the status while a
// client pages through it comes after the orders it already holds, so
// every order that stays on the queue is listed exactly once.
func (s *Store) StaffOrders(ctx context.Context, status order.Status, limit int, after string) (list []order.Order, next string, err error) {
	pages := make([][]Item, QueueShards)
	more := make([]bool, QueueShards)
	errs := make([]error, QueueShards)
	var wg sync.WaitGroup
	for n := range QueueShards {
		wg.Go(func() { pages[n], more[n], errs[n] = s.queuePage(ctx, queueShard(status, n), limit+1, after) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, "", wrap("list orders by status", err)
	}
	items := slices.Concat(pages...)
	slices.SortFunc(items, func(a, b Item) int { return cmp.Compare(a.QueueAt, b.QueueAt) })
	end, short := min(limit, len(items)), false
	for n, stopped := range more {
		// A shard whose read stopped short may hold orders after its last
		// one read and before the other shards': the page ends there.
		if stopped {
			last := pages[n][len(pages[n])-1].QueueAt
			end = min(end, sort.Search(len(items), func(i int) bool { return items[i].QueueAt > last }))
			short = true
		}
	}
	if (short || len(items) > end) && end > 0 {
		next = items[end-1].QueueAt
	}
	items = items[:end]
	list = make([]order.Order, len(items))
	for i, it := range items {
		list[i] = orderOf(it)
	}
	return list, next, nil
}

// queuePage reads up to limit orders of one shard of a queue after the
// position after, oldest first; more reports a page the read stopped short
// of (DynamoDB's 1 MB).
func (s *Store) queuePage(ctx context.Context, queue string, limit int, after string) ([]Item, bool, error) {
	cond := expression.Key(AttrQueue).Equal(expression.Value(queue))
	if after != "" {
		cond = cond.And(expression.Key(AttrQueueAt).GreaterThan(expression.Value(after)))
	}
	items, more, err := s.query(ctx, &dynamodb.QueryInput{IndexName: aws.String(IndexByStatus), Limit: aws.Int32(int32(limit))}, cond)
	return items, more && len(items) > 0 && len(items) < limit, err
}

// StaffOrder returns any customer's order id, or order.ErrNotFound: its
// owner item, then the order, both read consistently (two GetItems).
func (s *Store) StaffOrder(ctx context.Context, id string) (order.Order, error) {
	ref, err := s.locate(ctx, id)
	if err != nil {
		return order.Order{}, err
	}
	it, err := s.orderAt(ctx, ddb.Key(ref.OrderPK, orderSK(id)))
	return orderOf(it), err
}
