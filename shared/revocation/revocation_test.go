package revocation_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func claims(user, session string, epoch int64) token.Claims {
	return token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: user}, SessionID: session, SessionEpoch: epoch}
}

func TestSetRevokes(t *testing.T) {
	t.Parallel()
	until := t0.Add(time.Hour)
	s := revocation.NewSet(
		revocation.Session("ada", "ada-laptop", until),
		revocation.User("bob", 2, until),
		revocation.User("bob", 1, until), // an older change: the higher epoch wins
	)
	tests := []struct {
		name string
		c    token.Claims
		want bool
	}{
		{"the logged-out session", claims("ada", "ada-laptop", 0), true},
		{"another session of the same user", claims("ada", "ada-phone", 0), false},
		{"a token from before the password change", claims("bob", "bob-1", 1), true},
		{"an older one still", claims("bob", "bob-1", 0), true},
		{"a token from after it", claims("bob", "bob-2", 2), false},
		{"someone else", claims("cy", "cy-1", 0), false},
	}
	for _, tc := range tests {
		if got := s.Revokes(tc.c); got != tc.want {
			t.Errorf("%s: Revokes = %v, want %v", tc.name, got, tc.want)
		}
	}
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2 (one session, one user)", s.Len())
	}
}

func TestPutKeysEntriesByExpiry(t *testing.T) {
	t.Parallel()
	if _, err := revocation.Put("t", revocation.Entry{UserID: "ada"}); err == nil {
		t.Error("Put accepted an entry without an expiry")
	}
	a, err := revocation.Put("t", revocation.Session("ada", "s", t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := revocation.Put("t", revocation.User("ada", 3, t0.Add(time.Hour)))
	sk := func(p *types.Put) string { return p.Item["SK"].(*types.AttributeValueMemberS).Value }
	if !(sk(a) < sk(b)) {
		t.Errorf("sort keys %q, %q do not follow the expiries", sk(a), sk(b))
	}
	again, _ := revocation.Put("t", revocation.Session("ada", "s", t0.Add(time.Minute)))
	if sk(again) != sk(a) {
		t.Error("the same entry got two keys: a retried transaction would write it twice")
	}
}

// loader answers from a script.
type loader struct {
	calls int
	set   revocation.Set
	err   error
}

func (l *loader) Load(context.Context, time.Time) (revocation.Set, error) {
	l.calls++
	return l.set, l.err
}

// clock is a test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newChecker(l *loader, c *clock) *revocation.Checker {
	k := revocation.NewChecker(l, 10*time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	revocation.SetClock(k, c.Now)
	return k
}

func TestCheckerReloadsEveryRefresh(t *testing.T) {
	t.Parallel()
	c := &clock{now: t0}
	l := &loader{set: revocation.NewSet()}
	k := newChecker(l, c)
	ctx := context.Background()
	tok := claims("ada", "ada-laptop", 0)
	if err := k.Check(ctx, tok); err != nil || l.calls != 1 {
		t.Fatalf("first check: %v after %d loads; want nil after 1", err, l.calls)
	}
	// Logged out meanwhile: the checker learns it at the next reload.
	l.set = revocation.NewSet(revocation.Session("ada", "ada-laptop", t0.Add(time.Hour)))
	c.now = t0.Add(9 * time.Second)
	if err := k.Check(ctx, tok); err != nil || l.calls != 1 {
		t.Fatalf("within the refresh: %v after %d loads; want the cached answer", err, l.calls)
	}
	c.now = t0.Add(10 * time.Second)
	if err := k.Check(ctx, tok); !errors.Is(err, revocation.ErrRevoked) || l.calls != 2 {
		t.Fatalf("after the refresh: %v after %d loads; want ErrRevoked after 2", err, l.calls)
	}
}

func TestCheckerOutage(t *testing.T) {
	t.Parallel()
	c := &clock{now: t0}
	l := &loader{set: revocation.NewSet()}
	k := newChecker(l, c)
	ctx := context.Background()
	tok := claims("ada", "ada-laptop", 0)
	if err := k.Check(ctx, tok); err != nil {
		t.Fatal(err)
	}
	l.err = errors.New("throttled")
	// Stale but within the bound: the last list still answers; a failed
	// load is retried at most once a second.
	c.now = t0.Add(20 * time.Second)
	if err := k.Check(ctx, tok); err != nil || l.calls != 2 {
		t.Fatalf("stale list: %v after %d loads", err, l.calls)
	}
	c.now = c.now.Add(500 * time.Millisecond)
	_ = k.Check(ctx, tok)
	if l.calls != 2 {
		t.Errorf("%d loads within a second of a failure, want no new attempt", l.calls)
	}
	// Past the bound: no token is vouched for.
	c.now = t0.Add(45 * time.Second)
	if err := k.Check(ctx, tok); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("list 45 s old: %v, want ErrUnavailable", err)
	}
	// The table answers again: back to normal.
	l.err = nil
	c.now = c.now.Add(time.Second)
	if err := k.Check(ctx, tok); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

func TestCheckerNeverLoaded(t *testing.T) {
	t.Parallel()
	k := newChecker(&loader{err: errors.New("no table")}, &clock{now: t0})
	if err := k.Check(context.Background(), claims("ada", "s", 0)); !errors.Is(err, revocation.ErrUnavailable) {
		t.Fatalf("Check without a list = %v, want ErrUnavailable", err)
	}
}
