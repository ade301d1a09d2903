package faults_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/faults"
)

func key(id, what string) faults.MailKey { return faults.MailKey{OrderID: id, What: what} }

// healthy is an observation every rule accepts: o3 dead-lettered, o4
// rejected for good, o1 mailed twice after SES accepted unanswered; staff
// took o1 through to delivery (its shipped mail rejected for good), o4 to
// confirmed (its mail dead-lettered), cancelled o5, and confirmed o3 without
// learning it.
func healthy() faults.Observed {
	return faults.Observed{
		Seed: 7, MinFaults: 3,
		Faults:             map[faults.Kind]int{faults.DynamoThrottling: 2, faults.SESRejection: 1},
		Requests:           6,
		Statuses:           map[int]int{201: 4, 502: 1, 503: 1, 0: 1},
		TransitionStatuses: map[int]int{200: 7, 503: 1},
		Acked:              map[string]bool{"o1": true, "o2": true, "o3": true, "o4": true},
		AckedCancels:       map[string]bool{"o2": true},
		Stored:             map[string]bool{"o1": true, "o2": true, "o3": true, "o4": true, "o5": true},
		Cancelled:          map[string]bool{"o2": true, "o5": true},
		Transitions: map[faults.MailKey]bool{
			key("o1", faults.Confirmed): true, key("o1", faults.Shipped): true, key("o1", faults.Delivered): true,
			key("o4", faults.Confirmed): true, key("o5", faults.ShopCancelled): true,
		},
		Reached: map[faults.MailKey]bool{
			key("o1", faults.Confirmed): true, key("o1", faults.Shipped): true, key("o1", faults.Delivered): true,
			key("o4", faults.Confirmed): true, key("o5", faults.ShopCancelled): true, key("o3", faults.Confirmed): true,
		},
		TransitionsSent: 7, Repeats: 2,
		Published: map[faults.MailKey]bool{key("o1", faults.Placed): true},
		Mails: map[faults.MailKey]int{
			key("o1", faults.Placed): 2, key("o2", faults.Placed): 1, key("o2", faults.Cancelled): 1, key("o5", faults.Placed): 1,
			key("o1", faults.Confirmed): 1, key("o1", faults.Delivered): 1, key("o5", faults.ShopCancelled): 1,
		},
		Rejected:         map[faults.MailKey]int{key("o4", faults.Placed): 1, key("o1", faults.Shipped): 1},
		AfterSESAccepted: map[faults.MailKey]bool{key("o1", faults.Placed): true},
		DeadLetters: []faults.DeadLetter{
			{Queue: "notifications", OrderID: "o3", What: faults.Placed, Reason: "redrive policy"},
			{Queue: "relay", OrderID: "o4", What: faults.Confirmed, Reason: "poison: InvalidMessageContents"},
			{Queue: "relay", Reason: "stream mapping gave up: RetryAttemptsExhausted"},
		},
	}
}

