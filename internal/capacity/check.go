package capacity

import "fmt"

// Violations lists the template and design ceilings below the target
// rate: the launch-day rule is that the first ceiling is an AWS quota a
// user can raise.
func (m *Model) Violations() []string {
	var out []string
	for _, l := range m.own() {
		if !reaches(l.Ceiling, m.Target) {
			out = append(out, fmt.Sprintf("%s ceiling %q binds at %s rps, below %s rps (%s %s; from %s)",
				l.Label, l.Name, rps(l.Ceiling), rps(m.Target), number(l.Value), l.Unit, l.From))
		}
	}
	return out
}

// own returns the template and design ceilings, in the order they bind. A
// template limit sized from an AWS quota's parameter (Follows) that binds
// no sooner than that quota is the quota's ceiling, not one of its own:
// raising the quota raises it, so it may stay below the target.
func (m *Model) own() []Limit {
	quota := map[string]float64{}
	for _, l := range m.Limits {
		if l.Label == LabelQuota {
			quota[l.Name] = l.Ceiling
		}
	}
	var out []Limit
	for _, l := range m.Limits {
		if q, ok := quota[l.Follows]; l.Label != LabelQuota && !(ok && reaches(l.Ceiling, q)) {
			out = append(out, l)
		}
	}
	return out
}

// QuotasBelowTarget returns the AWS quota ceilings below the target rate:
// the quotas to ask AWS to raise, each to its Request().
func (m *Model) QuotasBelowTarget() []Limit {
	var out []Limit
	for _, l := range m.Limits {
		if l.Label == LabelQuota && !reaches(l.Ceiling, m.Target) {
			out = append(out, l)
		}
	}
	return out
}

// reaches reports whether a ceiling is at or above rate, within the
// precision ceiling computes it to.
func reaches(ceiling, rate float64) bool { return ceiling >= rate*(1-1e-6) }
