package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// errBadCursor means a cursor was not issued by this service for this caller.
var errBadCursor = errors.New("bad cursor")

// cursorCodec makes pagination cursors opaque and tamper-evident: the
// position is MACed together with its scope (the caller's id; for staff's
// queues, the status), so a cursor that was edited, forged, or issued to
// another user or for another list is refused.
type cursorCodec struct{ key []byte }

const cursorVersion = "c1"

// cursorKey holds the cursors' key, loading it on first use. The mutex
// makes the load happen once even when requests arrive together; a failed
// load is not remembered, so the next request tries again.
type cursorKey struct {
	mu   sync.Mutex
	key  []byte
	load func(context.Context) ([]byte, error)
}

func (k *cursorKey) get(ctx context.Context) (cursorCodec, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key == nil {
		key, err := k.load(ctx)
		if err != nil {
			return cursorCodec{}, fmt.Errorf("load cursor key: %w", err)
		}
		if len(key) < 32 { // too short to key an HMAC-SHA256 safely
			return cursorCodec{}, errors.New("orders api: cursor key must be at least 32 bytes")
		}
		k.key = key
	}
	return cursorCodec{k.key}, nil
}

func (c cursorCodec) mac(scope, position string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(cursorVersion + "\x00" + scope + "\x00" + position))
	return m.Sum(nil)
}

func (c cursorCodec) encode(scope, position string) string {
	if position == "" {
		return ""
	}
	enc := base64.RawURLEncoding
	return cursorVersion + "." + enc.EncodeToString([]byte(position)) + "." + enc.EncodeToString(c.mac(scope, position))
}

// decode returns the position of a cursor of scope, which valid accepts.
func (c cursorCodec) decode(scope, cursor string, valid func(string) bool) (string, error) {
	parts := strings.Split(cursor, ".")
	if len(cursor) > 256 || len(parts) != 3 || parts[0] != cursorVersion {
		return "", errBadCursor
	}
	enc := base64.RawURLEncoding.Strict()
	pos, err1 := enc.DecodeString(parts[1])
	sig, err2 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || !hmac.Equal(sig, c.mac(scope, string(pos))) || !valid(string(pos)) {
		return "", errBadCursor
	}
	return string(pos), nil
}