func TestReckon(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*faults.Observed)
		want   []string // substrings of the violations, in order
	}{
		{name: "healthy", change: func(*faults.Observed) {}},
		{name: "acknowledged order not stored", change: func(o *faults.Observed) { delete(o.Stored, "o2") },
			want: []string{"1 acknowledged orders are not stored: [o2]"}},
		{name: "acknowledged order without email", change: func(o *faults.Observed) { delete(o.Mails, key("o2", faults.Placed)) },
			want: []string{"1 acknowledged orders, cancellations or transitions have no email"}},
		{name: "cancellation without email", change: func(o *faults.Observed) { delete(o.Mails, key("o2", faults.Cancelled)) },
			want: []string{"{o2 cancelled}"}},
		{name: "acknowledged transition without email", change: func(o *faults.Observed) { delete(o.Mails, key("o1", faults.Delivered)) },
			want: []string{"{o1 delivered}"}},
		{name: "shop's cancellation mailed as the customer's", change: func(o *faults.Observed) {
			delete(o.Mails, key("o5", faults.ShopCancelled))
			o.Mails[key("o5", faults.Cancelled)] = 1
		}, want: []string{"{o5 shop-cancelled}"}},
		{name: "dead letter of another transition", change: func(o *faults.Observed) { o.DeadLetters[1].What = faults.Shipped },
			want: []string{"{o4 confirmed}"}},
		{name: "acknowledged transition not stored", change: func(o *faults.Observed) { delete(o.Reached, key("o1", faults.Delivered)) },
			want: []string{"1 acknowledged transitions are not in their order's history: [{o1 delivered}]"}},
		{name: "transition refused", change: func(o *faults.Observed) { o.Refused = []string{"o1 ship: 409"} },
			want: []string{"1 staff transitions were refused"}},
		{name: "duplicate transition email", change: func(o *faults.Observed) { o.Mails[key("o1", faults.Confirmed)] = 2 },
			want: []string{"[{o1 confirmed}]"}},
		{name: "duplicate transition email after SES accepted", change: func(o *faults.Observed) {
			o.Mails[key("o1", faults.Confirmed)] = 2
			o.AfterSESAccepted[key("o1", faults.Confirmed)] = true
		}},
		{name: "duplicate without a crash", change: func(o *faults.Observed) { o.Mails[key("o2", faults.Placed)] = 2 },
			want: []string{"1 emails were sent more than once"}},
		{name: "an answer 500", change: func(o *faults.Observed) { o.Statuses[500] = 2 },
			want: []string{"2 answers were 500"}},
		{name: "a transition answered 500", change: func(o *faults.Observed) { o.Statuses[500], o.TransitionStatuses[500] = 1, 1 },
			want: []string{"1 answers were 500"}},
		{name: "too few faults", change: func(o *faults.Observed) { o.MinFaults = 4 },
			want: []string{"3 faults injected, fewer than 4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := healthy()
			tt.change(&o)
			got := faults.Reckon(o).Violations()
			if len(got) != len(tt.want) {
				t.Fatalf("violations %q, want %d", got, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Fatalf("violation %q, want it to mention %q", got[i], w)
				}
			}
		})
	}
}

func TestReckonCounts(t *testing.T) {
	t.Parallel()
	a := faults.Reckon(healthy())
	if a.DuplicatesAfterSES != 1 || len(a.DuplicatesOther) != 0 {
		t.Fatalf("duplicates after SES %d, other %v: want 1 and none", a.DuplicatesAfterSES, a.DuplicatesOther)
	}
	if a.StoredUnacked != 1 || a.UnackedWithoutEmail != 0 {
		t.Fatalf("stored unacknowledged %d (%d without email), want 1 (0)", a.StoredUnacked, a.UnackedWithoutEmail)
	}
	if a.ReachedUnacked != 1 || a.ReachedUnackedMailless != 1 {
		t.Fatalf("transitions stored unacknowledged %d (%d without email), want 1 (1)", a.ReachedUnacked, a.ReachedUnackedMailless)
	}
	var b bytes.Buffer
	a.Print(&b)
	for _, want := range []string{
		"seed", "FAULT_SEED=7", "dynamodb-throttling", "requests sent to the API", "no answer: 1",
		"duplicate emails after a crash after SES accepted the mail        1", "SES SendEmail has no idempotency token",
		"notifications: redrive policy", "relay: stream mapping gave up", "ok",
		"staff transitions acknowledged (2xx to the client)                5   (confirmed 2, shipped 1, delivered 1, shop-cancelled 1)",
		"(2 of them repeats", "answers of the transition routes                                8   (200: 7, 503: 1)", "(1 never acknowledged, 1 of them without an email)",
		"(8 in all; placed 3, confirmed 1, shipped 0, delivered 1, cancelled 1, shop-cancelled 1)",
		"acknowledged transitions not in the order's history             0   ok",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("account lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "VIOLATED") {
		t.Errorf("a healthy account says VIOLATED:\n%s", b.String())
	}
}
