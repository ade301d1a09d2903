package revocation

import "time"

// SetClock replaces the checker's clock, for tests.
func SetClock(k *Checker, now func() time.Time) { k.now = now }

// Known is the number of sessions and user epochs the checker holds.
func Known(k *Checker) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, u := range k.set {
		n += len(u.sessions)
		if u.epoch > 0 {
			n++
		}
	}
	return n
}
