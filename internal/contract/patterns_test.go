package contract_test

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"

	"github.com/serverless-shop/backend/functions/orders/order"
	"github.com/serverless-shop/backend/functions/users/account"
	"github.com/serverless-shop/backend/internal/apitest"
)

// TestOpenAPIPatternsAreTheServicesRules checks that the patterns and
// lengths of api/openapi.yaml say exactly what the services accept: for
// each string of a corpus (hand-picked edge cases and seeded random ones),
// the document's schema admits it if and only if the service's own check
// does. Schemathesis relies on it both ways: it expects every request the
// document admits to be accepted, and every other one to be refused.
//
// What JSON Schema cannot say the document says in extensions, which the
// test applies as a client must: x-normalized (the value is checked once
// trimmed of white space and in Unicode NFC), x-max-utf8-bytes and x-idna
// (the email's domain converts to ASCII with IDNA's lookup profile).
func TestOpenAPIPatternsAreTheServicesRules(t *testing.T) {
	doc := loadOpenAPI(t)
	schemas := doc.Components.Schemas
	body := func(path, method string) openapi3.Schemas {
		return doc.Paths.Find(path).GetOperation(method).RequestBody.Value.Content.Get("application/json").Schema.Value.Properties
	}
	admits := func(s *openapi3.Schema) func(string) bool {
		return func(v string) bool {
			if s.Extensions["x-normalized"] != nil {
				v = norm.NFC.String(strings.TrimSpace(v))
			}
			if limit, ok := s.Extensions["x-max-utf8-bytes"].(float64); ok && len(v) > int(limit) {
				return false
			}
			if s.Extensions["x-idna"] != nil {
				at := strings.LastIndexByte(v, '@')
				if _, err := idna.Lookup.ToASCII(v[at+1:]); at < 0 || err != nil {
					return false
				}
			}
			return s.VisitJSON(v, openapi3.SetSchemaRegexCompiler(apitest.ECMAPattern)) == nil
		}
	}
	for name, want := range map[string]any{"EmailInput": []any{"trim", "NFC"}, "PresentedEmail": []any{"trim", "NFC"}, "NameInput": []any{"trim", "NFC"}} {
		if got := schemas[name].Value.Extensions["x-normalized"]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: x-normalized %v, want %v (what the test applies)", name, got, want)
		}
	}
	if got := schemas["EmailInput"].Value.Extensions["x-idna"]; got != "lookup" {
		t.Errorf("EmailInput: x-idna %v, want lookup (what the test applies)", got)
	}
	idempotency := doc.Components.Parameters["IdempotencyKey"].Value.Schema.Value
	orderItem := body("/v1/orders", "POST")["items"].Value.Items.Value

	rules := []struct {
		name    string
		schema  func(string) bool
		service func(string) bool
		corpus  []string
	}{
		// What registration takes: an address the shop can mail.
		{"EmailInput", admits(schemas["EmailInput"].Value),
			func(s string) bool {
				_, err := account.NewRegistration(s, "correct horse battery staple", "Ada")
				return err == nil
			}, emailCorpus()},
		// What login and password reset take: EmailInput, and the local
		// parts beyond ASCII of accounts registered before registration
		// refused them.
		{"PresentedEmail", admits(schemas["PresentedEmail"].Value),
			func(s string) bool { return account.NormalizeEmail(s) != "" }, emailCorpus()},
		{"NameInput", admits(schemas["NameInput"].Value),
			func(s string) bool { _, err := account.NewName(s); return err == nil }, nameCorpus()},
		{"NewPassword", admits(schemas["NewPassword"].Value),
			func(s string) bool { return account.CheckPassword(s) == "" }, passwordCorpus()},
		{"login deviceToken", admits(body("/v1/auth/login", "POST")["deviceToken"].Value),
			func(s string) bool { _, ok := account.ParseDeviceToken(s); return ok }, tokenCorpus("dv1.", "", 43)},
		{"verify-email token", admits(body("/v1/auth/verify-email", "POST")["token"].Value), linkToken(account.VerifyEmail), linkTokens("ev1.")},
		{"cancel-registration token", admits(body("/v1/auth/cancel-registration", "POST")["token"].Value), linkToken(account.VerifyEmail), linkTokens("ev1.")},
		{"password-reset token", admits(body("/v1/auth/password-reset/confirm", "POST")["token"].Value), linkToken(account.ResetPassword), linkTokens("pr1.")},
		{"order sku", admits(orderItem.Properties["sku"].Value), order.ValidSKU, skuCorpus()},
		{"Idempotency-Key", admits(idempotency), order.ValidIdempotencyKey, keyCorpus()},
	}
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			admitted := 0
			for _, s := range r.corpus {
				want := r.service(s)
				if got := r.schema(s); got != want {
					t.Errorf("%q: openapi.yaml admits it: %v, the service accepts it: %v", s, got, want)
				}
				if want {
					admitted++
				}
			}
			if admitted == 0 || admitted == len(r.corpus) {
				t.Errorf("corpus of %d strings, %d accepted: it must have both kinds", len(r.corpus), admitted)
			}
		})
	}

	// What the API answers with an email (Email) is what it stores, or
	// stored before registration refused local parts beyond ASCII.
	email := admits(schemas["Email"].Value)
	for _, s := range emailCorpus() {
		if n := account.NormalizeEmail(s); n != "" && !email(n) {
			t.Errorf("NormalizeEmail(%q) = %q, which the Email schema does not admit", s, n)
		}
	}
	// A password to check (PresentedPassword) is always worth checking.
	presented := admits(schemas["PresentedPassword"].Value)
	for _, s := range passwordCorpus() {
		if presented(s) && !account.Presentable(s) {
			t.Errorf("%q: PresentedPassword admits it, the service refuses to check it", s)
		}
	}
}

