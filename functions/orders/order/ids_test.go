package order_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/orders/order"
)

const ulid = "01JNQ6Z5V2G7W4X9K3M8P0R1ST"

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"ulid", ulid, true},
		{"digits", "00000000000000000000000000", true},
		{"25 characters", ulid[:25], false},
		{"27 characters", ulid + "A", false},
		{"lower case", strings.ToLower(ulid), false},
		{"dash", "01JNQ6Z5V2G7W4X9K3M8P0R1-T", false},
		{"empty", "", false},
		{"non-ASCII, 26 bytes", "01JNQ6Z5V2G7W4X9K3M8P0R1É", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order.ValidID(tt.id); got != tt.want {
				t.Errorf("order.ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func TestValidIdempotencyKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"uuid", "8e0f8a52-3c3b-4a55-9a8e-0b8f8f2f7c11", true},
		{"one character", "k", true},
		{"255 characters", strings.Repeat("k", 255), true},
		{"visible punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", true},
		{"empty", "", false},
		{"256 characters", strings.Repeat("k", 256), false},
		{"non-ASCII", "clé-1", false},
		{"emoji", "key-🔑", false},
		{"space", "a b", false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"NUL", "a\x00b", false},
		{"DEL", "a\x7fb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := order.ValidIdempotencyKey(tt.key); got != tt.want {
				t.Errorf("order.ValidIdempotencyKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}
