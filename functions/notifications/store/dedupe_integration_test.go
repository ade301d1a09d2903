//go:build integration

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/notifications/app"
	"github.com/serverless-shop/backend/functions/notifications/store"
	"github.com/serverless-shop/backend/internal/testcloud"
)

func TestClaimLifecycle(t *testing.T) {
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	s := store.New(db, testcloud.NewTable(t, db, testcloud.TableSpec{}))
	ctx := context.Background()
	now := time.Now().UTC()

	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"first claim", func() error { return s.Claim(ctx, "ev-1", "a", now) }, nil},
		{"the SDK retries the same claim", func() error { return s.Claim(ctx, "ev-1", "a", now) }, nil},
		{"another delivery while leased", func() error { return s.Claim(ctx, "ev-1", "b", now.Add(time.Second)) }, app.ErrBusy},
		{"lease lapsed: taken over", func() error { return s.Claim(ctx, "ev-1", "b", now.Add(store.Lease+time.Second)) }, nil},
		{"the first owner cannot finish", func() error { return s.Finish(ctx, "ev-1", "a", app.Sent, "m-a", "") }, errAny},
		{"the new owner finishes", func() error { return s.Finish(ctx, "ev-1", "b", app.Sent, "m-b", "") }, nil},
		{"a redelivery after sending", func() error { return s.Claim(ctx, "ev-1", "c", now.Add(time.Hour)) }, app.ErrDone},
		{"a rejected event's claim", func() error { return s.Claim(ctx, "ev-2", "a", now) }, nil},
		{"its rejection recorded", func() error { return s.Finish(ctx, "ev-2", "a", app.Rejected, "", "MessageRejected") }, nil},
		{"rejected events are done too", func() error { return s.Claim(ctx, "ev-2", "b", now.Add(store.Lease*2)) }, app.ErrDone},
		{"a claim to release", func() error { return s.Claim(ctx, "ev-3", "a", now) }, nil},
		{"a release by another owner", func() error { return s.Release(ctx, "ev-3", "b") }, nil},
		{"has no effect", func() error { return s.Claim(ctx, "ev-3", "b", now) }, app.ErrBusy},
		{"the owner releases", func() error { return s.Release(ctx, "ev-3", "a") }, nil},
		{"released claims are free at once", func() error { return s.Claim(ctx, "ev-3", "b", now) }, nil},
	}
	for _, st := range steps {
		err := st.do()
		switch {
		case st.want == errAny && err == nil:
			t.Fatalf("%s: succeeded, want an error", st.name)
		case st.want != errAny && !errors.Is(err, st.want) && !(st.want == nil && err == nil):
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
}

var errAny = errors.New("any error")
