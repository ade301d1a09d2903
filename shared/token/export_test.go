package token

import "time"

// SetMaxLifetime sets the longest lifetime v accepts (Config.Lifetime), for
// tests that also set the clock.
func SetMaxLifetime(v *Verifier, d time.Duration) { v.maxLifetime = d }
