//go:build integration

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/internal/testcloud"
)

// TestCorrelationIDFollowsTheOrder sends an order with its own X-Request-Id
// and finds that id in the JSON log lines of every function the order goes
// through: the orders service, the orders relay and the notification service.
func TestCorrelationIDFollowsTheOrder(t *testing.T) {
	t.Parallel()
	since := time.Now().Add(-time.Second)
	u := signUp(t, "corr")
	id := fmt.Sprintf("corr-%d", time.Now().UnixNano())
	r := call(t, "POST", "/v1/orders", items("TEA-EARL-100", 1), append(u.bearer(), "X-Request-Id", id)...).Expect(t, 201)
	if r.Header.Get("X-Request-Id") != id {
		t.Fatalf("X-Request-Id = %q, want %q", r.Header.Get("X-Request-Id"), id)
	}
	var o orderDoc
	r.JSON(t, &o)
	awaitMail(t, u.Email, o.ID)

	for _, fn := range []string{"orders", "ordersRelay", "notifications"} {
		group := testcloud.LogGroup(t, stack.aws, output(t, "StackName"), fn)
		var lines []string
		testcloud.Eventually(t, 30*time.Second, "correlation id in "+group, func() bool {
			lines = slices.DeleteFunc(logLines(t, group, since), func(l string) bool { return !strings.Contains(l, id) })
			return len(lines) > 0
		})
		for _, l := range lines {
			if !strings.HasPrefix(l, "{") || !strings.Contains(l, `"correlationId":"`+id+`"`) {
				t.Errorf("%s: not a JSON line carrying correlationId: %s", group, l)
			}
		}
	}
}
