//go:build integration

package awscalls

import (
	"context"
	"math"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// AWS's documented capacity rules (DynamoDB Developer Guide, "Read/write
// capacity mode" and "Managing capacity for transactions", and "Item sizes"):
//
//   - a read unit is one strongly consistent read of up to 4 KB per second,
//     or two eventually consistent ones (0.5 unit each); a transactional
//     read costs 2. A read of a missing item costs the minimum.
//   - GetItem and each item of BatchGetItem round their item's size up to
//     4 KB; Query and Scan add up the sizes of the items read and round
//     the sum up once.
//   - a write unit is one write of up to 1 KB; a transactional write costs
//     2 per KB. A write is priced by the larger of the item before and
//     after it; a failed conditional write still costs at least 1 unit.
const (
	readBlock  = 4096
	writeBlock = 1024
)

// askCapacity asks DynamoDB to report what a call consumed.
func askCapacity(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = total
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = total
	}
}

// reported is the capacity a DynamoDB answer reports.
func reported(result any) (Units, bool) {
	one := func(c *types.ConsumedCapacity, write bool) (Units, bool) {
		if c == nil {
			return Units{}, false
		}
		units := aws.ToFloat64(c.CapacityUnits)
		if c.WriteCapacityUnits != nil || c.ReadCapacityUnits != nil {
			return Units{aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)}, true
		}
		if write {
			return Units{Write: units}, true
		}
		return Units{Read: units}, true
	}
	many := func(cs []types.ConsumedCapacity, write bool) (Units, bool) {
		var sum Units
		for i := range cs {
			u, _ := one(&cs[i], write)
			sum = sum.Add(u)
		}
		return sum, len(cs) > 0
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity, false)
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity, false)
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity, false)
	case *dynamodb.BatchGetItemOutput:
		return many(out.ConsumedCapacity, false)
	case *dynamodb.TransactGetItemsOutput:
		return many(out.ConsumedCapacity, false)
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity, true)
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity, true)
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity, true)
	case *dynamodb.BatchWriteItemOutput:
		return many(out.ConsumedCapacity, true)
	case *dynamodb.TransactWriteItemsOutput:
		return many(out.ConsumedCapacity, true)
	}
	return Units{}, false
}

// sizer prices calls by the rules, reading the items writes touch through
// a client of its own.
type sizer struct{ db *dynamodb.Client }

// target is an item a write touches.
type target struct {
	table string
	key   map[string]types.AttributeValue
	put   map[string]types.AttributeValue // the item a put writes
	txn   bool
}

func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	key := map[string]types.AttributeValue{}
	for _, name := range []string{"PK", "SK"} { // every table of the template
		if v, ok := item[name]; ok {
			key[name] = v
		}
	}
	return key
}

func targets(params any) []target {
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		return []target{{table: aws.ToString(in.TableName), key: keyOf(in.Item), put: in.Item}}
	case *dynamodb.UpdateItemInput:
		return []target{{table: aws.ToString(in.TableName), key: in.Key}}
	case *dynamodb.DeleteItemInput:
		return []target{{table: aws.ToString(in.TableName), key: in.Key}}
	case *dynamodb.BatchWriteItemInput:
		var ts []target
		for table, writes := range in.RequestItems {
			for _, w := range writes {
				switch {
				case w.PutRequest != nil:
					ts = append(ts, target{table: table, key: keyOf(w.PutRequest.Item), put: w.PutRequest.Item})
				case w.DeleteRequest != nil:
					ts = append(ts, target{table: table, key: w.DeleteRequest.Key})
				}
			}
		}
		return ts
	case *dynamodb.TransactWriteItemsInput:
		var ts []target
		for _, w := range in.TransactItems {
			switch {
			case w.Put != nil:
				ts = append(ts, target{table: aws.ToString(w.Put.TableName), key: keyOf(w.Put.Item), put: w.Put.Item, txn: true})
			case w.Update != nil:
				ts = append(ts, target{table: aws.ToString(w.Update.TableName), key: w.Update.Key, txn: true})
			case w.Delete != nil:
				ts = append(ts, target{table: aws.ToString(w.Delete.TableName), key: w.Delete.Key, txn: true})
			case w.ConditionCheck != nil:
				ts = append(ts, target{table: aws.ToString(w.ConditionCheck.TableName), key: w.ConditionCheck.Key, txn: true})
			}
		}
		return ts
	}
	return nil
}

