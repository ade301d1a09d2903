package revocation_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/serverless-shop/backend/shared/coldstart"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

const ttl = 15 * time.Minute

func claims(user, session string, epoch int64) token.Claims {
	return token.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: user}, SessionID: session, SessionEpoch: epoch}
}

func TestSetRevokes(t *testing.T) {
	t.Parallel()
	s := revocation.NewSet(
		revocation.Session("ada", "ada-laptop", t0, ttl),
		revocation.User("bob", 2, t0, ttl),
		revocation.User("bob", 1, t0, ttl), // an older change: the higher epoch wins
	)
	tests := []struct {
		name string
		c    token.Claims
		want bool
	}{
		{"the logged-out session", claims("ada", "ada-laptop", 0), true},
		{"another session of the same user", claims("ada", "ada-phone", 0), false},
		{"a token from before the password change", claims("bob", "bob-1", 1), true},
		{"a token from after it", claims("bob", "bob-2", 2), false},
		{"someone else", claims("cy", "cy-1", 0), false},
		{"someone else with the revoked session's id", claims("cy", "ada-laptop", 0), false},
	}
	for _, tc := range tests {
		if got := s.Revokes(tc.c); got != tc.want {
			t.Errorf("%s: Revokes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// keys returns the partition and sort keys of the items Writes writes.
func keys(e revocation.Entry) [][2]string {
	var out [][2]string
	for _, it := range revocation.Writes("t", e) {
		s := func(k string) string { return it.Put.Item[k].(*types.AttributeValueMemberS).Value }
		out = append(out, [2]string{s("PK"), s("SK")})
	}
	return out
}

// TestWritesOneItemUnderTheUserAndOneInTheFeed: an entry, which lives as
// long as the tokens it revokes, is written under its user and in the feed.
func TestWritesOneItemUnderTheUserAndOneInTheFeed(t *testing.T) {
	t.Parallel()
	if e, want := revocation.Session("ada", "s", t0, ttl), t0.Add(ttl+token.Leeway); !e.ExpiresAt.Equal(want) || !e.RevokedAt.Equal(t0) {
		t.Fatalf("entry %+v: want revoked at %v, expiring at %v", e, t0, want)
	}
	logout := keys(revocation.Session("ada", "s1", t0, ttl))
	if len(logout) != 2 || logout[0] != [2]string{"USER#ada", "S#s1"} || logout[1][0] != "FEED" {
		t.Fatalf("logout items %v", logout)
	}
	change := keys(revocation.User("ada", 3, t0.Add(time.Millisecond), ttl))
	if change[0] != [2]string{"USER#ada", "EPOCH"} || change[1][0] != "FEED" {
		t.Fatalf("password change items %v", change)
	}
	if !(logout[1][1] < change[1][1]) || !strings.HasPrefix(logout[1][1], "1740830400000#") {
		t.Errorf("feed keys %q, %q do not follow the times of revocation", logout[1][1], change[1][1])
	}
	if again := keys(revocation.Session("ada", "s1", t0, ttl)); again[0] != logout[0] || again[1] != logout[1] {
		t.Error("the same entry got other keys: a retried transaction would write it twice")
	}
}

// source answers from a script and records what it was asked.
type source struct {
	entries []revocation.Entry // each under its user and in the feed
	feedErr error
	userErr error
	since   []time.Time // the since of each feed read
	lookups []string
}

func (s *source) Since(_ context.Context, since, now time.Time) ([]revocation.Entry, error) {
	s.since = append(s.since, since)
	return s.read(s.feedErr, now, func(e revocation.Entry) bool { return e.RevokedAt.After(since) })
}

func (s *source) ForUser(_ context.Context, userID string, now time.Time) ([]revocation.Entry, error) {
	s.lookups = append(s.lookups, userID)
	return s.read(s.userErr, now, func(e revocation.Entry) bool { return e.UserID == userID })
}

// read is err, or the entries in force at now that keep selects.
func (s *source) read(err error, now time.Time, keep func(revocation.Entry) bool) ([]revocation.Entry, error) {
	if err != nil {
		return nil, err
	}
	var out []revocation.Entry
	for _, e := range s.entries {
		if keep(e) && e.ExpiresAt.After(now) {
			out = append(out, e)
		}
	}
	return out, nil
}

// revoke records e as the users service does: under its user and in the feed.
func (s *source) revoke(e revocation.Entry) { s.entries = append(s.entries, e) }

// clock is a test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time     { return c.now }
func (c *clock) At(d time.Duration) { c.now = t0.Add(d) }

// newChecker returns s, a clock at t0, and a checker reading s every 10 s
// (each read within a second) on that clock.
func newChecker(s *source) (*source, *clock, *revocation.Checker) {
	c := &clock{now: t0}
	k := revocation.NewChecker(s, 10*time.Second, slog.New(slog.DiscardHandler)).WithReadTimeout(time.Second)
	revocation.SetClock(k, c.Now)
	return s, c, k
}

func check(t *testing.T, k *revocation.Checker, c token.Claims, want error) {
	t.Helper()
	if err := k.Check(context.Background(), c); !errors.Is(err, want) || (want == nil && err != nil) {
		t.Fatalf("Check(%s, %s, %d) = %v, want %v", c.Subject, c.SessionID, c.SessionEpoch, err, want)
	}
}

func TestCheckerLooksUpAUserOnceThenFollowsTheFeed(t *testing.T) {
	t.Parallel()
	// Revoked before the checker started: only a lookup can know.
	s, c, k := newChecker(&source{entries: []revocation.Entry{revocation.Session("ada", "ada-old", t0.Add(-5*time.Minute), ttl)}})
	check(t, k, claims("ada", "ada-old", 0), revocation.ErrRevoked)
	check(t, k, claims("ada", "ada-laptop", 0), nil)
	if len(s.lookups) != 1 || len(s.since) != 1 || !s.since[0].Equal(t0.Add(-revocation.Overlap)) {
		t.Fatalf("lookups %v, feed reads since %v: want one lookup and one read of the feed from its start less the overlap", s.lookups, s.since)
	}
	// Logged out a second after the checker started: the feed brings it at
	// the next refresh.
	c.At(time.Second)
	s.revoke(revocation.Session("ada", "ada-laptop", c.now, ttl))
	c.At(9 * time.Second)
	check(t, k, claims("ada", "ada-laptop", 0), nil) // within the refresh: not known yet
	c.At(10 * time.Second)
	check(t, k, claims("ada", "ada-laptop", 0), revocation.ErrRevoked)
	if len(s.lookups) != 1 || len(s.since) != 2 || !s.since[1].Equal(t0.Add(-revocation.Overlap)) {
		t.Fatalf("lookups %v, feed reads since %v: want no new lookup, the second read from the first less the overlap", s.lookups, s.since)
	}
	// A password change: tokens of earlier epochs end.
	s.revoke(revocation.User("ada", 1, c.now, ttl))
	c.At(20 * time.Second)
	check(t, k, claims("ada", "ada-phone", 0), revocation.ErrRevoked)
	check(t, k, claims("ada", "ada-phone", 1), nil)
	if !s.since[2].Equal(t0.Add(10*time.Second - revocation.Overlap)) {
		t.Errorf("third read since %v, want from the second read less the overlap", s.since[2])
	}
}

func TestCheckerKeepsOnlyTheFeedEntriesOfUsersItKnows(t *testing.T) {
	t.Parallel()
	s, c, k := newChecker(&source{})
	check(t, k, claims("ada", "a1", 0), nil)
	s.revoke(revocation.Session("bob", "b1", t0.Add(time.Second), ttl))
	c.At(10 * time.Second)
	check(t, k, claims("ada", "a1", 0), nil) // reads the feed: bob's entry is not kept
	if n := revocation.Known(k); n != 0 {
		t.Fatalf("the checker holds %d entries, want none (ada has none, bob's is not kept)", n)
	}
	check(t, k, claims("bob", "b1", 0), revocation.ErrRevoked) // looked up
}

func TestCheckerOutageBacksOffThenRefuses(t *testing.T) {
	t.Parallel()
	s, c, k := newChecker(&source{})
	tok := claims("ada", "a1", 0)
	check(t, k, tok, nil)
	s.feedErr = errors.New("ProvisionedThroughputExceededException")
	// Each failure doubles the wait before the next read: 1 s, 2 s, 4 s,
	// 8 s, then the refresh interval. Checks in between do not read.
	for _, at := range []float64{10, 10.5, 11, 11.5, 13, 14, 17, 20, 25, 30, 35, 40, 44} {
		c.At(time.Duration(at * float64(time.Second)))
		check(t, k, tok, nil) // the known entries keep serving
	}
	reads := []time.Duration{0, 10, 11, 13, 17, 25, 35}
	if len(s.since) != len(reads) {
		t.Fatalf("%d reads of the feed, want %d (at %v s)", len(s.since), len(reads), reads)
	}
	// 45 s after the last good read, no token is vouched for.
	c.At(45 * time.Second)
	check(t, k, tok, revocation.ErrUnavailable)
	// Back: the next read starts where the last good one ended, so nothing
	// revoked during the outage is missed.
	s.feedErr = nil
	s.revoke(revocation.Session("ada", "a1", t0.Add(20*time.Second), ttl))
	c.At(55 * time.Second)
	check(t, k, tok, revocation.ErrRevoked)
	if last := s.since[len(s.since)-1]; !last.Equal(t0.Add(-revocation.Overlap)) {
		t.Errorf("read after the outage since %v, want from the last good read less the overlap", last)
	}
}

func TestCheckerNeverReadMayServeOnlyWithinMaxAge(t *testing.T) {
	t.Parallel()
	_, c, k := newChecker(&source{feedErr: errors.New("no table")})
	// A new environment whose feed cannot be read: the lookup still gives
	// the user's entries as of now.
	check(t, k, claims("ada", "s", 0), nil)
	c.At(45 * time.Second)
	check(t, k, claims("ada", "s", 0), revocation.ErrUnavailable)
}

func TestCheckerLookupFailureBacksOff(t *testing.T) {
	t.Parallel()
	s, c, k := newChecker(&source{})
	check(t, k, claims("ada", "a1", 0), nil)
	s.userErr = errors.New("throttled")
	check(t, k, claims("bob", "b1", 0), revocation.ErrUnavailable)
	c.At(500 * time.Millisecond)
	check(t, k, claims("cy", "c1", 0), revocation.ErrUnavailable)
	check(t, k, claims("ada", "a1", 0), nil) // a known user is not held up
	if len(s.lookups) != 2 {
		t.Fatalf("lookups %v: want none within a second of a failure", s.lookups)
	}
	s.userErr = nil
	c.At(time.Second)
	check(t, k, claims("bob", "b1", 0), nil)
}

func TestCheckerForgetsIdleUsers(t *testing.T) {
	t.Parallel()
	s, c, k := newChecker(&source{})
	check(t, k, claims("ada", "a1", 0), nil)
	check(t, k, claims("bob", "b1", 0), nil)
	for at := 10 * time.Second; at <= 16*time.Minute; at += 10 * time.Second {
		c.At(at)
		check(t, k, claims("bob", "b1", 0), nil)
	}
	check(t, k, claims("ada", "a1", 0), nil)
	if want := []string{"ada", "bob", "ada"}; strings.Join(s.lookups, ",") != strings.Join(want, ",") {
		t.Fatalf("lookups %v, want %v: ada forgotten after 15 idle minutes, bob kept", s.lookups, want)
	}
}

// TestConfigFrom reads the table and the refresh, which defaults.
func TestConfigFrom(t *testing.T) {
	for vars, want := range map[[2]string]revocation.Config{
		{"revocations", ""}:    {Table: "revocations", Refresh: revocation.DefaultRefresh},
		{"revocations", "30s"}: {Table: "revocations", Refresh: 30 * time.Second},
	} {
		e := coldstart.NewEnv(func(name string) string {
			return map[string]string{"REVOCATIONS_TABLE": vars[0], "REVOCATION_REFRESH": vars[1]}[name]
		})
		if got := revocation.ConfigFrom(e); got != want || e.Err() != nil {
			t.Errorf("ConfigFrom(%v) = %+v, %v; want %+v", vars, got, e.Err(), want)
		}
		if c := want.Checker(nil, slog.New(slog.DiscardHandler)); c == nil {
			t.Error("Checker = nil")
		}
	}
}
