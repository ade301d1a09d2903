package faults_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/serverless-shop/backend/internal/faults"
)

func key(id, what string) faults.MailKey { return faults.MailKey{OrderID: id, What: what} }

// healthy is an observation every rule accepts: o3 dead-lettered, o4
// rejected for good, o1 mailed twice after SES accepted unanswered.
func healthy() faults.Observed {
	return faults.Observed{
		Seed: 7, MinFaults: 3,
		Faults:       map[faults.Kind]int{faults.DynamoThrottling: 2, faults.SESRejection: 1},
		Requests:     6,
		Statuses:     map[int]int{201: 4, 502: 1, 503: 1, 0: 1},
		Acked:        map[string]bool{"o1": true, "o2": true, "o3": true, "o4": true},
		AckedCancels: map[string]bool{"o2": true},
		Stored:       map[string]bool{"o1": true, "o2": true, "o3": true, "o4": true, "o5": true},
		Cancelled:    map[string]bool{"o2": true},
		Published:    map[faults.MailKey]bool{key("o1", "confirmed"): true},
		Mails: map[faults.MailKey]int{
			key("o1", "confirmed"): 2, key("o2", "confirmed"): 1, key("o2", "cancelled"): 1, key("o5", "confirmed"): 1,
		},
		Rejected:         map[faults.MailKey]int{key("o4", "confirmed"): 1},
		AfterSESAccepted: map[faults.MailKey]bool{key("o1", "confirmed"): true},
		DeadLetters: []faults.DeadLetter{
			{Queue: "notifications", OrderID: "o3", What: "confirmed", Reason: "redrive policy"},
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
		{name: "acknowledged order without email", change: func(o *faults.Observed) { delete(o.Mails, key("o2", "confirmed")) },
			want: []string{"1 acknowledged orders or cancellations have no email"}},
		{name: "cancellation without email", change: func(o *faults.Observed) { delete(o.Mails, key("o2", "cancelled")) },
			want: []string{"{o2 cancelled}"}},
		{name: "duplicate without a crash", change: func(o *faults.Observed) { o.Mails[key("o2", "confirmed")] = 2 },
			want: []string{"1 emails were sent more than once"}},
		{name: "an answer 500", change: func(o *faults.Observed) { o.Statuses[500] = 2 },
			want: []string{"2 answers were 500"}},
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
	var b bytes.Buffer
	a.Print(&b)
	for _, want := range []string{
		"seed", "FAULT_SEED=7", "dynamodb-throttling", "requests sent to the API", "no answer: 1",
		"duplicate emails after a crash after SES accepted the mail        1", "SES SendEmail has no idempotency token",
		"notifications: redrive policy", "relay: stream mapping gave up", "ok",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("account lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "VIOLATED") {
		t.Errorf("a healthy account says VIOLATED:\n%s", b.String())
	}
}
