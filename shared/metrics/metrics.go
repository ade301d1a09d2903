// Package metrics writes CloudWatch metrics in the embedded metric format
// (EMF): one JSON log line per flush, which CloudWatch Logs turns into
// metrics without any API call from the function.
package metrics

import (
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric of the backend.
const Namespace = "ServerlessShop"

// ColdStart counts the execution environments a function started: one per
// cold start, written by coldstart.Main once the handler is built.
const ColdStart = "ColdStart"

// Level is the "level" member of every EMF line. With the JSON log format,
// Lambda's log-level filter (LoggingConfig.ApplicationLogLevel) drops a line
// below the configured level and takes a line without a valid "level" as
// INFO (Lambda developer guide, monitoring-cloudwatchlogs-log-level), so an
// EMF line without one disappears, with its metrics, as soon as the level is
// raised to WARN. FATAL is the highest level Lambda knows: the filter never
// drops it, whatever the level. Log queries that look for failures filter on
// ERROR, or exclude lines with an _aws member (docs/operations.md).
const Level = "FATAL"

// Recorder accumulates counts during one invocation and flushes them as one
// EMF document. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	w       io.Writer
	service string
	counts  map[string]float64
	now     func() time.Time
}

// New returns a recorder writing to w with the dimension service.
func New(w io.Writer, service string) *Recorder {
	return &Recorder{w: w, service: service, counts: map[string]float64{}, now: time.Now}
}

// Add counts n occurrences of the named metric. A nil recorder counts
// nothing, so optional metrics need no checks at the call sites.
func (r *Recorder) Add(name string, n float64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.counts[name] += n
	r.mu.Unlock()
}

// Flush writes the counts accumulated since the last flush, if any.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	counts := r.counts
	r.counts = map[string]float64{}
	r.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	var defs []map[string]string
	doc := map[string]any{"service": r.service, "level": Level}
	for _, n := range slices.Sorted(maps.Keys(counts)) {
		defs = append(defs, map[string]string{"Name": n, "Unit": "Count"})
		doc[n] = counts[n]
	}
	doc["_aws"] = map[string]any{
		"Timestamp": r.now().UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  Namespace,
			"Dimensions": [][]string{{"service"}},
			"Metrics":    defs,
		}},
	}
	return json.NewEncoder(r.w).Encode(doc) // one line, written at once
}
