package account

import "github.com/serverless-shop/backend/shared/text"

// Tokens are parts separated by dots: a prefix that versions the format,
// then ULIDs (user ids) and URL-safe base64.

// ulid reports whether s is a ULID: 26 digits and capital letters.
func ulid(s string) bool { return len(s) == 26 && text.Only(s, text.Digits+text.Upper) }

// b64 reports whether s is n characters of URL-safe base64.
func b64(s string, n int) bool {
	return len(s) == n && text.Only(s, text.Upper+text.Lower+text.Digits+"-_")
}
