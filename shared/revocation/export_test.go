package revocation

import "time"

// SetClock replaces the checker's clock, for tests.
func SetClock(k *Checker, now func() time.Time) { k.now = now }