// runes a corpus is made of: every kind of character the rules name.
var corpusRunes = []rune(" !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~" +
	"\t\n\v\f\r\x00\x1b\x7f\u0085\u00a0\u00ad\u00b7\u00e9\u0301\u1680\u2000\u200a\u200b\u200d" +
	"\u2028\u2029\u202e\u202f\u205f\u3000\ue000\ufeff\ufffd\uffff\u2126\u00c5\u0391\u0416\u5c71\U0001f680\U000e0080")

func randomStrings(seed uint64, n, maxLen int, alphabet []rune) []string {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range rng.IntN(maxLen + 1) {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		out[i] = b.String()
	}
	return out
}

func emailCorpus() []string {
	atext := []rune("az09AZ!#$%&'*+-/=?^_`{|}~\u00e9\u5c71\U0001f680\u00b7\u00a0\u3000 .@\"(),:;<>[\\]\t\u200b\ue000")
	ofLength := func(n int) string { return strings.Repeat("a", n-len("@example.com")) + "@example.com" }
	corpus := []string{
		"ada@example.com", "Ada.Lovelace@Example.COM", "  ada@example.com\t\n", "ada+shop@example.com",
		"ÄDA@example.com", "zoë@example.com", "ada@mail.example.co.uk", "a@b.c", "0@0.com",
		"!#$%&'*+-/=?^_`{|}~@example.com", "ada@example-.com", "ada@-example.com", "ada@exa_mple.com",
		"\u00a0ada@example.com\u3000", "\u2028ada@example.com\u0085", "\u200bada@example.com",
		ofLength(253), ofLength(254), ofLength(255), "  " + ofLength(254) + "  ", " " + ofLength(255),
		"", " ", "ada", "ada@", "@example.com", "ada@example", "ada@example.com.", ".ada@example.com",
		"ada.@example.com", "a..da@example.com", "ada@example..com", "ada@@example.com", "ada@bob@example.com",
		"Ada <ada@example.com>", "<ada@example.com>", "ada@example.com (Ada)", "(Ada) ada@example.com",
		`"ada"@example.com`, `"ada lovelace"@example.com`, "ada lovelace@example.com", "ada\u00a0lovelace@example.com",
		"ada@[192.0.2.1]", "ada@[::ffff:192.0.2.1]", "ada@exam\u3000ple.com", "ada\u200d@example.com",
		"ada\ue000@example.com", "ada\uffff@example.com", "ada\U000e0080@example.com", "ada\x00@example.com",
		"ada@example.com\nbcc@example.com", "ada@\u00e9xample.com", "\u5c71@\u5c71.\u5c71",
		// Bytes, not characters; counted in NFC.
		strings.Repeat("\u00e9", 120) + "@example.com", strings.Repeat("\u00e9", 121) + "@example.com",
		strings.Repeat("\u00e9", 130) + "@example.com", strings.Repeat("\u5c71", 80) + "@x.io", strings.Repeat("\u5c71", 81) + "@x.io",
		strings.Repeat("e\u0301", 100) + "@example.com", strings.Repeat("e\u0301", 130) + "@example.com",
		// A local part beyond ASCII: PresentedEmail only. A Unicode domain:
		// both, when IDNA converts it; composed or decomposed alike.
		"zoë@bücher.example", "a\u0308da@example.com", "ad\u00e4@example.com", "\u00e9@example.com", "ada\u20ac@example.com",
		"ada@bücher.example", "ADA@BÜCHER.EXAMPLE", "ada@bu\u0308cher.example", "ada@e\u0301xample.com", "ada@\u0301example.com",
		"ada@a\u0301\u0301.example", "ada@example.рф", "ada@straße.de", "ada@ς.example", "ada@\u0130.example", "ada@\u2126.example",
		"ada@xn--bcher-kva.example", "XN--BCHER-KVA@XN--BCHER-KVA.EXAMPLE", "ada@xn--zz.example", "ada@ab--cd.example",
		"ada@abc--d.example", "ada@bücher-.example", "ada@-bücher.example", "ada@a-b.c-d", "ada@a--.example", "ada@a.-",
		"ada@שלום.example", "ada@aשלום.example", "ada@1.שלום", "ada@שלום1.example", "ada@\u0660.example", "ada@a\u0660.example",
		"ada@🚀.example", "ada@a·b.example", "ada@l·l.example", "ada@\u20ac.example", "ada@ｅｘａｍｐｌｅ.com", "ada@a.exam\u3002ple",
		"ada@a\u00b2.example", "ada@\u2460.example", "ada@\u2488.example", "ada@\u2167.example", "ada@a\u200db.example",
		"ada@\u0915\u094d\u200d.example", "ada@\u30a2\u30fc.example", "ada@\u4e2d\u6587.\u4e2d\u56fd",
	}
	corpus = append(corpus, randomStrings(1, 3000, 12, corpusRunes)...)
	// Shaped like addresses, with random parts.
	local, domain := randomStrings(2, 3000, 6, atext), randomStrings(3, 3000, 8, atext)
	pad := randomStrings(4, 3000, 2, []rune(" \t\n\u00a0\u3000\u2028\u0085a"))
	for i := range local {
		corpus = append(corpus, pad[i]+local[i]+"@"+domain[i]+pad[(i+1)%len(pad)])
	}
	// Shaped like registrable addresses, with random domains of letters of
	// several scripts and directions, marks, numbers, hyphens and dots.
	label := []rune("aZ09-.\u00e9e\u0301\u0308\u5c71\u05e9\u0627\u0660\u03a9\u0416\uff45\u00b2\u00df\u03c2\u0130\u200d")
	for i, d := range randomStrings(13, 3000, 10, label) {
		corpus = append(corpus, local[i]+"@"+d, "ada@"+d+".example")
	}
	return corpus
}

