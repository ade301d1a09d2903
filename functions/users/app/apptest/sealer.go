package apptest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-shop/backend/shared/events"
)

// Sealer stands in for KMS: it "seals" a secret as "sealed:<event id>:<the
// secret>", in the clear, so that a test can read the token the
// notification service would mail. Fail, when set, is every call's answer.
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
	return []byte("sealed:" + ec["eventId"] + ":" + string(secret)), nil
}

// Calls is how many seals were asked for.
func (s *Sealer) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Token is the token a Sealer sealed into ev, checking that it was sealed
// for ev.
func Token(t testing.TB, ev events.AccountEvent) string {
	t.Helper()
	token, ok := strings.CutPrefix(string(ev.Link.SealedToken), "sealed:"+ev.ID+":")
	if !ok {
		t.Fatalf("event %s carries %q, not a token sealed for it", ev.ID, ev.Link.SealedToken)
	}
	return token
}

// ErrSeal is a sealing failure for tests to inject.
var ErrSeal = errors.New("kms: throttled")
