//go:build integration

package e2e

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/serverless-shop/backend/internal/testcloud"
	"github.com/serverless-shop/backend/shared/kmskeys"
	"github.com/serverless-shop/backend/shared/token"
)

// The tests of this file prove, against the deployed stack, the findings
// of the abuse review that are about what a client sends; each
// was reproduced before its fix. The others: login throttling
// (TestLoginIsThrottledWithoutLockingTheOwnerOut,
// TestLoginAttemptsSentAtOnceAreCountedOneByOne), quotas
// (TestOrderQuotaLimitsOrdersNotTheirEmails), the relay's poison records
// (functions/users/store TestPoisonIsDeadLetteredAndTheShardMovesOn),
// the catalog seed (functions/orders/catalog) and the template
// (internal/contract). docs/security.md maps them all.

// TestAbuseNamesAndEmailsAreCleanAndNormalised: a noncharacter, a control
// or a format character in a name or an email is refused before it can
// reach a token, an order or an event, and so is an email SES cannot
// deliver to; names and emails are stored in NFC, and two spellings of one
// email are one account, which is mailed at its domain's Punycode.
func TestAbuseNamesAndEmailsAreCleanAndNormalised(t *testing.T) {
	t.Parallel()
	email := uniqueEmail(t, "nfc")
	for name, body := range map[string]map[string]string{
		"U+FFFF in the name":  {"email": email, "password": "correct horse battery staple", "name": "Ada\uffff"},
		"U+FFFE in the name":  {"email": email, "password": "correct horse battery staple", "name": "\ufffeAda"},
		"a control character": {"email": email, "password": "correct horse battery staple", "name": "Ada\u0007"},
		"a bidi override":     {"email": email, "password": "correct horse battery staple", "name": "Ada\u202e"},
		"U+FFFF in the email": {"email": "ada\uffff" + email, "password": "correct horse battery staple", "name": "Ada"},
	} {
		t.Run(name, func(t *testing.T) {
			p := call(t, "POST", "/v1/auth/register", body).Problem(t, http.StatusBadRequest, "")
			if len(p.Errors) == 0 {
				t.Fatalf("problem without its fields: %+v", p)
			}
		})
	}
	// An email whose local part goes beyond ASCII: SES cannot deliver to
	// it (no SMTPUTF8), so registration refuses it, says why in the email
	// field, and writes nothing: the right password logs nobody in.
	local, _, _ := strings.Cut(email, "@")
	unmailable := local + "\u00e9@example.com"
	p := call(t, "POST", "/v1/auth/register", map[string]string{"email": unmailable, "password": "correct horse battery staple", "name": "Ada"}).Problem(t, http.StatusBadRequest, "")
	if len(p.Errors) != 1 || p.Errors[0].Field != "email" || !strings.Contains(p.Errors[0].Message, "ASCII") {
		t.Fatalf("%s refused with %+v, want the email field saying it must be ASCII", unmailable, p.Errors)
	}
	call(t, "POST", "/v1/auth/login", map[string]string{"email": unmailable, "password": "correct horse battery staple"}).Problem(t, http.StatusUnauthorized, "invalid-credentials")

	// "e" + combining acute, in the name and the email's domain: stored
	// composed; the composed spelling of the email is the same account.
	decomposed, composed := local+"@cafe\u0301.example", local+"@caf\u00e9.example"
	var reg struct{ Email, Name string }
	call(t, "POST", "/v1/auth/register", map[string]string{"email": decomposed, "password": "correct horse battery staple", "name": "Rene\u0301e"}).Expect(t, 201).JSON(t, &reg)
	if reg.Name != "Ren\u00e9e" || reg.Email != composed {
		t.Fatalf("registered %q %q, want both in NFC", reg.Name, reg.Email)
	}
	// Nor is any other spelling of the domain a second account for the
	// same mailbox: its Punycode, or full-width letters.
	for _, twin := range []string{composed, local + "@xn--caf-dma.example", local + "@XN--CAF-DMA.example", local + "@\uff43\uff41\uff46\u00e9.example"} {
		p = call(t, "POST", "/v1/auth/register", map[string]string{"email": twin, "password": "correct horse battery staple", "name": "Twin"}).Problem(t, http.StatusConflict, "")
		if !strings.HasSuffix(p.Type, "#email-taken") {
			t.Fatalf("%q registered again: %s", twin, p.Type)
		}
	}
	// And such a user's mail reaches the mailbox, at the domain's Punycode
	// (SES takes ASCII addresses only): the verification, then an order's
	// confirmation. Nothing in the name or the email is refused on the way.
	sentTo := local + "@xn--caf-dma.example"
	u := user{Email: reg.Email, Name: reg.Name, Password: "correct horse battery staple"}
	verifyEmailAt(t, sentTo)
	u.login(t)
	var o orderDoc
	call(t, "POST", "/v1/orders", items("CUP-ESP-2", 1), u.bearer()...).Expect(t, 201).JSON(t, &o)
	testcloud.Eventually(t, time.Minute, "the confirmation of order "+o.ID+" to "+sentTo, func() bool {
		return len(testcloud.MailTo(t, sentTo, o.ID+" confirmed")) == 1
	})
}

