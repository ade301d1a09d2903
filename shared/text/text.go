// Package text decides which user-supplied text the backend keeps: names
// and emails travel into tokens, stored items, events, queue messages and
// emails, and every one of those has characters it refuses or misreads.
// What passes here passes everywhere.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// allowed are the general categories text may use: letters, marks, numbers,
// punctuation, symbols and the space separators. Everything else is out:
// controls (Cc), format characters such as bidi overrides and zero-width
// joiners (Cf), private use (Co), surrogates (Cs), line and paragraph
// separators (Zl, Zp) and unassigned code points (Cn), among them the
// noncharacters U+FFFE and U+FFFF that SQS refuses in a message body.
var allowed = []*unicode.RangeTable{unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs}

// Clean reports whether s is valid UTF-8 made of allowed characters only.
func Clean(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.In(r, allowed...) })
}

// NFC returns s in Unicode Normalization Form C, so that text that looks
// the same is stored, compared and looked up the same ("é" typed as one
// code point or as "e" and a combining accent).
func NFC(s string) string { return norm.NFC.String(s) }

// MaxNameLength is the most characters (Unicode code points) a display
// name may have.
const MaxNameLength = 100

// Name trims and NFC-normalises a display name and reports whether it
// meets today's rules: 1 to MaxNameLength characters of Clean's allow-list,
// not all of them spaces. The users service applies it to every name it
// stores; everything that shows a stored name applies it again, since a
// name stored under older rules is never checked otherwise, and shows no
// name when it fails.
func Name(s string) (string, bool) {
	s = NFC(strings.TrimSpace(s)) // trimmed, it is not all spaces unless empty
	if n := utf8.RuneCountInString(s); n == 0 || n > MaxNameLength || !Clean(s) {
		return "", false
	}
	return s, true
}

// Only reports whether s is not empty and made of the characters in chars
// alone. The backend's ASCII shapes (ids, SKUs, currency codes, the parts
// of tokens) are checked with it, with their lengths, instead of regexps:
// compiling a repetition such as {1,255} at init cost a cold start 1.5 ms.
func Only(s, chars string) bool { return s != "" && strings.Trim(s, chars) == "" }

// The character sets of those shapes.
const (
	Upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	Lower  = "abcdefghijklmnopqrstuvwxyz"
	Digits = "0123456789"
)
