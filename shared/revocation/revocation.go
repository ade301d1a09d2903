// Package revocation ends access tokens before they expire. An access token
// lives 15 minutes and is checked without a database, so logging out,
// changing a password or resetting it would otherwise leave the tokens
// already issued working until they expire.
//
// The users service records an Entry in the revocations table in the same
// transaction as the change that calls for it: a logout revokes the tokens
// of one session (the token's sid), a password change or reset every token
// of the user issued under an older session epoch (the token's sep). Every
// service that verifies tokens checks them with a Checker, which costs the
// same whether the table holds ten entries or a hundred thousand:
//
//   - each entry is written twice: under its user (USER#<id>), where a
//     verifier looks up a user the first time it meets one of their tokens,
//     and in the feed (FEED, sorted by the time of the revocation), which
//     every verifier reads incrementally, the entries that are new since
//     its last read;
//   - so a verifier knows the entries of the users it has met, and learns
//     of new ones within its refresh interval, without ever reading the
//     whole list.
//
// An entry is needed only until the last token it revokes would have
// expired anyway (the token lifetime plus the verifiers' leeway); the
// table's TTL removes it after that.
package revocation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/token"
)

// Entry revokes access tokens issued before it.
type Entry struct {
	UserID string
	// SessionID, when set, revokes the tokens of that session (a logout).
	SessionID string
	// Epoch, for an entry without SessionID, revokes the user's tokens
	// whose session epoch is lower (a password change or reset).
	Epoch int64
	// RevokedAt is when the revocation was made; the feed is in its order.
	RevokedAt time.Time
	// ExpiresAt is when the last token the entry revokes expires (with the
	// verifiers' leeway): after that the entry has nothing left to do. For
	// an entry made at now and tokens of lifetime ttl, now + ttl + leeway:
	// the longest a token issued just before now is still accepted.
	ExpiresAt time.Time
}

// Session revokes, at now, the tokens of one session of a user, for tokens
// of lifetime ttl.
func Session(userID, sessionID string, now time.Time, ttl time.Duration) Entry {
	return Entry{UserID: userID, SessionID: sessionID, RevokedAt: now, ExpiresAt: now.Add(ttl + token.Leeway)}
}

// User revokes, at now, the user's tokens of session epochs below epoch,
// for tokens of lifetime ttl.
func User(userID string, epoch int64, now time.Time, ttl time.Duration) Entry {
	return Entry{UserID: userID, Epoch: epoch, RevokedAt: now, ExpiresAt: now.Add(ttl + token.Leeway)}
}

// Keys of the table. A user's entries share a partition (one Query reads
// them all); the feed is one partition sorted by the time of revocation,
// then user and what is revoked, so that "SK > t" selects what is new.
const (
	feedPK       = "FEED"
	sessionSK    = "S#"
	epochSK      = "EPOCH"
	feedSeparate = "#"
)

func userPK(id string) string { return "USER#" + id }

// stamp is a time as the feed sorts it: milliseconds, fixed width.
func stamp(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }

// record is an Entry as stored, under its user or in the feed.
type record struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	UserID      string `dynamodbav:"userId"`
	SessionID   string `dynamodbav:"sessionId,omitempty"`
	Epoch       int64  `dynamodbav:"epoch,omitempty"`
	RevokedAtMs int64  `dynamodbav:"revokedAtMs"`
	ExpiresAt   int64  `dynamodbav:"expiresAt"` // Unix seconds, the table's TTL attribute
}

// Writes are the transaction items that record e in table, to be written
// in the same transaction as the change that revokes: one under its user,
// one in the feed. A user's session entry is keyed by the session, so
// revoking a session twice writes one item; a user's epoch entry is one
// item, the latest epoch (epochs only grow). Writing the same entry again
// (a retried transaction) writes the same two items. e is an entry Session
// or User made: it has a user, a time and a later expiry.
func Writes(table string, e Entry) []types.TransactWriteItem {
	user := record{PK: userPK(e.UserID), SK: epochSK, UserID: e.UserID, SessionID: e.SessionID, Epoch: e.Epoch,
		RevokedAtMs: e.RevokedAt.UnixMilli(), ExpiresAt: e.ExpiresAt.Unix()}
	what := epochSK + feedSeparate + strconv.FormatInt(e.Epoch, 10)
	if e.SessionID != "" {
		what = sessionSK + e.SessionID
		user.SK = what
	}
	feed := user
	feed.PK, feed.SK = feedPK, strings.Join([]string{stamp(e.RevokedAt), e.UserID, what}, feedSeparate)
	var items []types.TransactWriteItem
	for _, r := range []record{user, feed} {
		av, _ := attributevalue.MarshalMap(r) // strings and numbers: it cannot fail
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: av}})
	}
	return items
}

// Table reads entries from the revocations table, always with consistent
// reads, so an entry is seen as soon as its transaction has committed.
type Table struct {
	db    dynamodb.QueryAPIClient
	table string
}

// NewTable reads from table.
func NewTable(db dynamodb.QueryAPIClient, table string) *Table { return &Table{db: db, table: table} }

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
