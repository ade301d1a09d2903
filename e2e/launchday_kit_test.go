//go:build integration

package e2e

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// busiestSecond is the most of times in any half-open second [t, t+1s),
// and where it starts (a busiest window can always start at one of them).
func busiestSecond(times []time.Time) (int, time.Time) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, time.Time.Compare)
	most, at, j := 0, time.Time{}, 0
	for i := range ts {
		for j < len(ts) && ts[j].Before(ts[i].Add(time.Second)) {
			j++
		}
		if j-i > most {
			most, at = j-i, ts[i]
		}
	}
	return most, at
}

// emfSums adds up, per metric, the values of the embedded-metric-format
// lines among a function's log lines (the last value, for the quota
// reading, which is a level rather than a count).
func emfSums(t *testing.T, lines []string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, l := range lines {
		if !strings.Contains(l, `"_aws"`) {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("EMF line is not JSON: %v\n%s", err, l)
		}
		for name, v := range doc {
			f, ok := v.(float64)
			if !ok || math.IsNaN(f) {
				continue
			}
			if name == "SesQuotaUsedPercent" {
				out[name] = f
				continue
			}
			out[name] += f
		}
	}
	return out
}
