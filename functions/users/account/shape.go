package account

import (
	"strings"

	"github.com/serverless-shop/backend/shared/text"
)

// A tokenPart is what one dot-separated part of a token must be: n
// characters from chars.
type tokenPart struct {
	n     int
	chars string
}

// The parts tokens are made of: a ULID (a user id) and URL-safe base64.
var ulidPart = tokenPart{26, text.Digits + text.Upper}

const b64Chars = text.Upper + text.Lower + text.Digits + "-_"

// tokenParts returns the parts of raw after its prefix when raw is
// "prefix.part.part..." with exactly the parts shape says, or nil.
func tokenParts(raw, prefix string, shape ...tokenPart) []string {
	rest, ok := strings.CutPrefix(raw, prefix+".")
	if !ok {
		return nil
	}
	parts := strings.Split(rest, ".")
	if len(parts) != len(shape) {
		return nil
	}
	for i, p := range parts {
		if len(p) != shape[i].n || !text.Only(p, shape[i].chars) {
			return nil
		}
	}
	return parts
}
