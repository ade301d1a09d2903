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

// keysOf returns the partition keys a DynamoDB call reads or writes, from
// its input: the keys and items named, and the partition key equality of a
// Query's key condition.
func keysOf(params any) []Key {
	var out []Key
	add := func(table *string, item map[string]types.AttributeValue) {
		if v, ok := item[partitionAttr].(*types.AttributeValueMemberS); ok {
			out = append(out, Key{Table: aws.ToString(table), Value: v.Value})
		}
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		add(in.TableName, in.Key)
	case *dynamodb.PutItemInput:
		add(in.TableName, in.Item)
	case *dynamodb.UpdateItemInput:
		add(in.TableName, in.Key)
	case *dynamodb.DeleteItemInput:
		add(in.TableName, in.Key)
	case *dynamodb.BatchGetItemInput:
		for table, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				add(aws.String(table), k)
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for table, writes := range in.RequestItems {
			for _, w := range writes {
				switch {
				case w.PutRequest != nil:
					add(aws.String(table), w.PutRequest.Item)
				case w.DeleteRequest != nil:
					add(aws.String(table), w.DeleteRequest.Key)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, w := range in.TransactItems {
			switch {
			case w.Put != nil:
				add(w.Put.TableName, w.Put.Item)
			case w.Update != nil:
				add(w.Update.TableName, w.Update.Key)
			case w.Delete != nil:
				add(w.Delete.TableName, w.Delete.Key)
			case w.ConditionCheck != nil:
				add(w.ConditionCheck.TableName, w.ConditionCheck.Key)
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, g := range in.TransactItems {
			if g.Get != nil {
				add(g.Get.TableName, g.Get.Key)
			}
		}
	case *dynamodb.QueryInput:
		if in.IndexName == nil { // an index has keys of its own
			if v, ok := queryPartition(aws.ToString(in.KeyConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues); ok {
				out = append(out, Key{Table: aws.ToString(in.TableName), Value: v})
			}
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
