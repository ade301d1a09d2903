package events_test

import (
	"encoding/json"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/events"
)

const accountFixture = "testdata/account_verification_requested.json"

// editedAccount returns the verification fixture after edit has changed its
// generic JSON form.
func editedAccount(t *testing.T, edit func(ev map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile(accountFixture)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	if b, err = json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAccountFixture(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, time.March, 14, 9, 26, 53, 0, time.UTC)
	want := events.AccountEvent{
		Header: events.Header{
			Type: events.AccountVerificationRequested, Version: events.Version,
			ID: "01JEVT0VERIFY0000000000001", OccurredAt: at, CorrelationID: "corr-verify-1",
		},
		Account: events.Account{ID: "01JUSR0000000000000000001", Email: "ada@example.com"},
		Link:    events.Link{SealedToken: []byte("sealed:verify-token"), ExpiresAt: at.Add(24 * time.Hour)},
	}
	b, err := os.ReadFile(accountFixture)
	if err != nil {
		t.Fatal(err)
	}
	got, err := events.Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Parse =\n%+v\nwant\n%+v", got, want)
	}
	// The fixture is the wire format: marshalling the event gives it back.
	out, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var fromFile, fromGo any
	_ = json.Unmarshal(b, &fromFile)
	_ = json.Unmarshal(out, &fromGo)
	if !reflect.DeepEqual(fromFile, fromGo) {
		t.Errorf("marshalled event differs from the fixture:\n%s", out)
	}
	if _, err := events.ParseOrder(b); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("ParseOrder of an account event = %v, want ErrInvalid", err)
	}
}

// TestAccountEventCarriesNoName: an event from a producer of before, with
// account.name, still parses (the field is unknown now), and no event
// written today carries a name: an account email may go to an address
// nobody has proved, and shows no text the registrant chose.
func TestAccountEventCarriesNoName(t *testing.T) {
	t.Parallel()
	const name = "Your order is on hold: pay at https://evil.example within 24h"
	old := editedAccount(t, func(ev map[string]any) { ev["account"].(map[string]any)["name"] = name })
	e, err := events.Parse(old)
	if err != nil {
		t.Fatalf("Parse of an event with account.name: %v", err)
	}
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), name) || strings.Contains(string(out), `"name"`) {
		t.Errorf("the account event carries a name: %s", out)
	}
}

func TestParseAccountRejects(t *testing.T) {
	t.Parallel()
	account := func(ev map[string]any) map[string]any { return ev["account"].(map[string]any) }
	link := func(ev map[string]any) map[string]any { return ev["link"].(map[string]any) }
	tests := []struct {
		name     string
		edit     func(ev map[string]any)
		wantText string
	}{
		{"version 2", func(ev map[string]any) { ev["version"] = 2 }, "unsupported version 2"},
		{"account id missing", func(ev map[string]any) { delete(account(ev), "id") }, "account.id"},
		{"account missing", func(ev map[string]any) { delete(ev, "account") }, "account.id"},
		{"email without @", func(ev map[string]any) { account(ev)["email"] = "ada.example.com" }, "account.email"},
		{"no sealed token", func(ev map[string]any) { delete(link(ev), "sealedToken") }, "link.sealedToken"},
		{"sealed token not base64", func(ev map[string]any) { link(ev)["sealedToken"] = "not base64!" }, "illegal base64"},
		{"sealed token too long", func(ev map[string]any) { link(ev)["sealedToken"] = strings.Repeat("QUFB", 1366) }, "link.sealedToken"},
		{"no expiry", func(ev map[string]any) { delete(link(ev), "expiresAt") }, "link.expiresAt"},
		{"expires before it occurred", func(ev map[string]any) { link(ev)["expiresAt"] = "2025-03-14T09:26:52Z" }, "link.expiresAt"},
		{"an order type", func(ev map[string]any) { ev["type"] = events.OrderCreated }, "order.id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := events.Parse(editedAccount(t, tc.edit))
			if !errors.Is(err, events.ErrInvalid) || ev != nil {
				t.Fatalf("Parse = %+v, %v; want ErrInvalid", ev, err)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("Parse error = %q, want it to mention %q", err, tc.wantText)
			}
		})
	}
}

