package order_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
)

// TestShapes: what the shapes of a SKU, an order id (a ULID) and an
// Idempotency-Key accept, and what they refuse.
func TestShapes(t *testing.T) {
	const ulid = "01JNQ6Z5V2G7W4X9K3M8P0R1ST"
	for name, tc := range map[string]struct {
		valid     func(string) bool
		good, bad []string
	}{
		"ValidSKU": {order.ValidSKU,
			[]string{"COF-ESP-250", "A", "1ABC", strings.Repeat("A", 32)},
			[]string{strings.Repeat("A", 33), "", "cof-esp-250", "-COF", "COF ESP", "COF_ESP", "COF/ESP", "COF\n", "CAFÉ"}},
		"ValidID": {order.ValidID,
			[]string{ulid, "00000000000000000000000000"},
			// The last is 26 bytes, not 26 characters.
			[]string{ulid[:25], ulid + "A", strings.ToLower(ulid), "01JNQ6Z5V2G7W4X9K3M8P0R1-T", "", "01JNQ6Z5V2G7W4X9K3M8P0R1É"}},
		"ValidIdempotencyKey": {order.ValidIdempotencyKey,
			[]string{"8e0f8a52-3c3b-4a55-9a8e-0b8f8f2f7c11", "k", strings.Repeat("k", 255), "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"},
			[]string{"", strings.Repeat("k", 256), "clé-1", "key-🔑", "a b", "a\tb", "a\nb", "a\x00b", "a\x7fb"}},
	} {
		for _, s := range tc.good {
			if !tc.valid(s) {
				t.Errorf("%s(%q) = false, want true", name, s)
			}
		}
		for _, s := range tc.bad {
			if tc.valid(s) {
				t.Errorf("%s(%q) = true, want false", name, s)
			}
		}
	}
}
