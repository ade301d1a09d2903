package account_test

import (
	"strings"
	"testing"

	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/shared/mailaddr"
)

func TestNormalizeEmail(t *testing.T) {
	// local@domain of exactly n bytes.
	ofLength := func(n int) string {
		domain := "@example.com"
		return strings.Repeat("a", n-len(domain)) + domain
	}
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "ada@example.com", "ada@example.com"},
		{"upper case folded", "Ada.Lovelace@Example.COM", "ada.lovelace@example.com"},
		{"surrounding spaces trimmed", "  ada@example.com\t\n", "ada@example.com"},
		{"plus tag kept", "ada+shop@example.com", "ada+shop@example.com"},
		// A local part beyond ASCII: registration refuses it (CheckNewEmail),
		// but an account registered before it did must still log in.
		{"non-ASCII local part folded", "ÄDA@example.com", "äda@example.com"},
		{"decomposed accent composed (NFC)", "zoe\u0308@example.com", "zoë@example.com"},
		{"exactly 254 bytes", ofLength(account.MaxEmailLength), ofLength(account.MaxEmailLength)},
		{"254 bytes after trimming", "  " + ofLength(account.MaxEmailLength) + "  ", ofLength(account.MaxEmailLength)},
		// One domain, one spelling: its Unicode form, whichever way it was
		// typed, so that one mailbox cannot hold two accounts.
		{"A-label written in Unicode", "ada@xn--bcher-kva.example", "ada@bücher.example"},
		{"Unicode domain in upper case", "ada@BÜCHER.example", "ada@bücher.example"},
		{"full-width domain", "ada@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "ada@example.com"},
		{"decomposed domain", "ada@bu\u0308cher.example", "ada@bücher.example"},
		{"Greek final sigma kept (nontransitional)", "ada@ς.example", "ada@ς.example"},
		// A domain registration refuses is not mapped into one it takes.
		{"ideographic full stop left as typed", "ada@a.exam\u3002ple", "ada@a.exam\u3002ple"},
		{"A-label that is not Punycode left as typed", "ada@xn--zz.example", "ada@xn--zz.example"},

		{"empty", "", ""},
		{"blank", "   \t ", ""},
		{"255 bytes", ofLength(account.MaxEmailLength + 1), ""},
		{"display name", "Ada <ada@example.com>", ""},
		{"angle brackets only", "<ada@example.com>", ""},
		{"trailing comment", "ada@example.com (Ada)", ""},
		{"two addresses", "ada@example.com, bob@example.com", ""},
		{"missing TLD", "ada@localhost", ""},
		{"trailing dot", "ada@example.com.", ""},
		{"missing at", "ada.example.com", ""},
		{"missing local part", "@example.com", ""},
		{"missing domain", "ada@", ""},
		{"two at signs", "ada@bob@example.com", ""},
		{"space inside", "ada lovelace@example.com", ""},
		// A space that is not ASCII: net/mail takes any non-ASCII rune for
		// an atom's, but an address does not hold spaces.
		{"no-break space inside", "ada\u00a0lovelace@example.com", ""},
		// A domain literal: an IP address, not a domain a message can be
		// sent to through SES.
		{"IPv4 domain literal", "ada@[192.0.2.1]", ""},
		{"newline inside", "ada@example.com\nbcc@evil.example", ""},
		{"quoted local part", `"ada lovelace"@example.com`, ""},
		{"right-to-left override", "ada\u202e@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := account.NormalizeEmail(tt.in); got != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := account.NormalizeEmail(tt.want); tt.want != "" && again != tt.want {
				t.Errorf("NormalizeEmail(%q) = %q: not idempotent", tt.want, again)
			}
		})
	}
}

