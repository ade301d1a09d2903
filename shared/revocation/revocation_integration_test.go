//go:build integration

package revocation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/revocation"
)

// TestTableReadsTheFeedAndTheUser writes entries as the users service does
// (the items of revocation.Writes, which carry no condition), and reads
// them back as a verifier does: what is new in the feed, every page of it,
// and one user's entries.
func TestTableReadsTheFeedAndTheUser(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	table := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})
	now := time.Now()

	logout := revocation.Session("ada", "ada-laptop", now.Add(-time.Minute), 15*time.Minute)
	testcloud.PutRevocations(t, db, table, []revocation.Entry{
		logout,
		revocation.Session("old", "old-session", now.Add(-20*time.Minute), 15*time.Minute), // its tokens expired already
		revocation.User("bob", 2, now.Add(-2*time.Second), 15*time.Minute),
	})
	testcloud.PutRevocations(t, db, table, []revocation.Entry{logout}) // a retried logout

	src := revocation.NewTable(db, table)
	feed, err := src.Since(ctx, now.Add(-10*time.Minute), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(feed) != 2 || feed[0].SessionID != "ada-laptop" || feed[1].UserID != "bob" || feed[1].Epoch != 2 {
		t.Fatalf("feed since 10 minutes ago = %+v, want ada's logout then bob's password change (the expired entry left out)", feed)
	}
	if recent, _ := src.Since(ctx, now.Add(-30*time.Second), now); len(recent) != 1 || recent[0].UserID != "bob" {
		t.Fatalf("feed since 30 s ago = %+v, want bob's change alone", recent)
	}
	ada, err := src.ForUser(ctx, "ada", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ada) != 1 || ada[0].SessionID != logout.SessionID || ada[0].RevokedAt.UnixMilli() != logout.RevokedAt.UnixMilli() || ada[0].ExpiresAt.Unix() != logout.ExpiresAt.Unix() {
		t.Fatalf("ada's entries = %+v, want her logout once", ada)
	}
	if old, _ := src.ForUser(ctx, "old", now); len(old) != 0 {
		t.Fatalf("an expired entry was read: %+v", old)
	}

	// A feed longer than one Query page is read whole.
	paged := testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})
	var entries []revocation.Entry
	for i := range 120 {
		entries = append(entries, revocation.Session("u", fmt.Sprint("session-", i), now.Add(-time.Duration(i)*time.Second), 15*time.Minute))
	}
	testcloud.PutRevocations(t, db, paged, entries)
	if feed, err := revocation.NewTable(limitedPages{db}, paged).Since(ctx, now.Add(-time.Hour), now); err != nil || len(feed) != len(entries) {
		t.Fatalf("read %d entries of a feed of %d, %v", len(feed), len(entries), err)
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