// before reads the sizes of the items a write is about to touch.
func (s *sizer) before(ctx context.Context, params any) []int {
	ts := targets(params)
	sizes := make([]int, len(ts))
	for i, t := range ts {
		sizes[i] = s.size(ctx, t)
	}
	return sizes
}

func (s *sizer) size(ctx context.Context, t target) int {
	if s.db == nil {
		return 0
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.table, Key: t.key, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return 0
	}
	return ItemSize(out.Item)
}

// ItemWrite is what one item of a write costs by the rules.
type ItemWrite struct {
	SortKey string // the item's SK ("" on tables without one)
	WCU     float64
}

// price applies the rules to a call.
func (s *sizer) price(ctx context.Context, params, result any, before []int, callErr error) (Units, []ItemWrite) {
	if ts := targets(params); ts != nil {
		var w float64
		items := make([]ItemWrite, len(ts))
		for i, t := range ts {
			size := max(before[i], s.size(ctx, t))
			if callErr != nil && t.put != nil {
				size = max(size, ItemSize(t.put)) // a failed write is priced as the write it tried
			}
			units := blocks(size, writeBlock)
			if t.txn {
				units *= 2
			}
			w += units
			sk, _ := t.key["SK"].(*types.AttributeValueMemberS)
			if sk != nil {
				items[i].SortKey = sk.Value
			}
			items[i].WCU = units
		}
		return Units{Write: w}, items
	}
	return s.priceRead(params, result), nil
}

func (s *sizer) priceRead(params, result any) Units {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		out, _ := result.(*dynamodb.GetItemOutput)
		size := 0
		if out != nil {
			size = ItemSize(out.Item)
		}
		return Units{Read: blocks(size, readBlock) * consistency(in.ConsistentRead)}
	case *dynamodb.BatchGetItemInput:
		out, _ := result.(*dynamodb.BatchGetItemOutput)
		var r float64
		for table, ka := range in.RequestItems {
			var items []map[string]types.AttributeValue
			if out != nil {
				items = out.Responses[table]
			}
			unprocessed := 0
			if out != nil {
				unprocessed = len(out.UnprocessedKeys[table].Keys)
			}
			for _, item := range items {
				r += blocks(ItemSize(item), readBlock) * consistency(ka.ConsistentRead)
			}
			missing := len(ka.Keys) - unprocessed - len(items)
			r += float64(max(missing, 0)) * consistency(ka.ConsistentRead)
		}
		return Units{Read: r}
	case *dynamodb.QueryInput:
		out, _ := result.(*dynamodb.QueryOutput)
		return Units{Read: blocks(sumSizes(out), readBlock) * consistency(in.ConsistentRead)}
	}
	return Units{}
}

func sumSizes(out *dynamodb.QueryOutput) int {
	if out == nil {
		return 0
	}
	total := 0
	for _, item := range out.Items {
		total += ItemSize(item)
	}
	return total
}

// consistency is what one block of a read costs.
func consistency(consistent *bool) float64 {
	if aws.ToBool(consistent) {
		return 1
	}
	return 0.5
}

// blocks is the number of started blocks of size bytes, at least one.
func blocks(size, block int) float64 {
	return math.Max(1, math.Ceil(float64(size)/float64(block)))
}

// ItemSize is an item's size by DynamoDB's rules: the UTF-8 lengths of
// attribute names and string values, binary lengths, numbers at about one
// byte per two significant digits plus one, one byte for booleans and
// nulls, and 3 bytes for each list or map plus 1 per element.
func ItemSize(item map[string]types.AttributeValue) int {
	total := 0
	for name, v := range item {
		total += len(name) + valueSize(v)
	}
	return total
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

func numberSize(n string) int {
	digits := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.SplitN(strings.ToLower(n), "e", 2)[0]), "0")
	digits = strings.TrimRight(digits, "0")
	size := 1 + (len(digits)+1)/2
	if strings.HasPrefix(n, "-") {
		size++
	}
	return size
}
