package api

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var testCursorKey = []byte("0123456789abcdef0123456789abcdef")

const (
	cursorUser = "user-1"
	cursorPos  = "01JNQ6Z5V2G7W4X9K3M8P0R1ST"
)

func TestCursorDecodeRejects(t *testing.T) {
	c := cursorCodec{key: testCursorKey}
	enc := base64.RawURLEncoding
	good := c.encode(cursorUser, cursorPos)
	parts := strings.Split(good, ".")
	if len(parts) != 3 {
		t.Fatalf("cursor %q does not have three parts", good)
	}
	flipMAC := func() string {
		sig, err := enc.DecodeString(parts[2])
		if err != nil {
			t.Fatal(err)
		}
		sig[len(sig)/2] ^= 0x01
		return parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig)
	}
	otherPos := "01JNQ6Z5V2G7W4X9K3M8P0R1SV"

	tests := []struct {
		name   string
		user   string
		cursor string
	}{
		{"tampered position", cursorUser, parts[0] + "." + enc.EncodeToString([]byte(otherPos)) + "." + parts[2]},
		{"tampered MAC", cursorUser, flipMAC()},
		{"truncated MAC", cursorUser, parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-4]},
		{"empty MAC", cursorUser, parts[0] + "." + parts[1] + "."},
		{"swapped parts", cursorUser, parts[0] + "." + parts[2] + "." + parts[1]},
		{"cursor of another user", "user-2", good},
		{"issued under another key", cursorUser, cursorCodec{key: []byte(strings.Repeat("k", 32))}.encode(cursorUser, cursorPos)},
		{"wrong version", cursorUser, "c2." + parts[1] + "." + parts[2]},
		{"no version", cursorUser, parts[1] + "." + parts[2]},
		{"upper-case version", cursorUser, "C1." + parts[1] + "." + parts[2]},
		{"too long", cursorUser, c.encode(cursorUser, strings.Repeat("A", 200))},
		{"too long by padding", cursorUser, good + strings.Repeat("A", 257-len(good))},
		{"position not an order id", cursorUser, c.encode(cursorUser, "ORDER#"+cursorPos)},
		{"lower-case position", cursorUser, c.encode(cursorUser, strings.ToLower(cursorPos))},
		{"extra part", cursorUser, good + ".x"},
		{"padded base64", cursorUser, parts[0] + "." + parts[1] + "==." + parts[2]},
		{"standard base64 alphabet", cursorUser, parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+/"},
		{"empty", cursorUser, ""},
		{"dots only", cursorUser, ".."},
		{"version only", cursorUser, "c1.."},
		{"garbage", cursorUser, "not a cursor"},
		{"garbage with dots", cursorUser, "c1.!!!.???"},
		{"a raw order id", cursorUser, cursorPos},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, err := c.decode(tt.user, tt.cursor)
			if !errors.Is(err, errBadCursor) {
				t.Errorf("decode(%q) = %q, %v; want errBadCursor", tt.cursor, pos, err)
			}
			if pos != "" {
				t.Errorf("decode(%q) returned position %q with an error", tt.cursor, pos)
			}
		})
	}
}
