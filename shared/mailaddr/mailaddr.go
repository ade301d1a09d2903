// Package mailaddr writes an email address the way Amazon SES takes it.
// SES does not support SMTPUTF8 (RFC 6531): an address it sends to must be
// 7-bit ASCII, its domain's internationalised labels in Punycode, and its
// local part ASCII as it stands, since Punycode is not permitted there.
// The notification function converts every recipient with ToASCII; the
// users service registers only addresses that ToASCII can convert.
package mailaddr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Errors of ToASCII and Domain. Neither is worth retrying: the same
// address fails the same way.
var (
	// ErrLocalPart means the part before the last @ is not ASCII. No
	// encoding makes it so, and SES refuses it.
	ErrLocalPart = errors.New("mailaddr: the local part is not ASCII")
	// ErrDomain means the domain is missing or IDNA cannot convert it.
	ErrDomain = errors.New("mailaddr: the domain cannot be converted to ASCII")
)

// ToASCII returns addr as SES takes it: an ASCII address unchanged, and
// otherwise the same local part with the domain converted by Domain. It
// returns ErrLocalPart for a local part (before the last @) that is not
// ASCII and ErrDomain for a domain that cannot be converted.
func ToASCII(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return "", fmt.Errorf("%w: no domain", ErrDomain)
	}
	local, domain := addr[:at], addr[at+1:]
	if !isASCII(local) {
		return "", ErrLocalPart
	}
	if isASCII(domain) {
		return addr, nil
	}
	d, err := Domain(domain)
	if err != nil {
		return "", err
	}
	return local + "@" + d, nil
}

// Domain returns domain in ASCII, its internationalised labels in
// Punycode ("bücher.example" is "xn--bcher-kva.example"), as IDNA 2008's
// lookup profile converts it: golang.org/x/net/idna's Lookup, which maps
// with UTS 46 (nontransitional: "ß" stays "ß"), then checks the labels
// (STD3 rules, hyphens, joiners, bidi). It returns ErrDomain, wrapping
// IDNA's error, for a domain the profile refuses.
func Domain(domain string) (string, error) {
	if domain == "" {
		return "", fmt.Errorf("%w: no domain", ErrDomain)
	}
	a, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDomain, err)
	}
	// The lookup profile leaves DNS's lengths unchecked; Punycode makes a
	// label longer than its Unicode form, so check them in ASCII.
	if len(a) > maxDomain {
		return "", fmt.Errorf("%w: %d bytes in ASCII, more than %d", ErrDomain, len(a), maxDomain)
	}
	for label := range strings.SplitSeq(a, ".") {
		if len(label) > maxLabel {
			return "", fmt.Errorf("%w: a label of %d bytes in ASCII, more than %d", ErrDomain, len(label), maxLabel)
		}
	}
	return a, nil
}

// DNS's limits on a name in ASCII (RFC 1035, section 2.3.4).
const (
	maxDomain = 253 // without the root's trailing dot
	maxLabel  = 63
)

// Canonical returns domain in the one spelling IDNA's lookup gives every
// spelling of it: its Unicode form (U-labels), mapped by UTS 46 as Domain
// maps it, so that "xn--bcher-kva.example", "BÜCHER.example" and its
// full-width letters all come out "bücher.example". ok is false, and
// domain comes back as it is, when the profile refuses it.
func Canonical(domain string) (canonical string, ok bool) {
	u, err := idna.Lookup.ToUnicode(domain)
	if err != nil || domain == "" {
		return domain, false
	}
	return u, true
}

func isASCII(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r >= utf8.RuneSelf }) // invalid bytes are U+FFFD
}
