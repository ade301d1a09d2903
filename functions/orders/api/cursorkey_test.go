package api

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/app/apptest"
	"github.com/serverless-shop/backend/functions/orders/order"
)

// lazyKeyHarness is the harness with its cursor key loaded on first use by
// load.
func lazyKeyHarness(t *testing.T, load func(context.Context) ([]byte, error)) *harness {
	t.Helper()
	return newHarnessWith(t, Config{LoadCursorKey: load}, apptest.Catalog())
}

func TestCursorKeyLoadedOnceOnFirstList(t *testing.T) {
	var loads atomic.Int32
	h := lazyKeyHarness(t, func(context.Context) ([]byte, error) {
		loads.Add(1)
		return testCursorKey, nil
	})
	seedOrders(h, ada, 3, order.Pending)
	h.send(t, nil, "GET", "/v1/products", "").Expect(t, http.StatusOK)
	if n := loads.Load(); n != 0 {
		t.Fatalf("the key was loaded %d times by a route that does not need it", n)
	}

	// Requests arriving together load the key once.
	var wg sync.WaitGroup
	for range 8 {
		hr := h.request(t, &ada, "GET", "/v1/orders?limit=1", "")
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
	page := decode[orderPage](t, listOrders(t, h, &ada, "limit=1"))
	if page.NextCursor == nil {
		t.Fatal("no next cursor")
	}
	listOrders(t, h, &ada, "limit=1&cursor="+*page.NextCursor).Expect(t, http.StatusOK)
	if n := loads.Load(); n != 1 {
		t.Errorf("key loaded %d times, want once", n)
	}
}

// TestCursorKeyLoadFailureIsRetried: a key that fails to load, or loads
// too short, is a 500, and is not remembered: the next request loads it.
func TestCursorKeyLoadFailureIsRetried(t *testing.T) {
	var loads atomic.Int32
	h := lazyKeyHarness(t, func(context.Context) ([]byte, error) {
		switch loads.Add(1) {
		case 1:
			return nil, errors.New("secrets manager: throttled")
		case 2:
			return []byte("short"), nil
		}
		return testCursorKey, nil
	})
	for range 2 {
		listOrders(t, h, &ada, "").Problem(t, http.StatusInternalServerError, "internal")
	}
	listOrders(t, h, &ada, "").Expect(t, http.StatusOK)
}
