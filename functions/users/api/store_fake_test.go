package api_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/api"
	"github.com/serverless-shop/backend/functions/users/store"
)

// fakeStore is an api.Store whose every method is a function field, so a
// test can replace any one of them to spy on calls or inject failures.
// newFakeStore points the fields at an in-memory store.
type fakeStore struct {
	CreateUserFn         func(ctx context.Context, u account.User, passwordHash string) error
	UserFn               func(ctx context.Context, id string) (account.Credentials, error)
	UpdateNameFn         func(ctx context.Context, id, name string, now time.Time) (account.User, error)
	ChangePasswordFn     func(ctx context.Context, id, oldHash, newHash string, now time.Time) error
	RehashPasswordFn     func(ctx context.Context, id, oldHash, newHash string) error
	LoginStateFn         func(ctx context.Context, email string, now time.Time) (store.LoginState, error)
	LoginFailuresFn      func(ctx context.Context, email string, now time.Time) (int, time.Time, error)
	RecordLoginFailureFn func(ctx context.Context, email string, now time.Time, window time.Duration) error
	ClearLoginFailuresFn func(ctx context.Context, email string) error
	CreateSessionFn      func(ctx context.Context, t account.RefreshToken, epoch int64, now time.Time) error
	SessionFn            func(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error)
	RotateSessionFn      func(ctx context.Context, presented, next account.RefreshToken, epoch int64, now time.Time) error
	RevokeSessionFn      func(ctx context.Context, userID, familyID string) error
}

var _ api.Store = (*fakeStore)(nil)

func (f *fakeStore) CreateUser(ctx context.Context, u account.User, passwordHash string) error {
	return f.CreateUserFn(ctx, u, passwordHash)
}

func (f *fakeStore) User(ctx context.Context, id string) (account.Credentials, error) {
	return f.UserFn(ctx, id)
}

func (f *fakeStore) UpdateName(ctx context.Context, id, name string, now time.Time) (account.User, error) {
	return f.UpdateNameFn(ctx, id, name, now)
}

func (f *fakeStore) ChangePassword(ctx context.Context, id, oldHash, newHash string, now time.Time) error {
	return f.ChangePasswordFn(ctx, id, oldHash, newHash, now)
}

func (f *fakeStore) RehashPassword(ctx context.Context, id, oldHash, newHash string) error {
	return f.RehashPasswordFn(ctx, id, oldHash, newHash)
}

func (f *fakeStore) LoginFailures(ctx context.Context, email string, now time.Time) (int, time.Time, error) {
	return f.LoginFailuresFn(ctx, email, now)
}

func (f *fakeStore) LoginState(ctx context.Context, email string, now time.Time) (store.LoginState, error) {
	return f.LoginStateFn(ctx, email, now)
}

func (f *fakeStore) RecordLoginFailure(ctx context.Context, email string, now time.Time, window time.Duration) error {
	return f.RecordLoginFailureFn(ctx, email, now, window)
}

func (f *fakeStore) ClearLoginFailures(ctx context.Context, email string) error {
	return f.ClearLoginFailuresFn(ctx, email)
}

func (f *fakeStore) CreateSession(ctx context.Context, t account.RefreshToken, epoch int64, now time.Time) error {
	return f.CreateSessionFn(ctx, t, epoch, now)
}

func (f *fakeStore) Session(ctx context.Context, t account.RefreshToken) (account.Session, account.Credentials, error) {
	return f.SessionFn(ctx, t)
}

func (f *fakeStore) RotateSession(ctx context.Context, presented, next account.RefreshToken, epoch int64, now time.Time) error {
	return f.RotateSessionFn(ctx, presented, next, epoch, now)
}

func (f *fakeStore) RevokeSession(ctx context.Context, userID, familyID string) error {
	return f.RevokeSessionFn(ctx, userID, familyID)
}

// newFakeStore returns a fake backed by m.
func newFakeStore(m *memStore) *fakeStore {
	return &fakeStore{
		CreateUserFn:         m.CreateUser,
		UserFn:               m.User,
		UpdateNameFn:         m.UpdateName,
		ChangePasswordFn:     m.ChangePassword,
		RehashPasswordFn:     m.RehashPassword,
		LoginStateFn:         m.LoginState,
		LoginFailuresFn:      m.LoginFailures,
		RecordLoginFailureFn: m.RecordLoginFailure,
		ClearLoginFailuresFn: m.ClearLoginFailures,
		CreateSessionFn:      m.CreateSession,
		SessionFn:            m.Session,
		RotateSessionFn:      m.RotateSession,
		RevokeSessionFn:      m.RevokeSession,
	}
}

// memStore keeps the users table in maps and returns the errors the
// methods of *store.Store document. Like DynamoDB, it keeps times with
// second precision where the real store stores Unix seconds.
type memStore struct {
	mu        sync.Mutex
	users     map[string]account.Credentials // by id
	emails    map[string]string              // email → id
	attempts  map[string]attempts            // by email
	families  map[familyKey]account.Session
	hashes    []string // every refresh token hash ever stored, for leak checks
	passwords []string // every password hash ever stored, for leak checks
}

type attempts struct {
	failures int
	ends     time.Time
}

type familyKey struct{ userID, familyID string }

func newMemStore() *memStore {
	return &memStore{
		users:    map[string]account.Credentials{},
		emails:   map[string]string{},
		attempts: map[string]attempts{},
		families: map[familyKey]account.Session{},
	}
}

