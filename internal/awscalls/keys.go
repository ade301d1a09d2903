//go:build integration

package awscalls

import (
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// partitionAttr is the partition key attribute of every table of the
// template (and of the tables testcloud makes).
const partitionAttr = "PK"

// Key is a partition key value of a table.
type Key struct {
	Table string // the table's name, or the name given with NameTable
	Value string // the partition key's value (strings only: every table's PK is S)
}

// item is one item a DynamoDB call names in its input: the one model of a
// call's items that its keys (keysOf) and its price (rules.go) are read from.
type item struct {
	table string
	key   map[string]types.AttributeValue
	put   map[string]types.AttributeValue // the item a put writes
	write bool                            // the call writes (or, in a transaction, checks) it
	txn   bool                            // in a transaction
}

// items returns the items a DynamoDB call's input names (none for a Query
// or a Scan, which name a key condition or nothing).
func items(params any) []item {
	var out []item
	add := func(table *string, key, put map[string]types.AttributeValue, write, txn bool) {
		if put != nil {
			key = keyOf(put)
		}
		out = append(out, item{table: aws.ToString(table), key: key, put: put, write: write, txn: txn})
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		add(in.TableName, in.Key, nil, false, false)
	case *dynamodb.PutItemInput:
		add(in.TableName, nil, in.Item, true, false)
	case *dynamodb.UpdateItemInput:
		add(in.TableName, in.Key, nil, true, false)
	case *dynamodb.DeleteItemInput:
		add(in.TableName, in.Key, nil, true, false)
	case *dynamodb.BatchGetItemInput:
		for table, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				add(&table, k, nil, false, false)
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for table, writes := range in.RequestItems {
			for _, w := range writes {
				switch {
				case w.PutRequest != nil:
					add(&table, nil, w.PutRequest.Item, true, false)
				case w.DeleteRequest != nil:
					add(&table, w.DeleteRequest.Key, nil, true, false)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, w := range in.TransactItems {
			switch {
			case w.Put != nil:
				add(w.Put.TableName, nil, w.Put.Item, true, true)
			case w.Update != nil:
				add(w.Update.TableName, w.Update.Key, nil, true, true)
			case w.Delete != nil:
				add(w.Delete.TableName, w.Delete.Key, nil, true, true)
			case w.ConditionCheck != nil:
				add(w.ConditionCheck.TableName, w.ConditionCheck.Key, nil, true, true)
			}
		}
	}
	return out
}

// keyOf is the primary key of an item.
func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	key := map[string]types.AttributeValue{}
	for _, name := range []string{partitionAttr, "SK"} { // every table of the template
		if v, ok := item[name]; ok {
			key[name] = v
		}
	}
	return key
}

// keysOf returns the partition keys a DynamoDB call reads or writes: those
// of its items, and the partition key equality of a Query's key condition.
func keysOf(params any, its []item) []Key {
	var out []Key
	for _, it := range its {
		if v, ok := it.key[partitionAttr].(*types.AttributeValueMemberS); ok {
			out = append(out, Key{Table: it.table, Value: v.Value})
		}
	}
	if in, ok := params.(*dynamodb.QueryInput); ok && in.IndexName == nil { // an index has keys of its own
		if v, ok := queryPartition(aws.ToString(in.KeyConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues); ok {
			out = append(out, Key{Table: aws.ToString(in.TableName), Value: v})
		}
	}
	return out
}

// equality matches "name = :value" in a key condition, the name a plain
// attribute name or a #placeholder.
var equality = regexp.MustCompile(`([#A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)`)

// queryPartition finds the partition key's value in a Query's key
// condition ("PK = :pk", or "(#0 = :0) AND (#1 > :1)" as the SDK's
// expression builder writes it).
func queryPartition(cond string, names map[string]string, values map[string]types.AttributeValue) (string, bool) {
	for _, m := range equality.FindAllStringSubmatch(cond, -1) {
		name := m[1]
		if strings.HasPrefix(name, "#") {
			name = names[name]
		}
		if name != partitionAttr {
			continue
		}
		if v, ok := values[m[2]].(*types.AttributeValueMemberS); ok {
			return v.Value, true
		}
	}
	return "", false
}
