package events

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Event types of accounts: each asks the notification service to mail the
// account's owner a link.
const (
	AccountVerificationRequested  = "account.verification_requested"
	AccountPasswordResetRequested = "account.password_reset_requested"
)

// maxSealedToken bounds the sealed token of a link: a KMS ciphertext of a
// token of under a hundred bytes is a few hundred bytes.
const maxSealedToken = 4096

// AccountEvent is the envelope and payload of an account event.
type AccountEvent struct {
	Header
	Account Account `json:"account"`
	Link    Link    `json:"link"`
}

// Account is whom the email goes to. It has no name: an account email may
// go to an address nobody has proved, so it carries no text the
// registrant chose, and what the email does not show the event need not
// carry. (Events of version 1 from before carried account.name; it is
// optional in that schema, so dropping it keeps the version: consumers
// ignore it as an unknown field, and an older consumer reads its absence
// as the empty name it always accepted.)
type Account struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// Link is the one-time link the email carries.
type Link struct {
	// SealedToken is the link's token encrypted with KMS under the context
	// SealContext names (base64 in JSON). The token itself never travels:
	// a reader of the table, the stream, the queue or the dead-letter
	// queue cannot use it without the notification service's key grant.
	SealedToken []byte    `json:"sealedToken"`
	ExpiresAt   time.Time `json:"expiresAt"` // after this the link is dead: no point mailing it
}

// Link purposes, as the seal context names them: what a link of each
// account event type lets its reader do.
const (
	PurposeVerifyEmail   = "verify-email"
	PurposeResetPassword = "reset-password"
)

// linkPurposes is the purpose of the link an account event of each type
// mails.
var linkPurposes = map[string]string{
	AccountVerificationRequested:  PurposeVerifyEmail,
	AccountPasswordResetRequested: PurposeResetPassword,
}

// LinkPurpose is the purpose of the link an account event of type
// eventType mails, or "" for a type that mails none.
func LinkPurpose(eventType string) string { return linkPurposes[eventType] }

// Keys of SealContext. The key policy of the link key (template.yaml,
// LinkKey) requires exactly these on every Encrypt and Decrypt.
const (
	SealEventType = "eventType"
	SealEventID   = "eventId"
	SealAccountID = "accountId"
	SealRecipient = "recipientSha256"
	SealPurpose   = "purpose"
	SealExpiresAt = "expiresAt"
)

// SealContext is the KMS encryption context of the event's sealed token.
// It binds the ciphertext to everything the link's email depends on: the
// event, the account, the address it is mailed to, what the link does and
// when it dies. Moved into another event, re-addressed to another
// recipient, given a later expiry or another purpose, it no longer
// decrypts, so whoever can write an event (a compromised relay, a wrong
// grant on the queue or the table) cannot have a victim's link mailed to
// itself.
//
// The recipient is bound by the (hex) SHA-256 of the address as the event
// carries it (the users service's normalized address): KMS writes the
// encryption context in the clear into CloudTrail, which should hold no
// email address. The expiry is RFC 3339 in UTC to the nanosecond, which a
// JSON round trip of the event keeps.
func (e AccountEvent) SealContext() map[string]string {
	recipient := sha256.Sum256([]byte(e.Account.Email)) // the address exactly as given
	return map[string]string{
		SealEventType: e.Type,
		SealEventID:   e.ID,
		SealAccountID: e.Account.ID,
		SealRecipient: hex.EncodeToString(recipient[:]),
		SealPurpose:   LinkPurpose(e.Type),
		SealExpiresAt: e.Link.ExpiresAt.UTC().Format(time.RFC3339Nano),
	}
}

// Validate checks the event against the schema of its version.
func (e AccountEvent) Validate() error {
	var c checker
	c.header(e.Header, LinkPurpose(e.Type) != "")
	c.check(isID(e.Account.ID), "account.id is missing or malformed")
	c.check(validEmail(e.Account.Email), "account.email is malformed")
	c.check(len(e.Link.SealedToken) > 0 && len(e.Link.SealedToken) <= maxSealedToken, "link.sealedToken is missing or too long")
	c.check(e.Link.ExpiresAt.After(e.OccurredAt), "link.expiresAt is missing or not after occurredAt")
	return c.err()
}
