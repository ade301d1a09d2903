package mail

import "strings"

// htmlEscaper escapes s for HTML text, <title> and a quoted attribute
// value: the replacements html/template makes in those contexts, so the
// HTML part reads exactly as it did when html/template rendered it. '+' is
// escaped because html/template does (against UTF-7 sniffing); NUL becomes
// U+FFFD as HTML5 parsers would. Every special is one ASCII byte, which
// never occurs inside a multi-byte sequence, so invalid UTF-8 is kept as
// it is, as html/template keeps it.
var htmlEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// escapeHTML escapes s for HTML text, <title> and a quoted attribute value
// (see htmlEscaper).
func escapeHTML(s string) string { return htmlEscaper.Replace(s) }

// unsafeURL replaces a URL whose scheme is not http, https or mailto, as
// html/template does: a javascript: link never reaches an href.
const unsafeURL = "#ZgotmplZ"

// escapeURLAttr makes s the value of a quoted href attribute the way
// html/template does: an unsafe scheme is refused, the URL is normalised
// (every byte outside RFC 3986's unreserved and reserved sets, and a %
// that does not start an escape, percent-encoded) and the result escaped
// for the attribute.
func escapeURLAttr(s string) string {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		s = unsafeURL
	}
	return escapeHTML(normalizeURL(s))
}

// urlKept are the bytes a URL keeps as they are: RFC 3986's unreserved and
// reserved sets, as html/template keeps them.
const urlKept = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!#$&*+,/:;=?@[]"

func normalizeURL(s string) string {
	const hex = "0123456789abcdefABCDEF" // lower case first: what it writes
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(urlKept, c) >= 0 || c == '%' && i+2 < len(s) && strings.Trim(s[i+1:i+3], hex) == "" {
			continue
		}
		b.WriteString(s[written:i])
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
		written = i + 1
	}
	b.WriteString(s[written:])
	return b.String()
}
