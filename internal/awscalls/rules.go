//go:build integration

package awscalls

import (
	"cmp"
	"context"
	"math"
	"reflect"
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

// askCapacity asks DynamoDB to report what a call consumed: every input
// that can report it has a ReturnConsumedCapacity field.
func askCapacity(params any) {
	if f := field(params, "ReturnConsumedCapacity"); f.IsValid() {
		f.Set(reflect.ValueOf(types.ReturnConsumedCapacityTotal))
	}
}

// reported is the capacity a DynamoDB answer reports: its ConsumedCapacity
// field, one or a list (units a reply does not split are reads, or writes
// for a call that writes).
func reported(result any, write bool) (Units, bool) {
	var caps []types.ConsumedCapacity
	if f := field(result, "ConsumedCapacity"); f.IsValid() {
		switch c := f.Interface().(type) {
		case *types.ConsumedCapacity:
			if c != nil {
				caps = []types.ConsumedCapacity{*c}
			}
		case []types.ConsumedCapacity:
			caps = c
		}
	}
	var sum Units
	for _, c := range caps {
		switch {
		case c.ReadCapacityUnits != nil || c.WriteCapacityUnits != nil:
			sum = sum.Add(Units{aws.ToFloat64(c.ReadCapacityUnits), aws.ToFloat64(c.WriteCapacityUnits)})
		case write:
			sum.Write += aws.ToFloat64(c.CapacityUnits)
		default:
			sum.Read += aws.ToFloat64(c.CapacityUnits)
		}
	}
	return sum, len(caps) > 0
}

// field is the field name of the struct p points to, if it has one.
func field(p any, name string) reflect.Value {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// before reads the sizes of the items a write is about to touch.
func (r *Recorder) before(ctx context.Context, ws []item) []int {
	sizes := make([]int, len(ws))
	for i, w := range ws {
		sizes[i] = r.size(ctx, w)
	}
	return sizes
}

func (r *Recorder) size(ctx context.Context, it item) int {
	if r.shadow == nil {
		return 0
	}
	out, err := r.shadow.GetItem(ctx, &dynamodb.GetItemInput{TableName: &it.table, Key: it.key, ConsistentRead: aws.Bool(true)})
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

// price applies the rules to a call whose written items (ws) were before
// in size.
func (r *Recorder) price(ctx context.Context, params, result any, ws []item, before []int, callErr error) (Units, []ItemWrite) {
	if len(ws) == 0 {
		return priceRead(params, result), nil
	}
	var w float64
	priced := make([]ItemWrite, len(ws))
	for i, it := range ws {
		size := max(before[i], r.size(ctx, it))
		if callErr != nil && it.put != nil {
			size = max(size, ItemSize(it.put)) // a failed write is priced as the write it tried
		}
		units := blocks(size, writeBlock)
		if it.txn {
			units *= 2
		}
		w += units
		if sk, ok := it.key["SK"].(*types.AttributeValueMemberS); ok {
			priced[i].SortKey = sk.Value
		}
		priced[i].WCU = units
	}
	return Units{Write: w}, priced
}

// priceRead prices a read; a call that failed read what an empty answer
// holds.
func priceRead(params, result any) Units {
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		out, _ := result.(*dynamodb.GetItemOutput)
		out = cmp.Or(out, &dynamodb.GetItemOutput{})
		return Units{Read: blocks(ItemSize(out.Item), readBlock) * consistency(in.ConsistentRead)}
	case *dynamodb.BatchGetItemInput:
		out, _ := result.(*dynamodb.BatchGetItemOutput)
		out = cmp.Or(out, &dynamodb.BatchGetItemOutput{})
		var r float64
		for table, ka := range in.RequestItems {
			items, unprocessed := out.Responses[table], len(out.UnprocessedKeys[table].Keys)
			for _, item := range items {
				r += blocks(ItemSize(item), readBlock) * consistency(ka.ConsistentRead)
			}
			missing := len(ka.Keys) - unprocessed - len(items)
			r += float64(max(missing, 0)) * consistency(ka.ConsistentRead)
		}
		return Units{Read: r}
	case *dynamodb.QueryInput:
		out, _ := result.(*dynamodb.QueryOutput)
		out = cmp.Or(out, &dynamodb.QueryOutput{})
		return Units{Read: blocks(sum(out.Items, ItemSize), readBlock) * consistency(in.ConsistentRead)}
	}
	return Units{}
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
		return sum(v.Value, func(s string) int { return len(s) })
	case *types.AttributeValueMemberNS:
		return sum(v.Value, numberSize)
	case *types.AttributeValueMemberBS:
		return sum(v.Value, func(b []byte) int { return len(b) })
	case *types.AttributeValueMemberL:
		return 3 + sum(v.Value, func(e types.AttributeValue) int { return 1 + valueSize(e) })
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// sum adds up f of each of xs.
func sum[T any](xs []T, f func(T) int) int {
	n := 0
	for _, x := range xs {
		n += f(x)
	}
	return n
}

func numberSize(n string) int {
	digits := strings.Trim(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, strings.SplitN(strings.ToLower(n), "e", 2)[0]), "0")
	size := 1 + (len(digits)+1)/2
	if strings.HasPrefix(n, "-") {
		size++
	}
	return size
}
