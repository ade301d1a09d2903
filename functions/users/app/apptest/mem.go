package apptest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/functions/users/app"
	"github.com/serverless-shop/backend/shared/events"
	"github.com/serverless-shop/backend/shared/revocation"
	"github.com/serverless-shop/backend/shared/token"
)

// MemStore keeps the users table in maps and returns the errors the app
// package's store interfaces document, as *store.Store does: the store's
// conformance tests (functions/users/store) run against both. Like
// DynamoDB, it keeps times with second precision where the real store
// stores Unix seconds.
type MemStore struct {
	// Before, when set, is called with the method's name ("CreateUser")
	// before each method of the app's store interfaces runs, outside the
	// store's lock: a test counts calls with it, makes something happen
	// first, or fails the call with the error it returns.
	Before func(op string) error

	mu          sync.Mutex
	users       map[string]account.Credentials // by id
	emails      map[string]string              // email → id
	buckets     map[string]bucket              // "account#<email>"
	failures    map[string]failures            // by source address
	devices     map[string]deviceRec           // by token hash
	families    map[familyKey]account.Session
	links       map[linkKey]account.PendingLink
	limits      map[string]int // requests per limit key and window
	outbox      []events.AccountEvent
	revocations []revocation.Entry
	hashes      []string // every refresh token and link hash ever stored, for leak checks
	passwords   []string // every password hash ever stored, for leak checks
}

var _ app.Store = (*MemStore)(nil)

// begin runs Before for op and, unless it failed the call, takes the lock.
func (m *MemStore) begin(op string) error {
	if m.Before != nil {
		if err := m.Before(op); err != nil {
			return err
		}
	}
	m.mu.Lock()
	return nil
}

// do runs f for op under the lock, unless Before fails the call.
func (m *MemStore) do(op string, f func() error) error {
	if err := m.begin(op); err != nil {
		return err
	}
	defer m.mu.Unlock()
	return f()
}

// Watch sets Before to count the calls of the method op and fail each
// with err (nil: none fails), and returns the count.
func (m *MemStore) Watch(op string, err error) *atomic.Int64 {
	var n atomic.Int64
	m.Before = func(got string) error {
		if got != op {
			return nil
		}
		n.Add(1)
		return err
	}
	return &n
}

type linkKey struct {
	purpose account.Purpose
	userID  string
}

type familyKey struct{ userID, familyID string }

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		users:    map[string]account.Credentials{},
		emails:   map[string]string{},
		buckets:  map[string]bucket{},
		failures: map[string]failures{},
		devices:  map[string]deviceRec{},
		families: map[familyKey]account.Session{},
		links:    map[linkKey]account.PendingLink{},
		limits:   map[string]int{},
	}
}

// CreateUser implements app.Store.
func (m *MemStore) CreateUser(_ context.Context, u account.User, passwordHash string, verify account.PendingLink, ev events.AccountEvent) error {
	return m.do("CreateUser", func() error {
		if _, taken := m.emails[u.Email]; taken {
			return account.ErrEmailTaken
		}
		if _, dup := m.users[u.ID]; dup {
			return fmt.Errorf("mem store: create user: id %s exists", u.ID)
		}
		m.emails[u.Email] = u.ID
		m.users[u.ID] = account.Credentials{User: u, PasswordHash: passwordHash}
		m.passwords = append(m.passwords, passwordHash)
		m.links[linkKey{account.VerifyEmail, u.ID}] = verify
		m.hashes = append(m.hashes, verify.Hash)
		m.outbox = append(m.outbox, ev)
		return nil
	})
}

// UserByEmail implements app.Store.
func (m *MemStore) UserByEmail(_ context.Context, email string) (account.Credentials, error) {
	if err := m.begin("UserByEmail"); err != nil {
		return account.Credentials{}, err
	}
	defer m.mu.Unlock()
	c, ok := m.users[m.emails[email]]
	if !ok {
		return account.Credentials{}, account.ErrNotFound
	}
	return c, nil
}

