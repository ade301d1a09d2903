package order

import "strings"

// Claim is a request's use of an Idempotency-Key: the key is written with
// the order it places, in the same transaction, so that it places one order
// at most. Keys are per customer; RequestHash identifies what the request
// asked for, so the key cannot be reused for another order.
type Claim struct {
	CustomerID  string
	Key         string
	RequestHash string
}

// ValidIdempotencyKey reports whether k can be an idempotency key: 1 to 255
// visible ASCII characters.
func ValidIdempotencyKey(k string) bool {
	return len(k) >= 1 && len(k) <= 255 && !strings.ContainsFunc(k, func(r rune) bool { return r < 0x21 || r > 0x7e })
}
