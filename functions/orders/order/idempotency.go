package order

// Claim is a request holding an Idempotency-Key while it places an order.
// Keys are per customer; RequestHash identifies what the request asked for,
// so the key cannot be reused for another order.
type Claim struct {
	CustomerID  string
	Key         string
	RequestHash string
	Owner       string // unique per request attempt
}

// ValidIdempotencyKey reports whether k can be an idempotency key: 1 to 255
// visible ASCII characters.
func ValidIdempotencyKey(k string) bool {
	if len(k) == 0 || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}
