//go:build integration

package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/serverless-shop/backend/shared/ddb"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// TestRoleAsStored: the role is an attribute of the user's item only while
// the account is staff (a customer's is absent, as on accounts made before
// roles), and each change writes its revocation without counting it
// against the user's revocations of the hour.
func TestRoleAsStored(t *testing.T) {
	r := newRig(t)
	ctx, now := t.Context(), time.Now().UTC().Truncate(time.Millisecond)
	u := newUser(ulidLike(1), "stored-role@example.com", now)
	_, link, ev := verification(u, now)
	must(t, r.store.CreateUser(ctx, u, "old", link, ev))
	role := func() (string, bool) {
		t.Helper()
		out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &r.users, Key: ddb.Key("USER#"+u.ID, "PROFILE"), ConsistentRead: aws.Bool(true)})
		must(t, err)
		s, ok := out.Item["role"].(*types.AttributeValueMemberS)
		if !ok {
			return "", out.Item["role"] != nil
		}
		return s.Value, true
	}
	// epoch checks the user's revocation: one entry, of the latest epoch.
	epoch := func(want int64) {
		t.Helper()
		entries, err := revocation.NewTable(r.db, r.revocations).ForUser(ctx, u.ID, now)
		if must(t, err); len(entries) != 1 || entries[0].Epoch != want {
			t.Errorf("revocations %+v, want one of epoch %d", entries, want)
		}
	}
	if v, ok := role(); ok {
		t.Fatalf("a new account's item has role %q, want none", v)
	}
	must(t, r.store.SetRole(ctx, credentials(u.ID, "old", 0), token.RoleStaff, now, revocation.User(u.ID, 1, now, ttl)))
	if v, ok := role(); v != token.RoleStaff {
		t.Fatalf("after promotion: role %q (present %v), want staff", v, ok)
	}
	epoch(1)
	must(t, r.store.SetRole(ctx, credentials(u.ID, "old", 1), token.RoleCustomer, now, revocation.User(u.ID, 2, now, ttl)))
	if v, ok := role(); ok {
		t.Fatalf("after demotion: role %q, want the attribute gone", v)
	}
	epoch(2)
	out, err := r.db.Scan(ctx, &dynamodb.ScanInput{TableName: &r.users})
	must(t, err)
	for _, item := range out.Items {
		if pk, _ := item["PK"].(*types.AttributeValueMemberS); pk != nil && strings.HasPrefix(pk.Value, "LIMIT#") {
			t.Errorf("a role change counted against a limit: %v", pk.Value)
		}
	}
}