// User implements app.Store.
func (m *MemStore) User(_ context.Context, id string) (account.Credentials, error) {
	if err := m.begin("User"); err != nil {
		return account.Credentials{}, err
	}
	defer m.mu.Unlock()
	c, ok := m.users[id]
	if !ok {
		return account.Credentials{}, account.ErrNotFound
	}
	return c, nil
}

// UpdateName implements app.Store.
func (m *MemStore) UpdateName(_ context.Context, id, name string, now time.Time) (account.User, error) {
	if err := m.begin("UpdateName"); err != nil {
		return account.User{}, err
	}
	defer m.mu.Unlock()
	c, ok := m.users[id]
	if !ok {
		return account.User{}, account.ErrNotFound
	}
	c.Name, c.UpdatedAt = name, now.UTC()
	m.users[id] = c
	return c.User, nil
}

// ChangePassword implements app.Store.
func (m *MemStore) ChangePassword(_ context.Context, u account.Credentials, newHash string, now time.Time, revoke revocation.Entry, budget account.Limit) error {
	return m.do("ChangePassword", func() error {
		c, ok := m.users[u.ID]
		if !ok || c.PasswordHash != u.PasswordHash {
			return staleOrOwnWrite(ok, c.PasswordHash, newHash)
		}
		if err := m.count(budget, revoke.RevokedAt); err != nil {
			return err
		}
		c.PasswordHash, c.UpdatedAt = newHash, now.UTC()
		c.SessionEpoch = u.SessionEpoch + 1
		m.users[u.ID] = c
		delete(m.links, linkKey{account.ResetPassword, u.ID})
		m.passwords = append(m.passwords, newHash)
		m.revocations = append(m.revocations, revoke)
		return nil
	})
}

// SetRole is *store.Store's, for the operator's tool (cmd/staff).
func (m *MemStore) SetRole(_ context.Context, u account.Credentials, role string, now time.Time, revoke revocation.Entry) error {
	return m.do("SetRole", func() error {
		c, ok := m.users[u.ID]
		if !ok || c.SessionEpoch != u.SessionEpoch {
			if ok && c.SessionEpoch == u.SessionEpoch+1 && c.IsStaff() == (role == token.RoleStaff) {
				return nil // its own write, retried
			}
			return account.ErrStaleWrite
		}
		c.Role = ""
		if role == token.RoleStaff {
			c.Role = role
		}
		c.SessionEpoch, c.UpdatedAt = u.SessionEpoch+1, now.UTC()
		m.users[u.ID] = c
		m.revocations = append(m.revocations, revoke)
		return nil
	})
}

// RehashPassword implements app.Store.
func (m *MemStore) RehashPassword(_ context.Context, id, oldHash, newHash string) error {
	return m.do("RehashPassword", func() error {
		c, ok := m.users[id]
		if !ok || c.PasswordHash != oldHash {
			return staleOrOwnWrite(ok, c.PasswordHash, newHash)
		}
		c.PasswordHash = newHash
		m.users[id] = c
		m.passwords = append(m.passwords, newHash)
		return nil
	})
}

// staleOrOwnWrite is a failed password update, as the store reads it: a
// stored hash that is already the new one is its own write, retried.
func staleOrOwnWrite(found bool, stored, newHash string) error {
	if found && stored == newHash {
		return nil
	}
	return account.ErrStaleWrite
}

// bucket is a stored bucket and when it starts over.
type bucket struct {
	account.Bucket
	forget time.Time
}

func (b bucket) at(now time.Time) account.Bucket {
	if !now.Before(b.forget) {
		return account.Bucket{}
	}
	return b.Bucket
}

// failures are an address's failed logins and when they start over.
type failures struct {
	account.Failures
	forget time.Time
}

// deviceRec is a device that logged in to an account.
type deviceRec struct {
	email   string
	userID  string // the account's: an email can change hands, a device cannot
	epoch   int64
	expires time.Time
	bucket  bucket
}

