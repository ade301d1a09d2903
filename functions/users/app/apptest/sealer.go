package apptest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-shop/backend/shared/events"
)

// Sealer stands in for KMS: it "seals" a secret as "sealed:<event id>:<a
// digest of the whole context>:<the secret>", in the clear, so that a test
// can read the token the notification service would mail and check what it
// was sealed to. Fail, when set, is every call's answer.
type Sealer struct {
	mu    sync.Mutex
	Fail  error
	calls int
}

// Seal implements app.Sealer.
func (s *Sealer) Seal(_ context.Context, secret []byte, ec map[string]string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.Fail != nil {
		return nil, s.Fail
	}
	return []byte("sealed:" + ec["eventId"] + ":" + contextDigest(ec) + ":" + string(secret)), nil
}

// Calls is how many seals were asked for.
func (s *Sealer) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Token is the token a Sealer sealed into ev, checking that it was sealed
// to ev's whole SealContext (its recipient, purpose and expiry too), which
// is what the notification service opens it with.
func Token(t testing.TB, ev events.AccountEvent) string {
	t.Helper()
	token, ok := strings.CutPrefix(string(ev.Link.SealedToken), "sealed:"+ev.ID+":"+contextDigest(ev.SealContext())+":")
	if !ok {
		t.Fatalf("event %s carries %q, not a token sealed to its context %v", ev.ID, ev.Link.SealedToken, ev.SealContext())
	}
	return token
}

// contextDigest is a short digest of an encryption context, its keys in
// order.
func contextDigest(ec map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		fmt.Fprintf(h, "%q=%q;", k, ec[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ErrSeal is a sealing failure for tests to inject.
var ErrSeal = errors.New("kms: throttled")
