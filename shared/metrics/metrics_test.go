package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, time.March, 14, 15, 9, 26, 535_000_000, time.UTC)

func newRecorder(w *bytes.Buffer, service string) *Recorder {
	r := New(w, service)
	r.now = func() time.Time { return t0 }
	return r
}

// emf is the part of an EMF document the tests check.
type emf struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
			Metrics    []struct {
				Name string `json:"Name"`
				Unit string `json:"Unit"`
			} `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
}

// add is one call of Recorder.Add.
type add struct {
	name string
	n    float64
}

func TestFlush(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		adds       []add
		wantValues map[string]float64
	}{
		{
			name:       "one metric",
			adds:       []add{{"EmailsSent", 1}},
			wantValues: map[string]float64{"EmailsSent": 1},
		},
		{
			name:       "counts add up",
			adds:       []add{{"EmailsSent", 1}, {"EmailsFailed", 2}, {"EmailsSent", 3}, {"Poison", 0.5}},
			wantValues: map[string]float64{"EmailsSent": 4, "EmailsFailed": 2, "Poison": 0.5},
		},
		{
			name:       "zero is still reported",
			adds:       []add{{"Retries", 0}},
			wantValues: map[string]float64{"Retries": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			r := newRecorder(&buf, "notifications")
			for _, a := range tc.adds {
				r.Add(a.name, a.n)
			}
			if err := r.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			out := buf.String()
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
				t.Fatalf("Flush wrote %q, want one line", out)
			}

			var doc emf
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			var values map[string]any
			if err := json.Unmarshal(buf.Bytes(), &values); err != nil {
				t.Fatal(err)
			}

			if doc.AWS.Timestamp != t0.UnixMilli() {
				t.Errorf("Timestamp = %d, want %d", doc.AWS.Timestamp, t0.UnixMilli())
			}
			if len(doc.AWS.CloudWatchMetrics) != 1 {
				t.Fatalf("CloudWatchMetrics has %d directives, want 1", len(doc.AWS.CloudWatchMetrics))
			}
			dir := doc.AWS.CloudWatchMetrics[0]
			if dir.Namespace != Namespace {
				t.Errorf("Namespace = %q, want %q", dir.Namespace, Namespace)
			}
			if !reflect.DeepEqual(dir.Dimensions, [][]string{{"service"}}) {
				t.Errorf("Dimensions = %v, want [[service]]", dir.Dimensions)
			}
			if values["service"] != "notifications" {
				t.Errorf("service dimension = %v", values["service"])
			}

			// Every declared metric has a value member, in name order, and
			// every value member is declared.
			var names []string
			for _, m := range dir.Metrics {
				if m.Unit != "Count" {
					t.Errorf("metric %s unit = %q, want Count", m.Name, m.Unit)
				}
				names = append(names, m.Name)
			}
			var wantNames []string
			for n := range tc.wantValues {
				wantNames = append(wantNames, n)
			}
			slices.Sort(wantNames)
			if !reflect.DeepEqual(names, wantNames) {
				t.Errorf("metric names = %v, want %v (sorted)", names, wantNames)
			}
			for n, want := range tc.wantValues {
				if values[n] != want {
					t.Errorf("value %s = %v, want %v", n, values[n], want)
				}
			}
			if values["level"] != Level {
				t.Errorf("level = %v, want %s", values["level"], Level)
			}
			if len(values) != len(tc.wantValues)+3 { // + service + level + _aws
				t.Errorf("document has members %v, want only the metrics, service, level and _aws", values)
			}
		})
	}
}

func TestFlushEmptyWritesNothing(t *testing.T) {
	t.Parallel()
	w := &failingWriter{}
	r := New(w, "svc")
	if err := r.Flush(); err != nil {
		t.Fatalf("Flush of nothing: %v", err)
	}
	if w.writes != 0 {
		t.Errorf("Flush of nothing wrote %d times", w.writes)
	}
}

func TestFlushResets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := newRecorder(&buf, "svc")
	r.Add("A", 2)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	first := buf.Len()
	if first == 0 {
		t.Fatal("first Flush wrote nothing")
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != first {
		t.Errorf("second Flush wrote %q, want nothing", buf.String()[first:])
	}

	r.Add("B", 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := json.Unmarshal(buf.Bytes()[first:], &values); err != nil {
		t.Fatal(err)
	}
	if _, ok := values["A"]; ok || values["B"] != float64(1) {
		t.Errorf("third Flush = %v, want B=1 and no A", values)
	}
}

type failingWriter struct {
	writes int
	err    error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

func TestFlushWriteError(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("write /dev/stdout: broken pipe")
	r := New(&failingWriter{err: errDisk}, "svc")
	r.Add("A", 1)
	if err := r.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush = %v, want %v", err, errDisk)
	}
}

func TestAddConcurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := newRecorder(&buf, "svc")
	const workers, each = 8, 250
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for range each {
				r.Add("Total", 1)
				r.Add(fmt.Sprintf("Worker%d", i), 1)
			}
		})
	}
	wg.Wait()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := json.Unmarshal(buf.Bytes(), &values); err != nil {
		t.Fatal(err)
	}
	if values["Total"] != float64(workers*each) {
		t.Errorf("Total = %v, want %d", values["Total"], workers*each)
	}
	for i := range workers {
		if v := values[fmt.Sprintf("Worker%d", i)]; v != float64(each) {
			t.Errorf("Worker%d = %v, want %d", i, v, each)
		}
	}
}

func TestNewUsesRealClock(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := New(&buf, "svc")
	r.Add("A", 1)
	before := time.Now().UnixMilli()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var doc emf
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if ts := doc.AWS.Timestamp; ts < before || ts > time.Now().UnixMilli() {
		t.Errorf("Timestamp = %d, want about %d", ts, before)
	}
}

func ExampleRecorder_Flush() {
	var buf bytes.Buffer
	r := New(&buf, "notifications")
	r.now = func() time.Time { return time.UnixMilli(1741964966000) }
	r.Add("EmailsSent", 1)
	r.Add("EmailsSent", 1)
	_ = r.Flush()
	fmt.Print(buf.String())
	// Output:
	// {"EmailsSent":2,"_aws":{"CloudWatchMetrics":[{"Dimensions":[["service"]],"Metrics":[{"Name":"EmailsSent","Unit":"Count"}],"Namespace":"ServerlessShop"}],"Timestamp":1741964966000},"level":"FATAL","service":"notifications"}
}

// lambdaKeeps is Lambda's application log-level filter for a line of a
// function with the JSON log format, as its developer guide documents it
// (monitoring-cloudwatchlogs-log-level): a JSON object's "level" member names
// the line's level; a missing or invalid one counts as INFO; the line reaches
// CloudWatch Logs, and CloudWatch its metrics, only at the configured level
// or above.
func lambdaKeeps(t *testing.T, line []byte, configured string) bool {
	t.Helper()
	order := []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	var doc struct {
		Level string `json:"level"`
	}
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatalf("not a JSON line: %v", err)
	}
	level := slices.Index(order, strings.ToUpper(doc.Level))
	if level < 0 {
		level = slices.Index(order, "INFO")
	}
	return level >= slices.Index(order, configured)
}

// TestMetricsSurviveEveryLogLevel: raising a function's log level (to cut
// the noise of INFO lines, say) must not silently drop its metrics, and the
// alarms that watch them.
func TestMetricsSurviveEveryLogLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := newRecorder(&buf, "notifications")
	r.Add("EmailsRejected", 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	// What the line would be without its level: the filter's own check.
	if withoutLevel := []byte(`{"EmailsRejected":1,"service":"notifications"}`); lambdaKeeps(t, withoutLevel, "WARN") {
		t.Fatal("lambdaKeeps kept a line without a level at WARN; the filter model is wrong")
	}
	for _, configured := range []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} {
		if !lambdaKeeps(t, bytes.TrimSpace(buf.Bytes()), configured) {
			t.Errorf("ApplicationLogLevel %s drops the EMF line %s", configured, buf.String())
		}
	}
}
