package faults

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// MailKey names an order email: the order and what happened to it (one of
// Whats; MailOf reads it from a subject, EventMail from an event).
type MailKey struct{ OrderID, What string }

// DeadLetter is a message found in a dead-letter queue.
type DeadLetter struct {
	Queue   string // "notifications" (OrderEventsDLQ) or "relay" (RelayDeadLetterQueue)
	OrderID string // "" when the message names no order (a stream mapping's failure record)
	What    string // one of Whats for an order event
	Reason  string
}

// Observed is everything the campaign saw, the input of the account. Its
// maps of bool are sets: every value is true.
type Observed struct {
	Seed      uint64
	MinFaults int
	Faults    map[Kind]int
	Requests  int         // HTTP requests sent to the API
	Statuses  map[int]int // their answers by status (0: no answer, the connection failed)
	// TransitionStatuses are the answers of staff's transition routes
	// among them.
	TransitionStatuses map[int]int
	// Acknowledged orders and cancellations (2xx to the client), by order id.
	Acked, AckedCancels map[string]bool
	Stored              map[string]bool // the campaign customers' orders in the orders table
	Cancelled           map[string]bool // of those, the cancelled ones
	// Staff's transitions (What one of StaffWhats): those acknowledged
	// (2xx to the campaign's staff member), and those the stored orders'
	// histories show.
	Transitions, Reached map[MailKey]bool
	// TransitionsSent counts the staff transition requests the campaign
	// made (each with its retries), Repeats those of them that repeated a
	// transition, after its answer or at the same time; Refused lists the
	// transitions that got a 4xx answer: each was allowed from the status
	// the campaign had left the order in, and a repeat is 200.
	TransitionsSent, Repeats int
	Refused                  []string
	Published                map[MailKey]bool
	Mails                    map[MailKey]int // emails in the mailbox
	Rejected                 map[MailKey]int // mails the proxy rejected for good
	// AfterSESAccepted are the mails of which a copy was accepted by SES
	// while the function never learnt it: the answer was dropped, or the
	// write of the dedupe record failed.
	AfterSESAccepted map[MailKey]bool
	DeadLetters      []DeadLetter
}

// Account is the campaign's account.
type Account struct {
	Observed
	NotStored              []string // acknowledged, not in the table: must be none
	WithoutEmail           []MailKey
	DuplicatesAfterSES     int // emails beyond the first, of a mail SES accepted unanswered
	DuplicatesOther        []MailKey
	DeadLettered           map[MailKey]bool
	StoredUnacked          int
	UnackedWithoutEmail    int
	TransitionsNotStored   []MailKey // acknowledged, not in the order's history: must be none
	ReachedUnacked         int       // in a history, never acknowledged (the client gave up)
	ReachedUnackedMailless int
}

// Reckon draws up the account of what was observed.
func Reckon(o Observed) Account {
	a := Account{Observed: o, DeadLettered: map[MailKey]bool{}}
	for _, d := range o.DeadLetters {
		if d.OrderID != "" {
			a.DeadLettered[MailKey{d.OrderID, d.What}] = true
		}
	}
	missing := func(k MailKey) bool {
		return o.Mails[k] == 0 && !a.DeadLettered[k] && o.Rejected[k] == 0
	}
	for _, id := range slices.Sorted(maps.Keys(o.Acked)) {
		if !o.Stored[id] {
			a.NotStored = append(a.NotStored, id)
		}
		if k := (MailKey{id, Placed}); missing(k) {
			a.WithoutEmail = append(a.WithoutEmail, k)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(o.AckedCancels)) {
		if k := (MailKey{id, Cancelled}); missing(k) {
			a.WithoutEmail = append(a.WithoutEmail, k)
		}
	}
	for _, k := range sortedKeys(o.Transitions) {
		if !o.Reached[k] {
			a.TransitionsNotStored = append(a.TransitionsNotStored, k)
		}
		if missing(k) {
			a.WithoutEmail = append(a.WithoutEmail, k)
		}
	}
	for k := range o.Reached {
		if !o.Transitions[k] {
			a.ReachedUnacked++
			if missing(k) {
				a.ReachedUnackedMailless++
			}
		}
	}
	for id := range o.Stored {
		if !o.Acked[id] {
			a.StoredUnacked++
			if missing(MailKey{id, Placed}) {
				a.UnackedWithoutEmail++
			}
		}
	}
	for _, k := range sortedKeys(o.Mails) {
		if n := o.Mails[k]; n > 1 {
			if o.AfterSESAccepted[k] {
				a.DuplicatesAfterSES += n - 1
			} else {
				a.DuplicatesOther = append(a.DuplicatesOther, k)
			}
		}
	}
	return a
}

// sortedKeys returns m's keys by order, then what.
func sortedKeys[V any](m map[MailKey]V) []MailKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b MailKey) int {
		return cmp.Or(strings.Compare(a.OrderID, b.OrderID), strings.Compare(a.What, b.What))
	})
}