func nameCorpus() []string {
	corpus := []string{
		"Ada Lovelace", "  Ada \t\n", "Ada  King", "A", "Zoë Ångström", "山田太郎", "Ada 🚀", "O'Brien & Co. (€5) <b>",
		strings.Repeat("a", 99), strings.Repeat("a", 100), strings.Repeat("a", 101),
		"   " + strings.Repeat("a", 100) + "   ", "\u3000" + strings.Repeat("é", 100) + "\u2028", strings.Repeat("a", 101) + " ",
		"a" + strings.Repeat(" ", 98) + "a", "a" + strings.Repeat(" ", 99) + "a", "a" + strings.Repeat("\u00a0", 98) + "a",
		"", " ", "\u00a0\u00a0", "\u200b", "Ada\x00", "Ada\nLovelace", "Ada\tLovelace", "Ada\u2028Lovelace",
		"Ada\u202e", "Ada\u200d", "Ada\ue000", "Ada\uffff", "Ada\U000e0080", "\u0301", "\u0301a", "a\u0301", "\ufeffAda",
		// Counted in NFC: composed, or decomposed (U+0958 is two).
		strings.Repeat("e\u0301", 100), strings.Repeat("e\u0301", 101), strings.Repeat("\u0958", 50), strings.Repeat("\u0958", 51),
		" " + strings.Repeat("e\u0301", 100) + " ", "\u2126", "\u212b\u0301",
	}
	corpus = append(corpus, randomStrings(5, 5000, 8, corpusRunes)...)
	corpus = append(corpus, randomStrings(6, 500, 104, []rune("a \u00a0\u3000\t\u00e9"))...)
	return append(corpus, randomStrings(12, 500, 140, []rune("ae\u0301\u0958 "))...)
}

