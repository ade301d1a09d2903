//go:build integration

package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/store"
	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return newRig(t).store
}

// rig is a store on its own users and revocations tables.
type rig struct {
	store       *store.Store
	db          *dynamodb.Client
	users       string
	revocations string
}

func newRig(t *testing.T) rig {
	t.Helper()
	db := dynamodb.NewFromConfig(testcloud.Config(t))
	r := rig{db: db, users: testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true}), revocations: testcloud.NewTable(t, db, testcloud.TableSpec{SortKey: true})}
	r.store = store.New(db, r.users, r.revocations)
	return r
}

func newUser(id, email string, now time.Time) account.User {
	return account.User{ID: id, Email: email, Name: "Test", CreatedAt: now, UpdatedAt: now}
}

// verification is the pending verification link and the event that
// registration stores with a new user.
func verification(t *testing.T, u account.User, now time.Time) (account.LinkToken, account.PendingLink, events.AccountEvent) {
	t.Helper()
	tok, err := account.NewLinkToken(account.VerifyEmail, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	link := account.Pending(tok, now)
	return tok, link, linkEvent(events.AccountVerificationRequested, "ev-verify-"+u.ID, u, link)
}

// linkEvent is an account event mailing link to u.
func linkEvent(eventType, id string, u account.User, link account.PendingLink) events.AccountEvent {
	return events.AccountEvent{
		Header:  events.Header{Type: eventType, Version: events.Version, ID: id, OccurredAt: link.ExpiresAt.Add(-time.Minute)},
		Account: events.Account{ID: u.ID, Email: u.Email, Name: u.Name},
		Link:    events.Link{SealedToken: []byte("sealed"), ExpiresAt: link.ExpiresAt},
	}
}

// createUser registers u as the service does, with its verification link.
func createUser(ctx context.Context, t *testing.T, s *store.Store, u account.User, hash string) error {
	t.Helper()
	_, link, ev := verification(t, u, u.CreatedAt)
	return s.CreateUser(ctx, u, hash, link, ev)
}

// credentials is what the service read of a user before changing it.
func credentials(id, hash string, epoch int64) account.Credentials {
	return account.Credentials{User: account.User{ID: id}, PasswordHash: hash, SessionEpoch: epoch}
}

// until is the end of a revocation entry made at now.
func until(now time.Time) time.Time { return revocation.Until(now, 15*time.Minute) }

// ulidLike returns a 26-character id in the alphabet of user ids.
func ulidLike(i int) string { return fmt.Sprintf("01TEST%020d", i) }

func TestCreateUserEmailUniqueUnderConcurrency(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	const n = 12
	// n registrations at once, with case variants of one address.
	variants := []string{"race@example.com", "RACE@EXAMPLE.COM", "Race@Example.Com", " race@example.COM "}
	errs := testcloud.Parallel(n, func(i int) error {
		return createUser(ctx, t, s, newUser(ulidLike(i), account.NormalizeEmail(variants[i%len(variants)]), now), "hash")
	})
	created, taken := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case errors.Is(err, account.ErrEmailTaken):
			taken++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if created != 1 || taken != n-1 {
		t.Fatalf("created %d, taken %d; want exactly one of %d", created, taken, n)
	}
	// The loser's user item was not written either (no partial write).
	found := 0
	for i := range n {
		if _, err := s.User(ctx, ulidLike(i)); err == nil {
			found++
		} else if !errors.Is(err, account.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if found != 1 {
		t.Fatalf("%d user items exist, want 1", found)
	}
}

func TestLoginStateAndFailureWindow(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	if err := createUser(ctx, t, s, newUser(ulidLike(1), "known@example.com", now), "hash-1"); err != nil {
		t.Fatal(err)
	}
	st, err := s.LoginState(ctx, "known@example.com", now)
	if err != nil || !st.Found || st.Credentials.PasswordHash != "hash-1" || st.Failures != 0 {
		t.Fatalf("LoginState = %+v, %v", st, err)
	}
	st, err = s.LoginState(ctx, "unknown@example.com", now)
	if err != nil || st.Found {
		t.Fatalf("unknown LoginState = %+v, %v", st, err)
	}

	// Concurrent failures are all counted in one window.
	errs := testcloud.Parallel(6, func(int) error {
		return s.RecordLoginFailure(ctx, "unknown@example.com", now, time.Minute)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st, _ = s.LoginState(ctx, "unknown@example.com", now)
	if st.Failures != 6 || !st.WindowEnds.Equal(now.Add(time.Minute)) {
		t.Fatalf("after 6 failures: %+v", st)
	}
	if n, ends, err := s.LoginFailures(ctx, "unknown@example.com", now); err != nil || n != 6 || !ends.Equal(st.WindowEnds) {
		t.Fatalf("LoginFailures = %d, %v, %v; want what LoginState saw", n, ends, err)
	}
	if n, _, err := s.LoginFailures(ctx, "unknown@example.com", now.Add(2*time.Minute)); err != nil || n != 0 {
		t.Fatalf("LoginFailures after the window = %d, %v", n, err)
	}
	if n, _, err := s.LoginFailures(ctx, "never-failed@example.com", now); err != nil || n != 0 {
		t.Fatalf("LoginFailures without failures = %d, %v", n, err)
	}
	// After the window the count starts over.
	later := now.Add(2 * time.Minute)
	if st, _ = s.LoginState(ctx, "unknown@example.com", later); st.Failures != 0 {
		t.Fatalf("expired window still counts %d", st.Failures)
	}
	if err := s.RecordLoginFailure(ctx, "unknown@example.com", later, time.Minute); err != nil {
		t.Fatal(err)
	}
	if st, _ = s.LoginState(ctx, "unknown@example.com", later); st.Failures != 1 {
		t.Fatalf("new window counts %d, want 1", st.Failures)
	}
	if err := s.ClearLoginFailures(ctx, "unknown@example.com"); err != nil {
		t.Fatal(err)
	}
	if st, _ = s.LoginState(ctx, "unknown@example.com", later); st.Failures != 0 {
		t.Fatalf("cleared window counts %d", st.Failures)
	}
}

func startSession(t *testing.T, s *store.Store, userID string, now time.Time) account.RefreshToken {
	t.Helper()
	tok, err := account.NewRefreshToken(userID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(context.Background(), tok, 0, now); err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRefreshRotationRaceHasOneWinner(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	id := ulidLike(7)
	if err := createUser(ctx, t, s, newUser(id, "rotate@example.com", now), "h"); err != nil {
		t.Fatal(err)
	}
	presented := startSession(t, s, id, now)
	const n = 10
	nexts := make([]account.RefreshToken, n)
	for i := range nexts {
		nexts[i], _ = account.Rotate(presented)
	}
	errs := testcloud.Parallel(n, func(i int) error {
		return s.RotateSession(ctx, presented, nexts[i], 0, now)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("rotations %d and %d both won", winner, i)
			}
			winner = i
		case errors.Is(err, account.ErrTokenReused), errors.Is(err, account.ErrSessionInvalid):
		default:
			t.Fatalf("rotation %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no rotation won")
	}
	sess, _, err := s.Session(ctx, presented)
	if err != nil {
		t.Fatal(err)
	}
	if sess.CurrentHash != nexts[winner].Hash() {
		t.Fatal("the family's current token is not the winner's")
	}
	// The presented token is now spent: checking it reports reuse.
	if err := sess.Check(presented, 0, now); !errors.Is(err, account.ErrTokenReused) {
		t.Fatalf("spent token check = %v, want ErrTokenReused", err)
	}
}

func TestFamilyRevocationAndPasswordChangeEndSessions(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	id := ulidLike(9)
	if err := createUser(ctx, t, s, newUser(id, "revoke@example.com", now), "old-hash"); err != nil {
		t.Fatal(err)
	}

	// Revoking a family stops its rotation.
	a := startSession(t, s, id, now)
	if err := s.RevokeSession(ctx, id, a.FamilyID, revocation.Session(id, a.FamilyID, until(now))); err != nil {
		t.Fatal(err)
	}
	next, _ := account.Rotate(a)
	if err := s.RotateSession(ctx, a, next, 0, now); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("rotate revoked family = %v, want ErrSessionInvalid", err)
	}
	sess, _, _ := s.Session(ctx, a)
	if !sess.Revoked {
		t.Fatal("family not marked revoked")
	}
	if err := s.RevokeSession(ctx, id, "no-such-family", revocation.Session(id, "no-such-family", until(now))); !errors.Is(err, account.ErrSessionInvalid) {
		t.Fatalf("revoke unknown family = %v", err)
	}

	// A password change bumps the epoch: every family of the user fails.
	b := startSession(t, s, id, now)
	c := startSession(t, s, id, now)
	if err := s.ChangePassword(ctx, credentials(id, "old-hash", 0), "new-hash", now, revocation.User(id, 1, until(now))); err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, credentials(id, "old-hash", 0), "other-hash", now, revocation.User(id, 1, until(now))); !errors.Is(err, account.ErrStaleWrite) {
		t.Fatalf("second change from the old hash = %v, want ErrStaleWrite", err)
	}
	for _, tok := range []account.RefreshToken{b, c} {
		sess, user, err := s.Session(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if user.SessionEpoch != 1 {
			t.Fatalf("epoch %d after password change", user.SessionEpoch)
		}
		if err := sess.Check(tok, user.SessionEpoch, now); !errors.Is(err, account.ErrSessionInvalid) {
			t.Fatalf("check after password change = %v", err)
		}
		next, _ := account.Rotate(tok)
		// Even a client that skips the check cannot rotate: the transaction
		// re-checks the epoch.
		if err := s.RotateSession(ctx, tok, next, 0, now); !errors.Is(err, account.ErrSessionInvalid) {
			t.Fatalf("rotate after password change = %v", err)
		}
	}
}

func TestUpdateNameAndMissingUser(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	if err := createUser(ctx, t, s, newUser(ulidLike(3), "name@example.com", now), "h"); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Minute)
	u, err := s.UpdateName(ctx, ulidLike(3), "Renamed", later)
	if err != nil || u.Name != "Renamed" || !u.UpdatedAt.Equal(later) || u.Email != "name@example.com" {
		t.Fatalf("UpdateName = %+v, %v", u, err)
	}
	if _, err := s.UpdateName(ctx, ulidLike(4), "Ghost", later); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("UpdateName of a missing user = %v", err)
	}
	if _, err := s.User(ctx, ulidLike(4)); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("User of a missing user = %v", err)
	}
}

// TestWritesSurviveTheirOwnRetry repeats writes exactly as the SDK does when
// the answer to a successful write is lost: they must report success, not
// a conflict with themselves.
func TestWritesSurviveTheirOwnRetry(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	id := ulidLike(21)
	if err := createUser(ctx, t, s, newUser(id, "retry@example.com", now), "old"); err != nil {
		t.Fatal(err)
	}
	tok, _ := account.NewRefreshToken(id)
	for attempt := range 2 {
		if err := s.CreateSession(ctx, tok, 0, now); err != nil {
			t.Fatalf("CreateSession attempt %d: %v", attempt, err)
		}
		if err := s.ChangePassword(ctx, credentials(id, "old", 0), "new", now, revocation.User(id, 1, until(now))); err != nil {
			t.Fatalf("ChangePassword attempt %d: %v", attempt, err)
		}
	}
	if err := s.ChangePassword(ctx, credentials(id, "old", 0), "other", now, revocation.User(id, 1, until(now))); !errors.Is(err, account.ErrStaleWrite) {
		t.Fatalf("a different change from the old hash = %v, want ErrStaleWrite", err)
	}
	other, _ := account.NewRefreshToken(id)
	other.FamilyID = tok.FamilyID // same family key, another token
	if err := s.CreateSession(ctx, other, 0, now); err == nil {
		t.Fatal("a second session under an existing family id was accepted")
	}
	u, err := s.User(ctx, id)
	if err != nil || u.SessionEpoch != 1 || u.PasswordHash != "new" {
		t.Fatalf("after a retried change: epoch %d hash %q, %v; want one bump", u.SessionEpoch, u.PasswordHash, err)
	}
}