// putDevice stores the device of g, under m.mu.
func (m *MemStore) putDevice(g account.DeviceGrant, now time.Time) {
	m.hashes = append(m.hashes, g.Token.Hash())
	m.devices[g.Token.Hash()] = deviceRec{email: g.Email, userID: g.UserID, epoch: g.Epoch, expires: now.Add(account.DeviceTTL)}
}

// LoginState implements app.Store.
func (m *MemStore) LoginState(_ context.Context, email, source, deviceHash string, now time.Time) (account.LoginState, error) {
	if err := m.begin("LoginState"); err != nil {
		return account.LoginState{}, err
	}
	defer m.mu.Unlock()
	st := account.LoginState{Account: m.buckets["account#"+email].at(now)}
	if f, ok := m.failures[source]; ok && source != "" && now.Before(f.forget) {
		st.Source = f.Failures
	}
	if d, ok := m.devices[deviceHash]; ok && d.email == email && d.userID == m.emails[email] && now.Before(d.expires) {
		st.Device = &account.Device{Hash: deviceHash, Epoch: d.epoch, Bucket: d.bucket.at(now)}
	}
	if id, ok := m.emails[email]; ok {
		if c, ok := m.users[id]; ok {
			st.Credentials, st.Found = c, true
		}
	}
	return st, nil
}

// TakeAttempt implements app.Store.
func (m *MemStore) TakeAttempt(_ context.Context, t account.AttemptTake, now time.Time) error {
	return m.do("TakeAttempt", func() error {
		if t.Device == "" {
			if m.buckets["account#"+t.Email].at(now) != t.GuardWas {
				return account.ErrStaleWrite
			}
			m.buckets["account#"+t.Email] = bucket{t.Guard, t.GuardForget}
			return nil
		}
		d, ok := m.devices[t.Device]
		if !ok || d.bucket.at(now) != t.GuardWas {
			return account.ErrStaleWrite
		}
		d.bucket = bucket{t.Guard, t.GuardForget}
		m.devices[t.Device] = d
		return nil
	})
}

// CompleteLogin implements app.Store.
func (m *MemStore) CompleteLogin(_ context.Context, c account.LoginCompletion, now time.Time) error {
	return m.do("CompleteLogin", func() error {
		k := familyKey{c.Refresh.UserID, c.Refresh.FamilyID}
		if s, dup := m.families[k]; dup {
			if s.CurrentHash == c.Refresh.Hash() {
				return nil // its own write, retried
			}
			return fmt.Errorf("mem store: complete login: family %s exists", c.Refresh.FamilyID)
		}
		if u, ok := m.users[c.Refresh.UserID]; !ok || u.SessionEpoch != c.Epoch {
			return account.ErrStaleWrite
		}
		m.families[k] = account.Session{
			UserID: c.Refresh.UserID, FamilyID: c.Refresh.FamilyID, CurrentHash: c.Refresh.Hash(), Proof: c.Refresh.FamilyProof(),
			Epoch: c.Epoch, ExpiresAt: time.Unix(now.Add(account.RefreshTTL).Unix(), 0).UTC(),
		}
		m.hashes = append(m.hashes, c.Refresh.Hash())
		m.putDevice(account.DeviceGrant{Token: c.NewDevice, Email: c.Email, UserID: c.Refresh.UserID, Epoch: c.Epoch}, now)
		if c.OldDevice != "" {
			delete(m.devices, c.OldDevice)
		} else {
			delete(m.buckets, "account#"+c.Email)
		}
		return nil
	})
}

// CountSourceFailure implements app.Store.
func (m *MemStore) CountSourceFailure(_ context.Context, source string, _ bool, forget time.Duration, now time.Time) error {
	return m.do("CountSourceFailure", func() error {
		f := m.failures[source]
		if !now.Before(f.forget) {
			f = failures{}
		}
		f.Count++
		f.Last, f.forget = now, now.Add(forget)
		m.failures[source] = f
		return nil
	})
}

