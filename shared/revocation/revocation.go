// Package revocation ends access tokens before they expire. An access token
// lives 15 minutes and is checked without a database, so logging out,
// changing a password or resetting it would otherwise leave the tokens
// already issued working until they expire.
//
// The users service writes an Entry into the revocations table in the same
// transaction as the change that calls for it: a logout revokes the tokens
// of one session (the token's sid), a password change or reset every token
// of the user issued under an older session epoch (the token's sep). Every
// service that verifies tokens keeps the current entries in memory,
// reloading them every few seconds (Checker), and refuses what they revoke.
// An entry is needed only until the last token it revokes would have
// expired anyway, so the list stays short: the revocations of the last
// quarter hour.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/ddb"
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
	// ExpiresAt is when the last token the entry revokes expires (with the
	// verifiers' leeway): after that the entry has nothing left to do.
	ExpiresAt time.Time
}

// Session revokes the tokens of one session of a user until until.
func Session(userID, sessionID string, until time.Time) Entry {
	return Entry{UserID: userID, SessionID: sessionID, ExpiresAt: until}
}

// User revokes the user's tokens of session epochs below epoch until until.
func User(userID string, epoch int64, until time.Time) Entry {
	return Entry{UserID: userID, Epoch: epoch, ExpiresAt: until}
}

// Until is how long an entry made at now must live for tokens of lifetime
// ttl: the longest a token issued just before now is still accepted.
func Until(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl + token.Leeway)
}

// The table holds every entry in one partition, sorted by expiry, so that
// one Query reads the entries still in force.
const partition = "REVOKED"

// item is an Entry as stored. The sort key starts with the expiry in
// milliseconds, fixed width, so that "SK > now" selects the live entries.
type item struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	UserID    string `dynamodbav:"userId"`
	SessionID string `dynamodbav:"sessionId,omitempty"`
	Epoch     int64  `dynamodbav:"epoch,omitempty"`
	ExpiresAt int64  `dynamodbav:"expiresAt"` // Unix seconds, the table's TTL attribute
}

func sortKeyAt(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }

func (e Entry) item() item {
	what := "U#" + e.UserID + "#" + strconv.FormatInt(e.Epoch, 10)
	if e.SessionID != "" {
		what = "S#" + e.SessionID
	}
	return item{
		PK: partition, SK: sortKeyAt(e.ExpiresAt) + "#" + what,
		UserID: e.UserID, SessionID: e.SessionID, Epoch: e.Epoch, ExpiresAt: e.ExpiresAt.Unix(),
	}
}

// Put is the transaction item that writes e into table. Writing the same
// entry twice (a retried transaction) writes one item.
func Put(table string, e Entry) (*types.Put, error) {
	if e.UserID == "" || e.ExpiresAt.IsZero() {
		return nil, errors.New("revocation: an entry needs a user and an expiry")
	}
	av, err := attributevalue.MarshalMap(e.item())
	if err != nil {
		return nil, fmt.Errorf("revocation entry: %w", err)
	}
	return &types.Put{TableName: aws.String(table), Item: av}, nil
}

// Set is the entries in force at one moment.
type Set struct {
	sessions map[string]bool  // revoked session ids
	epochs   map[string]int64 // per user: tokens of lower epochs are revoked
}

// NewSet collects entries.
func NewSet(entries ...Entry) Set {
	s := Set{sessions: map[string]bool{}, epochs: map[string]int64{}}
	for _, e := range entries {
		if e.SessionID != "" {
			s.sessions[e.SessionID] = true
		} else if e.Epoch > s.epochs[e.UserID] {
			s.epochs[e.UserID] = e.Epoch
		}
	}
	return s
}

// Len is the number of sessions and users the set revokes tokens of.
func (s Set) Len() int { return len(s.sessions) + len(s.epochs) }

// Revokes reports whether the set revokes a token with these claims.
func (s Set) Revokes(c token.Claims) bool {
	return s.sessions[c.SessionID] || c.SessionEpoch < s.epochs[c.Subject]
}

// Table reads the entries in force from the revocations table.
type Table struct {
	db    ddb.QueryAPI
	table string
}

// NewTable reads from table.
func NewTable(db ddb.QueryAPI, table string) *Table { return &Table{db: db, table: table} }

// Load reads the entries still in force at now, with a consistent read, so
// an entry is seen as soon as its transaction has committed.
func (t *Table) Load(ctx context.Context, now time.Time) (Set, error) {
	keys := expression.Key("PK").Equal(expression.Value(partition)).
		And(expression.Key("SK").GreaterThan(expression.Value(sortKeyAt(now))))
	expr, err := expression.NewBuilder().WithKeyCondition(keys).Build()
	if err != nil {
		return Set{}, fmt.Errorf("load revocations: %w", err)
	}
	p := dynamodb.NewQueryPaginator(t.db, &dynamodb.QueryInput{
		TableName: &t.table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var entries []Entry
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Set{}, fmt.Errorf("load revocations: %w", err)
		}
		var items []item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return Set{}, fmt.Errorf("load revocations: %w", err)
		}
		for _, it := range items {
			entries = append(entries, Entry{UserID: it.UserID, SessionID: it.SessionID, Epoch: it.Epoch, ExpiresAt: time.Unix(it.ExpiresAt, 0)})
		}
	}
	return NewSet(entries...), nil
}
