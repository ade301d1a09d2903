// Package capacity is the executable capacity model of the stack (make
// capacity): for a traffic mix and one environment's parameters it
// computes every route's AWS calls, every limit the traffic touches, and
// the total request rate at which each binds, labelled template (a setting
// of template.yaml or samconfig.toml), design (a hot key: only a change of
// code moves it) or AWS quota (the account can ask to raise it).
//
// Nothing in it is a copy: it reads template.yaml and samconfig.toml at
// run time (ReadTemplate, ReadEnvironment), the AWS calls of each request
// from internal/budgets (which the budget tests measure on the local
// cloud), and the hot keys from hotkeys.yaml (which the shared-key tests
// check against what the services touch). The traffic mix, AWS's default
// quotas and the figures it assumes (durations, bytes) are in inputs.yaml,
// each with its source.
//
// The launch-day rule (the product brief's "Launch day") is that the first ceiling is an
// AWS quota a user can raise, never a default of the template or a hot key
// of the design: TestCeilings fails when a template or design ceiling of
// prod is below 10,000 requests a second for the documented mix.
package capacity
