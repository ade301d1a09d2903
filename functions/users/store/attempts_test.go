package store

import (
	"testing"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

// TestBucketsAndFailuresAtNow: a bucket or a source's failures read after
// they are forgotten are empty (DynamoDB's TTL deletion lags), and before
// it they are as stored; a bucket without a wait has no NextAt.
func TestBucketsAndFailuresAtNow(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	ms := now.UnixMilli()
	for _, tt := range []struct {
		name     string
		item     loginItem
		bucket   account.Bucket
		failures account.Failures
	}{
		{"missing", loginItem{}, account.Bucket{}, account.Failures{}},
		{"live", loginItem{Attempts: 6, NextAtMs: ms + 1000, ForgetAtMs: ms + 1, Failures: 3, LastMs: ms - 1000},
			account.Bucket{Attempts: 6, NextAt: now.Add(time.Second)}, account.Failures{Count: 3, Last: now.Add(-time.Second)}},
		{"no wait", loginItem{Attempts: 2, ForgetAtMs: ms + 1}, account.Bucket{Attempts: 2}, account.Failures{}},
		{"device bucket, never forgotten", loginItem{Attempts: 2}, account.Bucket{Attempts: 2}, account.Failures{}},
		{"forgotten", loginItem{Attempts: 6, NextAtMs: ms + 1000, ForgetAtMs: ms, Failures: 3, LastMs: ms - 1000}, account.Bucket{}, account.Failures{}},
	} {
		if b, f := tt.item.bucket(now), tt.item.failures(now); b != tt.bucket || f != tt.failures {
			t.Errorf("%s: bucket %+v, failures %+v; want %+v, %+v", tt.name, b, f, tt.bucket, tt.failures)
		}
	}
}

// TestConditionsAllHold: the conditions given to an item are joined with
// AND, and an item without any has none.
func TestConditionsAllHold(t *testing.T) {
	tx := (&Store{table: "users"}).tx().
		delete(userKey("u"), exists(), is("a", 1), is("b", 2)).
		check(userKey("u"), is("a", 1)).
		update(userKey("u"), set("a", 2))
	if tx.err != nil {
		t.Fatal(tx.err)
	}
	if got, want := *tx.items[0].Delete.ConditionExpression, "(attribute_exists (#0)) AND (#1 = :0) AND (#2 = :1)"; got != want {
		t.Errorf("condition %q, want %q", got, want)
	}
	if got, want := *tx.items[1].ConditionCheck.ConditionExpression, "#0 = :0"; got != want {
		t.Errorf("condition %q, want %q", got, want)
	}
	if c := tx.items[2].Update.ConditionExpression; c != nil {
		t.Errorf("condition %q, want none", *c)
	}
}
