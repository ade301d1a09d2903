package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// lazyKeyHarness is the harness with a cursor key loaded on first use by
// load instead of given at construction.
func lazyKeyHarness(t *testing.T, load func(context.Context) ([]byte, error)) *harness {
	t.Helper()
	return newHarnessWith(t, Config{LoadCursorKey: load})
}

func TestCursorKeyLoadedOnceOnFirstList(t *testing.T) {
	var loads atomic.Int32
	h := lazyKeyHarness(t, func(context.Context) ([]byte, error) {
		loads.Add(1)
		return testCursorKey, nil
	})
	seedOrders(h, ada, 3, order.Pending)
	if resp := h.do(t, req{route: "GET /v1/products"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("products: status %d", resp.StatusCode)
	}
	if n := loads.Load(); n != 0 {
		t.Fatalf("the key was loaded %d times by a route that does not need it", n)
	}

	// Requests arriving together load the key once.
	events := make([]req, 8)
	for i := range events {
		events[i] = listReq(&ada, map[string]string{"limit": "1"})
	}
	var wg sync.WaitGroup
	for _, r := range events {
		hr := h.request(t, r)
		wg.Go(func() {
			if resp := h.Do(t, hr); resp.StatusCode != http.StatusOK {
				t.Errorf("list: %d %s", resp.StatusCode, resp.Body)
			}
		})
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("key loaded %d times, want once", n)
	}

	// The cursor of one page opens the next: the loaded key is kept.
	page := decode[orderPage](t, h.do(t, listReq(&ada, map[string]string{"limit": "1"})))
	if page.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	if resp := h.do(t, listReq(&ada, map[string]string{"limit": "1", "cursor": *page.NextCursor})); resp.StatusCode != http.StatusOK {
		t.Errorf("next page: status %d; body %s", resp.StatusCode, resp.Body)
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("key loaded %d times, want once", n)
	}
}

func TestCursorKeyLoadFailureIsRetried(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	h := lazyKeyHarness(t, func(context.Context) ([]byte, error) {
		if fail.Load() {
			return nil, errors.New("secrets manager: throttled")
		}
		return testCursorKey, nil
	})
	wantProblem(t, h.do(t, listReq(&ada, nil)), http.StatusInternalServerError, "internal")
	fail.Store(false)
	if resp := h.do(t, listReq(&ada, nil)); resp.StatusCode != http.StatusOK {
		t.Errorf("after the failure passed: status %d; body %s", resp.StatusCode, resp.Body)
	}
}

func TestLoadedCursorKeyTooShort(t *testing.T) {
	h := lazyKeyHarness(t, func(context.Context) ([]byte, error) { return []byte("short"), nil })
	wantProblem(t, h.do(t, listReq(&ada, nil)), http.StatusInternalServerError, "internal")
}
