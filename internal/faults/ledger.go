package faults

import (
	"maps"
	"slices"
	"sync"
)

// Mail is one SendEmail as the proxy saw it: its first recipient and its
// subject.
type Mail struct{ To, Subject string }

// Event is an event the relay put on the events queue, as the proxy saw it
// in a SendMessageBatch entry SQS accepted.
type Event struct {
	ID, Type, Group string
	QueueURL        string
	Body            string
	Attributes      map[string]MessageAttribute
}

// MessageAttribute is an SQS message attribute in the JSON protocol.
type MessageAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
}

// Ledger is what the proxy and the campaign did: faults per kind, the
// events published, and the mails whose fate a fault decided. It is safe for concurrent use.
type Ledger struct {
	mu sync.Mutex
	s  Snapshot
}

// NewLedger returns an empty ledger.
func NewLedger() *Ledger {
	return &Ledger{s: Snapshot{
		Faults: map[Kind]int{}, Events: map[string]Event{},
		Rejected: map[Mail]int{}, AcceptedUnanswered: map[Mail]int{}, FinishFailed: map[string]int{},
	}}
}

// Fault counts one fault of kind k.
func (l *Ledger) Fault(k Kind) { l.mu.Lock(); l.s.Faults[k]++; l.mu.Unlock() }

// Published records an event SQS accepted on the events queue.
func (l *Ledger) Published(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.s.Events[e.ID]; !seen {
		l.s.EventOrder = append(l.s.EventOrder, e.ID)
	}
	l.s.Events[e.ID] = e
}

// Rejected records a mail the proxy rejected for good.
func (l *Ledger) Rejected(m Mail) { l.mu.Lock(); l.s.Rejected[m]++; l.mu.Unlock() }

// AcceptedUnanswered records a mail SES accepted whose answer the proxy
// dropped: the function cannot know it was sent.
func (l *Ledger) AcceptedUnanswered(m Mail) { l.mu.Lock(); l.s.AcceptedUnanswered[m]++; l.mu.Unlock() }

// FinishFailed records a fault injected on the notification function's
// write of the outcome of event id to its dedupe table.
func (l *Ledger) FinishFailed(eventID string) {
	l.mu.Lock()
	l.s.FinishFailed[eventID]++
	l.mu.Unlock()
}

// Snapshot is a copy of a ledger.
type Snapshot struct {
	Faults             map[Kind]int
	Events             map[string]Event
	EventOrder         []string // event ids in publication order
	Rejected           map[Mail]int
	AcceptedUnanswered map[Mail]int // sends SES accepted whose answer the proxy dropped
	FinishFailed       map[string]int
}

// Snapshot copies the ledger.
func (l *Ledger) Snapshot() Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Snapshot{
		Faults: maps.Clone(l.s.Faults), Events: maps.Clone(l.s.Events),
		EventOrder: slices.Clone(l.s.EventOrder), Rejected: maps.Clone(l.s.Rejected),
		AcceptedUnanswered: maps.Clone(l.s.AcceptedUnanswered), FinishFailed: maps.Clone(l.s.FinishFailed),
	}
}

// TotalFaults is the number of faults injected so far.
func (l *Ledger) TotalFaults() int { l.mu.Lock(); defer l.mu.Unlock(); return count(l.s.Faults) }