func TestCheckNewEmail(t *testing.T) {
	local, domain := account.EmailLocalPartRule, account.EmailDomainRule
	tests := []struct {
		name string
		in   string // as NormalizeEmail returns it
		want string
	}{
		{"ASCII", "ada@example.com", ""},
		{"every atext character in the local part", "!#$%&'*+-/=?^_`{|}~@example.com", ""},
		{"inner hyphens in the domain", "ada@my-shop--example.co.uk", ""},
		{"Unicode domain", "ada@bücher.example", ""},
		{"CJK domain", "ada@山.山", ""},
		{"Greek final sigma (nontransitional)", "ada@ς.example", ""},
		{"a mark after a letter", "ada@\u00e9\u0301.example", ""},
		{"right-to-left domain", "ada@שלום.example", ""},
		{"digits only", "0@0.com", ""},

		{"local part with a letter beyond ASCII", "zoë@example.com", local},
		{"underscore in the domain", "ada@exa_mple.com", domain},
		{"leading hyphen", "ada@-example.com", domain},
		{"trailing hyphen", "ada@example-.com", domain},
		{"hyphens in the third and fourth places", "ada@ab--cd.example", domain},
		{"A-label that is not Punycode", "ada@xn--zz.example", domain},
		{"label starting with a mark", "ada@\u0301example.com", domain},
		{"emoji domain (UTS 46 would take it)", "ada@🚀.example", domain},
		{"punctuation in the domain", "ada@a·b.example", domain},
		{"ideographic full stop", "ada@a.exam\u3002ple", domain},
		{"label mixing directions", "ada@aשלום.example", domain},
		{"digit first in a right-to-left domain", "ada@1.שלום", domain},
		// 226 bytes as typed, 256 once "ü" is "xn--tda".
		{"over 254 bytes in ASCII", strings.Repeat("a", 200) + "@ü.ü.ü.ü.ü.ü.example", account.EmailASCIILengthRule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := account.NormalizeEmail(tt.in); n != tt.in {
				t.Fatalf("test input %q is not what NormalizeEmail returns (%q)", tt.in, n)
			}
			got := account.CheckNewEmail(tt.in)
			if got != tt.want {
				t.Fatalf("CheckNewEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// What registration takes, the notification function can mail.
			if _, err := mailaddr.ToASCII(tt.in); got == "" && err != nil {
				t.Errorf("CheckNewEmail(%q) passes it, but ToASCII refuses it: %v", tt.in, err)
			}
		})
	}
}

// TestShownName checks that a stored name is shown by today's rule
// (text's TestName has the rule's cases): normalized, or "" when refused.
func TestShownName(t *testing.T) {
	for stored, want := range map[string]string{"  Ada \t": "Ada", "Ada\u202eecalevoL": ""} {
		if got := account.ShownName(stored); got != want {
			t.Errorf("ShownName(%q) = %q, want %q", stored, got, want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	const (
		tooShort = "must be at least 12 characters"
		tooLong  = "must be at most 128 characters"
		notUTF8  = "must be valid UTF-8"
	)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"12 ASCII characters", strings.Repeat("a", 12), ""},
		{"128 ASCII characters", strings.Repeat("a", 128), ""},
		{"passphrase with spaces", "correct horse battery staple", ""},
		{"surrounding spaces count", " " + strings.Repeat("a", 10) + " ", ""},
		{"12 two-byte runes", strings.Repeat("é", 12), ""},
		{"128 four-byte runes (512 bytes)", strings.Repeat("🔑", 128), ""},
		{"no composition rules", strings.Repeat("1", 12), ""},

		{"empty", "", tooShort},
		{"11 ASCII characters", strings.Repeat("a", 11), tooShort},
		{"11 two-byte runes (22 bytes)", strings.Repeat("é", 11), tooShort},
		{"129 ASCII characters", strings.Repeat("a", 129), tooLong},
		{"129 three-byte runes", strings.Repeat("日", 129), tooLong},
		{"invalid UTF-8", strings.Repeat("\xff", 12), notUTF8},
		{"short and invalid", "\xff", notUTF8},
		{"lone surrogate encoding", strings.Repeat("a", 12) + "\xed\xa0\x80", notUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := account.CheckPassword(tt.in); got != tt.want {
				t.Errorf("CheckPassword(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewRegistration(t *testing.T) {
	const goodPassword = "correct horse battery"
	tests := []struct {
		name       string
		email      string
		password   string
		userName   string
		want       account.Registration
		wantFields string
		wantEmail  string // the email field's message, when it is invalid
	}{
		{
			name: "valid input is normalised", email: "  Ada@Example.COM ", password: goodPassword, userName: "  Ada  ",
			want: account.Registration{Email: "ada@example.com", Name: "Ada", Password: goodPassword},
		},
		{
			name: "password is kept verbatim", email: "ada@example.com", password: "  spaced out password  ", userName: "Ada",
			want: account.Registration{Email: "ada@example.com", Name: "Ada", Password: "  spaced out password  "},
		},
		{
			name: "Unicode domain stored in Unicode", email: " Ada@Bu\u0308cher.Example ", password: goodPassword, userName: "Ada",
			want: account.Registration{Email: "ada@bücher.example", Name: "Ada", Password: goodPassword},
		},
		{name: "bad email", email: "Ada <ada@example.com>", password: goodPassword, userName: "Ada", wantFields: "email", wantEmail: "must be a valid email address"},
		{name: "local part beyond ASCII", email: "zoë@example.com", password: goodPassword, userName: "Zoë", wantFields: "email", wantEmail: account.EmailLocalPartRule},
		{name: "decomposed local part beyond ASCII", email: "zoe\u0308@example.com", password: goodPassword, userName: "Zoë", wantFields: "email", wantEmail: account.EmailLocalPartRule},
		{name: "domain IDNA cannot convert", email: "ada@aשלום.example", password: goodPassword, userName: "Ada", wantFields: "email", wantEmail: account.EmailDomainRule},
		{name: "unmailable email and short password", email: "zoë@example.com", password: "short", userName: "Zoë", wantFields: "email,password", wantEmail: account.EmailLocalPartRule},
		{name: "short password", email: "ada@example.com", password: "short", userName: "Ada", wantFields: "password"},
		{name: "blank name", email: "ada@example.com", password: goodPassword, userName: "  ", wantFields: "name"},
		{name: "email and name", email: "nope", password: goodPassword, userName: "", wantFields: "email,name"},
		{name: "every field", email: "", password: "", userName: "bad\x00name", wantFields: "email,password,name"},
		{name: "every field, other faults", email: "ada@localhost", password: strings.Repeat("x", 129), userName: strings.Repeat("n", 101), wantFields: "email,password,name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := account.NewRegistration(tt.email, tt.password, tt.userName)
			if fields := strings.Join(invalidFields(t, err), ","); fields != tt.wantFields || got != tt.want {
				t.Fatalf("NewRegistration = %+v, fields %q; want %+v, %q", got, fields, tt.want, tt.wantFields)
			}
			if tt.wantEmail != "" && invalid(t, err)[0].Message != tt.wantEmail {
				t.Errorf("email message %+v, want %q", invalid(t, err), tt.wantEmail)
			}
			if tt.password != "" && err != nil && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}