func passwordCorpus() []string {
	corpus := []string{"", "a", strings.Repeat("a", 11), strings.Repeat("a", 12), strings.Repeat("🔑", 12),
		strings.Repeat("a", 128), strings.Repeat("日", 128), strings.Repeat("a", 129), strings.Repeat("🔑", 129),
		" " + strings.Repeat("a", 10) + " ", "correct horse battery staple"}
	return append(corpus, randomStrings(7, 2000, 140, corpusRunes)...)
}

// linkToken is the service's check of a link token for purpose p.
func linkToken(p account.Purpose) func(string) bool {
	return func(s string) bool { _, err := account.ParseLinkToken(p, s); return err == nil }
}

// linkTokens is the corpus of link tokens with prefix (ev1., pr1.).
func linkTokens(prefix string) []string {
	return tokenCorpus(prefix, "01JNQ0000000000000000000AB.", 43)
}

// tokenCorpus makes tokens of the shape prefix + middle + n characters of
// base64url, and strings that miss it by one thing.
func tokenCorpus(prefix, middle string, n int) []string {
	b64 := []rune("ABCXYZabcxyz0189-_")
	valid := randomStrings(8, 50, 0, b64)
	for i, tail := range randomStrings(9, 50, n, b64) {
		if utf8.RuneCountInString(tail) == n {
			valid[i] = prefix + middle + tail
		} else {
			valid[i] = prefix + middle + strings.Repeat("A", n)
		}
	}
	out := append([]string{}, valid...)
	for _, v := range valid {
		out = append(out, v[1:], v+"A", v[:len(v)-1], "x"+v[1:], strings.Replace(v, ".", ",", 1),
			v[:len(v)-1]+"=", v[:len(v)-1]+"+", v+"\n", " "+v, strings.ToUpper(v[:3])+v[3:])
	}
	return append(out, "", prefix, "ev1."+middle+strings.Repeat("A", n), "pr1."+middle+strings.Repeat("A", n))
}

func skuCorpus() []string {
	corpus := []string{"COF-ESP-250", "A", "0", "A-", strings.Repeat("A", 32), strings.Repeat("A", 33), "-A", "a", "", "A B", "A_B", "É"}
	return append(corpus, randomStrings(10, 3000, 34, []rune("AZ09-a _É\n"))...)
}

func keyCorpus() []string {
	corpus := []string{"k", "order-1", strings.Repeat("k", 255), strings.Repeat("k", 256), "", " ", "a b", "é", "\t", "~!", "\x7f"}
	return append(corpus, randomStrings(11, 3000, 258, []rune("az!~ \x7f\u00e9\u2028"))...)
}
