package text_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/text"
)

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"ASCII", "Ada Lovelace", true},
		{"accents and scripts", "Zoë Ångström 山田 Σωκράτης", true},
		{"combining mark", "Zoe\u0308", true},
		{"punctuation and symbols", `O'Brien & Co. (€5) <b>`, true},
		{"no-break space", "Ada\u00a0Lovelace", true},
		{"empty", "", true},
		{"noncharacter U+FFFF", "Ada\uffff", false},
		{"unassigned code point", "Ada\U000e0080", false},
		{"newline", "Ada\nLovelace", false},
		{"right-to-left override", "Ada\u202e", false},
		{"line separator", "Ada\u2028", false},
		{"private use", "Ada\ue000", false},
		{"invalid UTF-8", "Ada\xff", false},
		{"replacement character", "Ada\ufffd", true}, // a symbol (So), allowed
	}
	for _, tc := range tests {
		if got := text.Clean(tc.s); got != tc.want {
			t.Errorf("%s: Clean(%q) = %v, want %v", tc.name, tc.s, got, tc.want)
		}
	}
}

// TestName: a name is trimmed and composed (NFC), and kept when it has 1
// to MaxNameLength characters of Clean's, not all of them spaces.
func TestName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", text.MaxNameLength)
	for in, want := range map[string]string{
		" Zoe\u0308\n": "Zoë", "Zoë": "Zoë", long: long, long + "e\u0301": "", "": "", " \u00a0 ": "", "Ada\u202e": "",
		"Ada  King": "Ada  King", " " + long + " ": long, "Ada\x00Lovelace": "",
	} {
		if got, ok := text.Name(in); got != want || ok != (want != "") {
			t.Errorf("Name(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestOnly(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"COF-ESP-250": true,
		"-":           true,
		"":            false, // not empty
		"COF ESP":     false, // a character not in the set, inside
		"cof":         false, // case counts
		"COFÉ":        false, // beyond ASCII
	} {
		if got := text.Only(s, text.Upper+text.Digits+"-"); got != want {
			t.Errorf("Only(%q, A-Z0-9-) = %v, want %v", s, got, want)
		}
	}
}
