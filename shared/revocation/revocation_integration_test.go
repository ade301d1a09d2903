//go:build integration

package revocation_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/revocation"
)

// TestTableLoadsTheEntriesInForce writes entries as the users service does,
// inside transactions, and reads them back as a verifier does.
func TestTableLoadsTheEntriesInForce(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})
	now := time.Now()

	write := func(entries ...revocation.Entry) {
		t.Helper()
		var items []types.TransactWriteItem
		for _, e := range entries {
			put, err := revocation.Put(table, e)
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, types.TransactWriteItem{Put: put})
		}
		if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
			t.Fatal(err)
		}
	}
	write(
		revocation.Session("ada", "ada-laptop", now.Add(15*time.Minute)),
		revocation.Session("old", "old-session", now.Add(-time.Second)), // its tokens expired already
		revocation.User("bob", 2, now.Add(15*time.Minute)),
	)
	write(revocation.Session("ada", "ada-laptop", now.Add(15*time.Minute))) // a retried logout

	set, err := revocation.NewTable(db, table).Load(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 2 {
		t.Errorf("loaded %d revocations, want 2 (the expired one left out)", set.Len())
	}
	for name, c := range map[string]struct {
		user, session string
		epoch         int64
		want          bool
	}{
		"logged out":       {"ada", "ada-laptop", 0, true},
		"password changed": {"bob", "bob-1", 1, true},
		"after the change": {"bob", "bob-2", 2, false},
		"expired entry":    {"old", "old-session", 0, false},
	} {
		if got := set.Revokes(claims(c.user, c.session, c.epoch)); got != c.want {
			t.Errorf("%s: Revokes = %v, want %v", name, got, c.want)
		}
	}
}

// TestTableLoadsEveryPage checks that a list longer than one Query page
// (1 MB) is read whole.
func TestTableLoadsEveryPage(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})
	until := time.Now().Add(15 * time.Minute)
	const n = 300
	var batch []types.WriteRequest
	for i := range n {
		put, err := revocation.Put(table, revocation.Session("u", "session-"+time.Duration(i).String(), until))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: put.Item}})
		if len(batch) == 25 || i == n-1 {
			if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}}); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	set, err := revocation.NewTable(limitedPages{db}, table).Load(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != n {
		t.Fatalf("loaded %d revocations, want %d", set.Len(), n)
	}
}

// limitedPages makes every Query page hold at most 50 items, so that the
// paging is exercised without writing megabytes.
type limitedPages struct{ db *dynamodb.Client }

func (l limitedPages) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	limit := int32(50)
	in.Limit = &limit
	return l.db.Query(ctx, in, opts...)
}
