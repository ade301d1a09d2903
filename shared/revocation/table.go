package revocation

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/shared/ddb"
)

// Table reads entries from the revocations table, always with consistent
// reads, so an entry is seen as soon as its transaction has committed.
type Table struct {
	db    ddb.QueryAPI
	table string
}

// NewTable reads from table.
func NewTable(db ddb.QueryAPI, table string) *Table { return &Table{db: db, table: table} }

// Since reads the feed's entries revoked after since that are still in
// force at now: what is new since a verifier's last read. Its cost is that
// of the entries it returns (one read unit when there are none), whatever
// the number of entries before since.
func (t *Table) Since(ctx context.Context, since, now time.Time) ([]Entry, error) {
	keys := expression.Key("PK").Equal(expression.Value(feedPK)).
		And(expression.Key("SK").GreaterThan(expression.Value(stamp(since))))
	return t.query(ctx, keys, now, "since "+since.Format(time.RFC3339Nano))
}

// ForUser reads the entries of one user still in force at now: a handful
// at most (a user's revocations are limited; see the users service).
func (t *Table) ForUser(ctx context.Context, userID string, now time.Time) ([]Entry, error) {
	return t.query(ctx, expression.Key("PK").Equal(expression.Value(userPK(userID))), now, "of user "+userID)
}

// query reads every page of a key condition, leaving out the entries that
// expired (the table's TTL deletes them lazily); its errors say which
// revocations it read.
func (t *Table) query(ctx context.Context, keys expression.KeyConditionBuilder, now time.Time, which string) ([]Entry, error) {
	expr, _ := expression.NewBuilder().WithKeyCondition(keys).Build() // a complete condition: it cannot fail
	p := dynamodb.NewQueryPaginator(t.db, &dynamodb.QueryInput{
		TableName: &t.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var entries []Entry
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		var records []record
		if err == nil {
			err = attributevalue.UnmarshalListOfMaps(page.Items, &records)
		}
		if err != nil {
			return nil, fmt.Errorf("read revocations %s: %w", which, err)
		}
		for _, r := range records {
			if expires := time.Unix(r.ExpiresAt, 0).UTC(); expires.After(now) {
				entries = append(entries, Entry{UserID: r.UserID, SessionID: r.SessionID, Epoch: r.Epoch,
					RevokedAt: time.UnixMilli(r.RevokedAtMs).UTC(), ExpiresAt: expires})
			}
		}
	}
	return entries, nil
}
