package mailaddr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/shared/mailaddr"
)

func TestToASCII(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"ASCII address kept as it is, case and all", "Ada@Example.COM", "Ada@Example.COM", nil},
		{"Unicode domain in Punycode", "ada@bücher.example", "ada@xn--bcher-kva.example", nil},
		{"only the Unicode labels change", "ada@mail.bücher.example", "ada@mail.xn--bcher-kva.example", nil},
		{"domain in upper case mapped", "ada@BÜCHER.example", "ada@xn--bcher-kva.example", nil},
		{"decomposed domain composed", "ada@bu\u0308cher.example", "ada@xn--bcher-kva.example", nil},
		{"nontransitional: ß kept", "ada@straße.de", "ada@xn--strae-oqa.de", nil},
		{"right-to-left domain", "ada@שלום.example", "ada@xn--9dbne9b.example", nil},
		{"the last @ splits", "a@b@bücher.example", "a@b@xn--bcher-kva.example", nil},

		{"non-ASCII local part", "zoë@example.com", "", mailaddr.ErrLocalPart},
		{"label mixing directions", "ada@aשלום.example", "", mailaddr.ErrDomain},
		{"label starting with a combining mark", "ada@\u0308bücher.example", "", mailaddr.ErrDomain},
		{"label ending with a hyphen", "ada@bücher-.example", "", mailaddr.ErrDomain},
		// Punycode is longer than UTF-8 for some labels ("ü" is "xn--tda"):
		// DNS's limits hold in ASCII.
		{"label of 63 bytes in ASCII", "ada@" + strings.Repeat("a", 55) + "ü.example", "ada@xn--" + strings.Repeat("a", 55) + "-8yf.example", nil},
		{"label of 64 bytes in ASCII", "ada@" + strings.Repeat("a", 56) + "ü.example", "", mailaddr.ErrDomain},
		{"domain over 253 bytes in ASCII", "ada@" + strings.Repeat("ü.", 32) + "example", "", mailaddr.ErrDomain},
		{"symbol refused by STD3 rules", "ada@bü_cher.example", "", mailaddr.ErrDomain},
		{"no @", "ada.example.com", "", mailaddr.ErrDomain},
		{"nothing after the @", "ada@", "", mailaddr.ErrDomain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := mailaddr.ToASCII(tt.in)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("ToASCII(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ToASCII(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // "" when refused
	}{
		{"ASCII in upper case mapped", "EXAMPLE.com", "example.com"},
		{"Unicode", "bücher.example", "xn--bcher-kva.example"},
		{"valid A-label", "xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"empty", "", ""},
		{"underscore", "exa_mple.com", ""},
		{"leading hyphen", "-example.com", ""},
		{"hyphens in the third and fourth places", "ab--cd.example", ""},
		{"A-label that is not Punycode", "xn--zz.example", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := mailaddr.Domain(tt.in)
			if tt.want == "" {
				if !errors.Is(err, mailaddr.ErrDomain) || got != "" {
					t.Errorf("Domain(%q) = %q, %v; want ErrDomain", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Domain(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestCanonical: every spelling of a domain comes out in one Unicode form;
// a domain the profile refuses comes back as it is.
func TestCanonical(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"xn--bcher-kva.example": "bücher.example", "BÜCHER.example": "bücher.example", "ｂüｃｈｅｒ.example": "bücher.example",
		"": "", "exa_mple.com": "",
	} {
		if got, ok := mailaddr.Canonical(in); ok != (want != "") || ok && got != want || !ok && got != in {
			t.Errorf("Canonical(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func ExampleToASCII() {
	for _, addr := range []string{"ada@example.com", "ada@bücher.example", "zoë@example.com"} {
		to, err := mailaddr.ToASCII(addr)
		fmt.Printf("%q %v\n", to, err)
	}
	// Output:
	// "ada@example.com" <nil>
	// "ada@xn--bcher-kva.example" <nil>
	// "" mailaddr: the local part is not ASCII
}