// TestAbuseBodiesAreParsedStrictly: a body needs its JSON Content-Type; a
// key given twice, or in two cases, is refused rather than resolved, and
// nothing is written.
func TestAbuseBodiesAreParsedStrictly(t *testing.T) {
	t.Parallel()
	u := signUp(t, "strict")
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"no Content-Type", "", `{"items":[{"sku":"CUP-ESP-2","quantity":1}]}`, http.StatusUnsupportedMediaType},
		{"text/plain", "text/plain", `{"items":[{"sku":"CUP-ESP-2","quantity":1}]}`, http.StatusUnsupportedMediaType},
		{"items twice", "application/json", `{"items":[{"sku":"CUP-ESP-2","quantity":1}],"items":[{"sku":"CUP-ESP-2","quantity":90}]}`, http.StatusBadRequest},
		{"a key in two cases", "application/json", `{"items":[{"sku":"CUP-ESP-2","quantity":1}],"Items":[]}`, http.StatusBadRequest},
		{"a field name in another case", "application/json", `{"Items":[{"sku":"CUP-ESP-2","quantity":1}]}`, http.StatusBadRequest},
		{"a line's key twice", "application/json", `{"items":[{"sku":"CUP-ESP-2","quantity":1,"quantity":50}]}`, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			call(t, "POST", "/v1/orders", tc.body, "Content-Type", tc.contentType, "Authorization", "Bearer "+u.Access).Problem(t, tc.status, "")
		})
	}
	var list struct{ Items []orderDoc }
	call(t, "GET", "/v1/orders", nil, u.bearer()...).Expect(t, 200).JSON(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("refused requests placed %d orders", len(list.Items))
	}
}

// TestAbuseTokensAreDecodedStrictly: a token has one encoding and one
// signature; a valid token re-encoded, or with its signature's other
// valid S, and a token signed by the real key but living longer than the
// configured lifetime, are all refused.
func TestAbuseTokensAreDecodedStrictly(t *testing.T) {
	t.Parallel()
	u := signUp(t, "strict-token")
	parts := strings.Split(u.Access, ".")
	sig, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature %q: %v", parts[2], err)
	}
	// The last of 86 characters carries 2 bits and 4 unused ones: set them.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	loose := parts[2][:85] + string(alphabet[strings.IndexByte(alphabet, parts[2][85])|0x0f])
	highS := new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(sig[32:]))
	flipped := append(append([]byte{}, sig[:32]...), highS.FillBytes(make([]byte, 32))...)

	// A token signed with the deployed signing key, for 24 hours.
	kid, _ := jwtHeader(t, u.Access)["kid"].(string)
	keys := kms.NewFromConfig(testcloud.Config(t))
	signer := kmskeys.SignerFor(keys, output(t, "ActiveSigningKeyId"), kid)
	issuer := "urn:serverless-shop:" + output(t, "StackName")
	mint := func(ttl time.Duration) string {
		claims := jwtClaims(t, u.Access)
		raw, _, err := token.NewIssuer(signer, issuer, issuer+":api", ttl, nil).Issue(context.Background(), token.Subject{
			UserID: u.ID, Email: u.Email, Name: u.Name, EmailVerified: true,
			SessionID: claims["sid"].(string), SessionEpoch: int64(claims["sep"].(float64)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	// The same minting with the configured lifetime is accepted: what
	// refuses the long one is its lifetime, nothing else.
	call(t, "GET", "/v1/users/me", nil, "Authorization", "Bearer "+mint(15*time.Minute)).Expect(t, 200)

	for name, tok := range map[string]string{
		"unused bits set in the signature": parts[0] + "." + parts[1] + "." + loose,
		"padded signature":                 u.Access + "==",
		"the other S":                      parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(flipped),
		"a lifetime of a day":              mint(24 * time.Hour),
	} {
		t.Run(name, func(t *testing.T) { refusedEverywhere(t, tok) })
	}
}
