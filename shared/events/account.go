package events

import (
	"fmt"
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

// SealContext is the KMS encryption context of the event's sealed token.
// It binds the ciphertext to this event: moved into another event, or to
// another account, it no longer decrypts.
func (e AccountEvent) SealContext() map[string]string {
	return map[string]string{"eventType": e.Type, "eventId": e.ID, "accountId": e.Account.ID}
}

// Validate checks the event against the schema of its version.
func (e AccountEvent) Validate() error {
	var c checker
	c.check(e.Type == AccountVerificationRequested || e.Type == AccountPasswordResetRequested, fmt.Sprintf("unknown type %q", e.Type))
	c.header(e.Header)
	c.check(idPattern.MatchString(e.Account.ID), "account.id is missing or malformed")
	c.check(validEmail(e.Account.Email), "account.email is malformed")
	c.check(len(e.Link.SealedToken) > 0 && len(e.Link.SealedToken) <= maxSealedToken, "link.sealedToken is missing or too long")
	c.check(e.Link.ExpiresAt.After(e.OccurredAt), "link.expiresAt is missing or not after occurredAt")
	return c.err()
}