// ClearAttempts implements app.Store.
func (m *MemStore) ClearAttempts(_ context.Context, email string) error {
	return m.do("ClearAttempts", func() error {
		delete(m.buckets, "account#"+email)
		return nil
	})
}

// CountRequest implements app.Store: fixed windows, as the store's.
func (m *MemStore) CountRequest(_ context.Context, l account.Limit, now time.Time) error {
	return m.do("CountRequest", func() error {
		return m.count(l, now)
	})
}

// count counts a request against l (nothing when l.Max is 0), under m.mu.
func (m *MemStore) count(l account.Limit, now time.Time) error {
	if l.Max == 0 {
		return nil
	}
	start := now.Truncate(l.Window)
	window := l.Key + "@" + start.String()
	if m.limits[window] >= l.Max {
		return account.Limited(start.Add(l.Window).Sub(now))
	}
	m.limits[window]++
	return nil
}

// Session implements app.Store.
func (m *MemStore) Session(_ context.Context, t account.RefreshToken) (account.Session, account.Credentials, error) {
	if err := m.begin("Session"); err != nil {
		return account.Session{}, account.Credentials{}, err
	}
	defer m.mu.Unlock()
	s, ok := m.families[familyKey{t.UserID, t.FamilyID}]
	c, found := m.users[t.UserID]
	if !ok || !found {
		return account.Session{}, account.Credentials{}, account.ErrSessionInvalid
	}
	return s, c, nil
}

// RotateSession implements app.Store.
func (m *MemStore) RotateSession(_ context.Context, presented, next account.RefreshToken, epoch int64, count account.RefreshCount, now time.Time) error {
	return m.do("RotateSession", func() error {
		k := familyKey{presented.UserID, presented.FamilyID}
		s, ok := m.families[k]
		c, found := m.users[presented.UserID]
		familyOK := ok && s.CurrentHash == presented.Hash() && !s.Revoked && now.Before(s.ExpiresAt)
		if !familyOK || !found || c.SessionEpoch != epoch {
			if ok && !familyOK && !s.Revoked && s.SpentBy(presented) {
				return account.ErrTokenReused
			}
			return account.ErrSessionInvalid
		}
		s.CurrentHash = next.Hash()
		s.ExpiresAt = time.Unix(now.Add(account.RefreshTTL).Unix(), 0).UTC()
		s.Refreshes, s.RefreshHour = count.Count, count.Hour
		m.families[k] = s
		m.hashes = append(m.hashes, next.Hash())
		return nil
	})
}

// RevokeSession implements app.Store.
func (m *MemStore) RevokeSession(_ context.Context, userID, familyID string, revoke *revocation.Entry, budget account.Limit) error {
	return m.do("RevokeSession", func() error {
		k := familyKey{userID, familyID}
		s, ok := m.families[k]
		switch {
		case !ok:
			return account.ErrSessionInvalid
		case s.Revoked:
			return account.ErrSessionEnded
		}
		if revoke != nil {
			if err := m.count(budget, revoke.RevokedAt); err != nil {
				return err
			}
			m.revocations = append(m.revocations, *revoke)
		}
		s.Revoked = true
		m.families[k] = s
		return nil
	})
}

// IssueLink implements app.Store.
func (m *MemStore) IssueLink(_ context.Context, p account.Purpose, link *account.PendingLink, ev *events.AccountEvent, limit account.Limit, now time.Time) error {
	return m.do("IssueLink", func() error {
		if err := m.count(limit, now); err != nil {
			return err
		}
		if link != nil && ev != nil {
			m.links[linkKey{p, link.UserID}] = *link
			m.hashes = append(m.hashes, link.Hash)
			m.outbox = append(m.outbox, *ev)
		}
		return nil
	})
}

// PendingLink implements app.Store.
func (m *MemStore) PendingLink(_ context.Context, p account.Purpose, userID string) (account.PendingLink, account.Credentials, error) {
	if err := m.begin("PendingLink"); err != nil {
		return account.PendingLink{}, account.Credentials{}, err
	}
	defer m.mu.Unlock()
	l, ok := m.links[linkKey{p, userID}]
	c, found := m.users[userID]
	if !ok || !found {
		return account.PendingLink{}, account.Credentials{}, account.ErrLinkInvalid
	}
	return l, c, nil
}