// Violations lists the rules the account breaks.
func (a Account) Violations() []string {
	var v []string
	if n := a.Total(); n < a.MinFaults {
		v = append(v, fmt.Sprintf("%d faults injected, fewer than %d", n, a.MinFaults))
	}
	if len(a.NotStored) > 0 {
		v = append(v, fmt.Sprintf("%d acknowledged orders are not stored: %v", len(a.NotStored), head(a.NotStored)))
	}
	if len(a.WithoutEmail) > 0 {
		v = append(v, fmt.Sprintf("%d acknowledged orders, cancellations or transitions have no email and were not dead-lettered: %v", len(a.WithoutEmail), head(a.WithoutEmail)))
	}
	if len(a.TransitionsNotStored) > 0 {
		v = append(v, fmt.Sprintf("%d acknowledged transitions are not in their order's history: %v", len(a.TransitionsNotStored), head(a.TransitionsNotStored)))
	}
	if len(a.Refused) > 0 {
		v = append(v, fmt.Sprintf("%d staff transitions were refused (4xx) though allowed, or repeated: %v", len(a.Refused), head(a.Refused)))
	}
	if len(a.DuplicatesOther) > 0 {
		v = append(v, fmt.Sprintf("%d emails were sent more than once without a crash after SES accepted them: %v", len(a.DuplicatesOther), head(a.DuplicatesOther)))
	}
	if n := a.Statuses[http.StatusInternalServerError]; n > 0 {
		v = append(v, fmt.Sprintf("%d answers were 500: a dependency that fails is a 503 with Retry-After", n))
	}
	return v
}

func head[T any](s []T) []T { return s[:min(len(s), 5)] }

// Total is the number of faults injected.
func (o Observed) Total() int { return count(o.Faults) }

// count adds up the values of m.
func count[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Print writes the account.
func (a Account) Print(w io.Writer) {
	line := func(label string, v any, note string) {
		if note != "" {
			note = "   " + note
		}
		fmt.Fprintf(w, "  %-58s %8v%s\n", label, v, note)
	}
	fmt.Fprintln(w, "== fault campaign account ==")
	line("seed", a.Seed, fmt.Sprintf("(repeat: FAULT_SEED=%d)", a.Seed))
	line("faults injected", a.Total(), fmt.Sprintf("(at least %d required)", a.MinFaults))
	for _, k := range Kinds {
		line("  "+string(k), a.Faults[k], "")
	}
	line("requests sent to the API", a.Requests, "("+statuses(a.Statuses)+")")
	line("orders acknowledged (2xx to the client)", len(a.Acked), "")
	line("orders stored (orders table)", len(a.Stored), "")
	line("  of which never acknowledged (client gave up or retried)", a.StoredUnacked, fmt.Sprintf("(%d of them without an email)", a.UnackedWithoutEmail))
	line("cancellations acknowledged", len(a.AckedCancels), fmt.Sprintf("(%d cancelled orders stored)", len(a.Cancelled)))
	line("staff transitions acknowledged (2xx to the client)", len(a.Transitions), "("+byWhat(a.Transitions, StaffWhats)+")")
	line("  requests (each with its retries)", a.TransitionsSent, fmt.Sprintf("(%d of them repeats, after the answer or at once)", a.Repeats))
	line("  answers of the transition routes", count(a.TransitionStatuses), "("+statuses(a.TransitionStatuses)+")")
	line("  in the orders' histories", len(a.Reached), fmt.Sprintf("(%d never acknowledged, %d of them without an email)", a.ReachedUnacked, a.ReachedUnackedMailless))
	line("order events published (relay to queue)", len(a.Published), "")
	line("order emails sent (distinct)", len(a.Mails), fmt.Sprintf("(%d in all; %s)", count(a.Mails), byWhat(a.Mails, Whats)))
	line("  not sent: permanently rejected by SES (injected)", len(a.Rejected), "(acknowledged by design, not dead-lettered)")
	line("duplicate emails", len(a.DuplicatesOther), "(must be 0)")
	line("duplicate emails after a crash after SES accepted the mail", a.DuplicatesAfterSES,
		"(SES SendEmail has no idempotency token: a send whose answer is lost is sent again)")
	line("messages dead-lettered", len(a.DeadLetters), "")
	reasons := map[string]int{}
	for _, d := range a.DeadLetters {
		reasons[d.Queue+": "+d.Reason]++
	}
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		line("  "+r, reasons[r], "")
	}
	fmt.Fprintln(w, "  checks")
	check := func(label string, bad int) {
		verdict := "ok"
		if bad > 0 {
			verdict = "VIOLATED"
		}
		line("  "+label, bad, verdict)
	}
	check("acknowledged orders not stored", len(a.NotStored))
	check("acknowledged without an email, apart from dead-lettered", len(a.WithoutEmail))
	check("acknowledged transitions not in the order's history", len(a.TransitionsNotStored))
	check("staff transitions refused (a repeat is 200)", len(a.Refused))
	check("duplicate emails, apart from crashes after SES accepted", len(a.DuplicatesOther))
	check("answers 500 (a failing dependency is a 503)", a.Statuses[http.StatusInternalServerError])
	check("faults short of the minimum", max(0, a.MinFaults-a.Total()))
}

// statuses lists the counts of answers by status: "no answer: 1, 201: 4".
func statuses(m map[int]int) string {
	var st []string
	for _, s := range slices.Sorted(maps.Keys(m)) {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "no answer"
		}
		st = append(st, fmt.Sprintf("%s: %d", name, m[s]))
	}
	return strings.Join(st, ", ")
}

// byWhat counts m's keys by what, in the order of whats: "placed 3, shipped 1".
func byWhat[V any](m map[MailKey]V, whats []string) string {
	n := map[string]int{}
	for k := range m {
		n[k.What]++
	}
	var out []string
	for _, w := range whats {
		out = append(out, fmt.Sprintf("%s %d", w, n[w]))
	}
	return strings.Join(out, ", ")
}
