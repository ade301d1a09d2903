package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

type failingWriter struct {
	writes int
	err    error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	return len(p), w.err
}

// TestFlushWritesOnlyNewCounts: a flush of nothing writes nothing, and a
// flush starts the counts anew.
func TestFlushWritesOnlyNewCounts(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := &failingWriter{}
	if err := New(w, "svc").Flush(); err != nil || w.writes != 0 {
		t.Errorf("Flush of nothing: %v after %d writes", err, w.writes)
	}
	r := New(&buf, "svc")
	r.Add("A", 2)
	_ = r.Flush()
	_ = r.Flush()
	r.Add("B", 1)
	_ = r.Flush()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"A":2,`) || !strings.HasPrefix(lines[1], `{"B":1,`) {
		t.Errorf("three flushes wrote %q, want A then B", lines)
	}
	errDisk := errors.New("write /dev/stdout: broken pipe")
	r = New(&failingWriter{err: errDisk}, "svc")
	r.Add("A", 1)
	if err := r.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush = %v, want %v", err, errDisk)
	}
	r = New(&buf, "svc")
	if r.Add("A", math.NaN()); r.Flush() == nil {
		t.Error("Flush of a count JSON cannot hold succeeded")
	}
	var none *Recorder // optional metrics: a nil recorder counts nothing
	if none.Add("A", 1); none.Flush() != nil {
		t.Error("Flush of a nil recorder failed")
	}
}

// TestAddConcurrent counts from eight goroutines, and stamps the real time
// (the recorder New returns).
func TestAddConcurrent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := New(&buf, "svc")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 250 {
				r.Add("Total", 1)
				r.Add(fmt.Sprintf("Worker%d", i), 1)
			}
		})
	}
	wg.Wait()
	before := time.Now().UnixMilli()
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Total, Worker7 float64
		AWS            struct{ Timestamp int64 } `json:"_aws"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || doc.Total != 2000 || doc.Worker7 != 250 {
		t.Errorf("counts %+v (%v), want Total 2000, Worker7 250", doc, err)
	}
	if ts := doc.AWS.Timestamp; ts < before || ts > time.Now().UnixMilli() {
		t.Errorf("Timestamp = %d, want about %d", ts, before)
	}
}

// ExampleRecorder_Flush: one EMF line per flush; the metrics declared in
// name order, each a Count with its value member, and nothing else but the
// service dimension, the level and _aws. Counts of a name add up; zero and
// fractions are reported as they are. The level is FATAL, the highest of
// Lambda's log-level filter (which takes a line without one as INFO): no
// ApplicationLogLevel drops the metrics, and the alarms that watch them.
func ExampleRecorder_Flush() {
	var buf bytes.Buffer
	r := New(&buf, "notifications")
	r.now = func() time.Time { return time.UnixMilli(1741964966535) }
	r.Add("EmailsSent", 1)
	r.Add("Retries", 0)
	r.Add("EmailsFailed", 2)
	r.Add("EmailsSent", 3)
	r.Add("Poison", 0.5)
	_ = r.Flush()
	fmt.Print(buf.String())
	// Output:
	// {"EmailsFailed":2,"EmailsSent":4,"Poison":0.5,"Retries":0,"_aws":{"CloudWatchMetrics":[{"Dimensions":[["service"]],"Metrics":[{"Name":"EmailsFailed","Unit":"Count"},{"Name":"EmailsSent","Unit":"Count"},{"Name":"Poison","Unit":"Count"},{"Name":"Retries","Unit":"Count"}],"Namespace":"ServerlessShop"}],"Timestamp":1741964966535},"level":"FATAL","service":"notifications"}
}