func TestSealContextNamesTheEvent(t *testing.T) {
	t.Parallel()
	expires := time.Date(2025, time.March, 14, 9, 56, 53, 123456789, time.FixedZone("CET", 3600))
	e := events.AccountEvent{
		Header:  events.Header{Type: events.AccountPasswordResetRequested, ID: "ev-1"},
		Account: events.Account{ID: "u-1", Email: "ada@example.com"},
		Link:    events.Link{ExpiresAt: expires},
	}
	want := map[string]string{
		"eventType": events.AccountPasswordResetRequested, "eventId": "ev-1", "accountId": "u-1",
		// sha256("ada@example.com")
		"recipientSha256": "b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72",
		"purpose":         "reset-password",
		"expiresAt":       "2025-03-14T08:56:53.123456789Z",
	}
	if got := e.SealContext(); !reflect.DeepEqual(got, want) {
		t.Fatalf("SealContext = %v, want %v", got, want)
	}
	keys := slices.Sorted(maps.Keys(e.SealContext()))
	if !slices.Equal(keys, events.SealContextKeys()) {
		t.Errorf("SealContext keys %v, SealContextKeys %v", keys, events.SealContextKeys())
	}
}

// TestSealContextBindsWhatTheEmailDependsOn: every change that would send
// the link elsewhere, for longer or for another purpose changes the
// context (so KMS refuses to open the token), and a JSON round trip of the
// event, as through the outbox and the queue, does not.
func TestSealContextBindsWhatTheEmailDependsOn(t *testing.T) {
	t.Parallel()
	base := func() events.AccountEvent {
		return events.AccountEvent{
			Header:  events.Header{Type: events.AccountPasswordResetRequested, Version: events.Version, ID: "ev-1", OccurredAt: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)},
			Account: events.Account{ID: "u-1", Email: "ada@example.com"},
			Link:    events.Link{SealedToken: []byte("sealed"), ExpiresAt: time.Date(2025, 3, 14, 9, 56, 53, 500, time.UTC)},
		}
	}
	sealedTo := base().SealContext()
	tests := []struct {
		name string
		edit func(e *events.AccountEvent)
		same bool
	}{
		{"re-addressed", func(e *events.AccountEvent) { e.Account.Email = "mallory@example.com" }, false},
		{"re-addressed in another case", func(e *events.AccountEvent) { e.Account.Email = "Ada@example.com" }, false},
		{"re-addressed with a trailing dot", func(e *events.AccountEvent) { e.Account.Email = "ada@example.com." }, false},
		{"another account", func(e *events.AccountEvent) { e.Account.ID = "u-2" }, false},
		{"another event", func(e *events.AccountEvent) { e.ID = "ev-2" }, false},
		{"another purpose", func(e *events.AccountEvent) { e.Type = events.AccountVerificationRequested }, false},
		{"a later expiry", func(e *events.AccountEvent) { e.Link.ExpiresAt = e.Link.ExpiresAt.Add(24 * time.Hour) }, false},
		{"a nanosecond later", func(e *events.AccountEvent) { e.Link.ExpiresAt = e.Link.ExpiresAt.Add(time.Nanosecond) }, false},
		{"the same instant in another zone", func(e *events.AccountEvent) {
			e.Link.ExpiresAt = e.Link.ExpiresAt.In(time.FixedZone("UTC-5", -5*3600))
		}, true},
		{"a JSON round trip", func(e *events.AccountEvent) {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := events.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			*e = ev.(events.AccountEvent)
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := base()
			tc.edit(&e)
			if got := e.SealContext(); reflect.DeepEqual(got, sealedTo) != tc.same {
				t.Errorf("SealContext = %v, sealed to %v: same = %v, want %v", got, sealedTo, !tc.same, tc.same)
			}
		})
	}
}

func TestLinkPurpose(t *testing.T) {
	t.Parallel()
	for typ, want := range map[string]string{
		events.AccountVerificationRequested:  "verify-email",
		events.AccountPasswordResetRequested: "reset-password",
		events.OrderCreated:                  "",
		"":                                   "",
	} {
		if got := events.LinkPurpose(typ); got != want {
			t.Errorf("LinkPurpose(%q) = %q, want %q", typ, got, want)
		}
	}
}
