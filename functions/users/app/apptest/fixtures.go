// Package apptest is what the users service's tests share: MemStore, an
// in-memory store that keeps the contracts the app package's store
// interfaces document, whose every call a test can watch or fail
// (MemStore.Before); Env, the service on it with a settable clock, a
// stand-in sealer and a test signing key; and the account most tests
// register.
package apptest

import (
	"fmt"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/users/password"
)

// CheapHashing keeps tests fast; production uses password.Default.
var CheapHashing = password.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// Ada is the account most tests register.
const (
	AdaEmail    = "ada@example.com"
	AdaPassword = "correct horse battery staple"
	AdaName     = "Ada Lovelace"
)

// Start is the time every test clock begins at.
var Start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at Start.
func NewClock() *Clock { return &Clock{now: Start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// IDs makes ULID-shaped ids in sequence, as production makes ULIDs:
// refresh tokens embed the user id and only parse if it has that shape.
// The first id is FirstID.
type IDs struct {
	mu sync.Mutex
	n  int
}

// FirstID is the first id an IDs makes: the id of the first account a
// test registers.
const FirstID = "01HZX3YQ7A8B9C0D1E2F3G0001"

// Next returns the next id.
func (i *IDs) Next() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.n++
	return fmt.Sprintf("01HZX3YQ7A8B9C0D1E2F3G%04d", i.n)
}