// useLink deletes the pending link if it is still l and unexpired at now.
func (m *MemStore) useLink(p account.Purpose, l account.PendingLink, now time.Time) error {
	k := linkKey{p, l.UserID}
	cur, ok := m.links[k]
	if !ok || cur.Hash != l.Hash || !now.Before(cur.ExpiresAt) {
		return account.ErrLinkInvalid
	}
	delete(m.links, k)
	return nil
}

// VerifyEmail implements app.Store.
func (m *MemStore) VerifyEmail(_ context.Context, l account.PendingLink, device account.DeviceGrant, now time.Time) error {
	return m.do("VerifyEmail", func() error {
		c, ok := m.users[l.UserID]
		if !ok {
			return account.ErrLinkInvalid
		}
		if err := m.useLink(account.VerifyEmail, l, now); err != nil {
			return err
		}
		c.EmailVerified, c.UpdatedAt = true, now.UTC()
		m.users[l.UserID] = c
		m.putDevice(device, now)
		return nil
	})
}

// ResetPassword implements app.Store.
func (m *MemStore) ResetPassword(_ context.Context, l account.PendingLink, u account.Credentials, newHash string, device account.DeviceGrant, now time.Time, revoke revocation.Entry) error {
	return m.do("ResetPassword", func() error {
		c, ok := m.users[u.ID]
		if ok && (c.PasswordHash != u.PasswordHash || c.SessionEpoch != u.SessionEpoch) {
			return account.ErrStaleWrite
		}
		if err := m.useLink(account.ResetPassword, l, now); err != nil || !ok {
			return account.ErrLinkInvalid
		}
		c.PasswordHash, c.SessionEpoch, c.EmailVerified, c.UpdatedAt = newHash, u.SessionEpoch+1, true, now.UTC()
		m.users[u.ID] = c
		delete(m.links, linkKey{account.VerifyEmail, u.ID})
		delete(m.buckets, "account#"+c.Email)
		m.putDevice(device, now)
		m.passwords = append(m.passwords, newHash)
		m.revocations = append(m.revocations, revoke)
		return nil
	})
}

// CancelRegistration implements app.Store.
func (m *MemStore) CancelRegistration(_ context.Context, l account.PendingLink, u account.Credentials, now time.Time) error {
	return m.do("CancelRegistration", func() error {
		c, ok := m.users[u.ID]
		if !ok || c.EmailVerified || c.Email != u.Email || m.emails[u.Email] != u.ID {
			return account.ErrLinkInvalid
		}
		if err := m.useLink(account.VerifyEmail, l, now); err != nil {
			return err
		}
		delete(m.users, u.ID)
		delete(m.emails, u.Email)
		delete(m.links, linkKey{account.ResetPassword, u.ID})
		delete(m.buckets, "account#"+u.Email)
		return nil
	})
}

// Outbox returns the account events stored so far, for assertions.
func (m *MemStore) Outbox() []events.AccountEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]events.AccountEvent(nil), m.outbox...)
}

// Revocations returns the revocations written so far, for assertions.
func (m *MemStore) Revocations() []revocation.Entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]revocation.Entry(nil), m.revocations...)
}

// Attempts returns the attempts counted against the account of email at now.
func (m *MemStore) Attempts(email string, now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.buckets["account#"+email].at(now).Attempts
}

// SourceAttempts returns the attempts counted against source at now.
func (m *MemStore) SourceAttempts(source string, now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.failures[source]; now.Before(f.forget) {
		return f.Count
	}
	return 0
}

// Secrets returns every password, refresh token and link token hash
// stored so far, for checks that none leaks.
func (m *MemStore) Secrets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(append([]string(nil), m.hashes...), m.passwords...)
}
