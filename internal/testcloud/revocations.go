//go:build integration

package testcloud

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/revocation"
)

// PutRevocations writes entries into table as the users service's
// transactions write them (revocation.Writes), in batches: a list of many
// entries made in a few seconds.
func PutRevocations(t testing.TB, db *dynamodb.Client, table string, entries []revocation.Entry) {
	t.Helper()
	var items []map[string]types.AttributeValue
	for _, e := range entries {
		for _, it := range revocation.Writes(table, e) {
			items = append(items, it.Put.Item)
		}
	}
	PutItems(t, db, table, items)
}