func (m *memStore) CreateUser(_ context.Context, u account.User, passwordHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.emails[u.Email]; taken {
		return account.ErrEmailTaken
	}
	if _, dup := m.users[u.ID]; dup {
		return fmt.Errorf("mem store: create user: id %s exists", u.ID)
	}
	m.emails[u.Email] = u.ID
	m.users[u.ID] = account.Credentials{User: u, PasswordHash: passwordHash}
	m.passwords = append(m.passwords, passwordHash)
	return nil
}

func (m *memStore) User(_ context.Context, id string) (account.Credentials, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.users[id]
	if !ok {
		return account.Credentials{}, account.ErrNotFound
	}
	return c, nil
}

func (m *memStore) UpdateName(_ context.Context, id, name string, now time.Time) (account.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.users[id]
	if !ok {
		return account.User{}, account.ErrNotFound
	}
	c.Name, c.UpdatedAt = name, now.UTC()
	m.users[id] = c
	return c.User, nil
}

func (m *memStore) ChangePassword(_ context.Context, id, oldHash, newHash string, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.users[id]
	if !ok || c.PasswordHash != oldHash {
		return account.ErrStaleWrite
	}
	c.PasswordHash, c.UpdatedAt = newHash, now.UTC()
	c.SessionEpoch++
	m.users[id] = c
	m.passwords = append(m.passwords, newHash)
	return nil
}

func (m *memStore) RehashPassword(_ context.Context, id, oldHash, newHash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.users[id]
	if !ok || c.PasswordHash != oldHash {
		return account.ErrStaleWrite
	}
	c.PasswordHash = newHash
	m.users[id] = c
	m.passwords = append(m.passwords, newHash)
	return nil
}

func (m *memStore) LoginState(_ context.Context, email string, now time.Time) (store.LoginState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st store.LoginState
	if a, ok := m.attempts[email]; ok && now.Before(a.ends) {
		st.Failures, st.WindowEnds = a.failures, a.ends
	}
	if id, ok := m.emails[email]; ok {
		if c, ok := m.users[id]; ok {
			st.Credentials, st.Found = c, true
		}
	}
	return st, nil
}

func (m *memStore) LoginFailures(_ context.Context, email string, now time.Time) (int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.attempts[email]; ok && now.Before(a.ends) {
		return a.failures, a.ends, nil
	}
	return 0, time.Time{}, nil
}

func (m *memStore) RecordLoginFailure(_ context.Context, email string, now time.Time, window time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.attempts[email]; ok && now.Before(a.ends) {
		a.failures++
		m.attempts[email] = a
		return nil
	}
	m.attempts[email] = attempts{failures: 1, ends: time.Unix(now.Add(window).Unix(), 0)}
	return nil
}

func (m *memStore) ClearLoginFailures(_ context.Context, email string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.attempts, email)
	return nil
}

func (m *memStore) CreateSession(_ context.Context, t account.RefreshToken, epoch int64, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := familyKey{t.UserID, t.FamilyID}
	if _, dup := m.families[k]; dup {
		return fmt.Errorf("mem store: create session: family %s exists", t.FamilyID)
	}
	m.families[k] = account.Session{
		UserID: t.UserID, FamilyID: t.FamilyID, CurrentHash: t.Hash(), Epoch: epoch,
		CreatedAt: now.UTC(), ExpiresAt: time.Unix(now.Add(account.RefreshTTL).Unix(), 0).UTC(),
	}
	m.hashes = append(m.hashes, t.Hash())
	return nil
}

func (m *memStore) Session(_ context.Context, t account.RefreshToken) (account.Session, account.Credentials, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.families[familyKey{t.UserID, t.FamilyID}]
	c, found := m.users[t.UserID]
	if !ok || !found {
		return account.Session{}, account.Credentials{}, account.ErrSessionInvalid
	}
	return s, c, nil
}

func (m *memStore) RotateSession(_ context.Context, presented, next account.RefreshToken, epoch int64, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := familyKey{presented.UserID, presented.FamilyID}
	s, ok := m.families[k]
	c, found := m.users[presented.UserID]
	familyOK := ok && s.CurrentHash == presented.Hash() && !s.Revoked && now.Before(s.ExpiresAt)
	if !familyOK || !found || c.SessionEpoch != epoch {
		if ok && !familyOK && !s.Revoked && s.CurrentHash != presented.Hash() {
			return account.ErrTokenReused
		}
		return account.ErrSessionInvalid
	}
	s.CurrentHash = next.Hash()
	s.ExpiresAt = time.Unix(now.Add(account.RefreshTTL).Unix(), 0).UTC()
	m.families[k] = s
	m.hashes = append(m.hashes, next.Hash())
	return nil
}

func (m *memStore) RevokeSession(_ context.Context, userID, familyID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := familyKey{userID, familyID}
	s, ok := m.families[k]
	if !ok {
		return account.ErrSessionInvalid
	}
	s.Revoked = true
	m.families[k] = s
	return nil
}

// family returns a stored session, for assertions.
func (m *memStore) family(userID, familyID string) (account.Session, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.families[familyKey{userID, familyID}]
	return s, ok
}

// failures returns the failures counted against email at now.
func (m *memStore) failures(email string, now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.attempts[email]; ok && now.Before(a.ends) {
		return a.failures
	}
	return 0
}

// secrets returns every password and refresh token hash stored so far.
func (m *memStore) secrets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(append([]string(nil), m.hashes...), m.passwords...)
}

// putUser stores a user directly, bypassing the API.
func (m *memStore) putUser(c account.Credentials) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users[c.ID] = c
	m.emails[c.Email] = c.ID
	m.passwords = append(m.passwords, c.PasswordHash)
}
