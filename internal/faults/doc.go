// Package faults is the fault campaign's machinery (make faults, and its
// bounded run in make test): a fault-injecting HTTP proxy that the deployed
// functions use as their AWS endpoint, the seeded plan that decides which
// call meets which fault, and the account the campaign prints and checks.
//
// Nothing here is linked into a function: faults are injected from outside
// the production code paths, on the wire between a function and the local
// cloud (docs/faults.md).
package faults
