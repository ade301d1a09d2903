package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// startResult is one cold start of one function, and the invokes after it.
type startResult struct {
	init       time.Duration // exec → first request for an event
	initCalls  int           // AWS calls before that request
	first      time.Duration // first invoke: event handed over → answer
	firstCalls int
	firstSays  string // the first answer, in short
	warm       []time.Duration
	warmCalls  int // AWS calls of all warm invokes
	warmLogs   int // bytes the function logged during the warm invokes
	err        error
}

// tailBuffer keeps the last bytes written to it: the function's logs, for
// an error message.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	total int
}

func (t *tailBuffer) written() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += len(p)
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2048 {
		t.buf = t.buf[len(t.buf)-2048:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// startOnce starts bin with env against a fresh Runtime API stand-in,
// invokes it once cold and warm times warm, and stops it.
func startOnce(ctx context.Context, bin string, env []string, event []byte, warm int, stub *awsStub) (res startResult) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	rt, err := newRuntimeAPI()
	if err != nil {
		return startResult{err: err}
	}
	defer rt.close()
	stub.reset()
	var logs tailBuffer
	cmd := exec.Command(bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+rt.addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return startResult{err: err}
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
		if res.err != nil {
			res.err = fmt.Errorf("%w; its output ends: %s", res.err, logs.String())
		}
	}()

	ready, err := rt.waitInit(ctx, exited)
	if err != nil {
		return startResult{err: err}
	}
	res.init = ready.Sub(start)
	res.initCalls = stub.count()
	d, a, err := rt.invoke(ctx, event)
	if err != nil {
		res.err = err
		return res
	}
	res.first, res.firstCalls, res.firstSays = d, stub.count()-res.initCalls, says(a.body)
	before, logged := stub.count(), logs.written()
	for range warm {
		d, _, err := rt.invoke(ctx, event)
		if err != nil {
			res.err = err
			return res
		}
		res.warm = append(res.warm, d)
	}
	res.warmCalls = stub.count() - before
	res.warmLogs = logs.written() - logged
	return res
}

// says sums up an answer: an HTTP status, an authorizer's decision, or
// the number of failed batch items.
func says(body []byte) string {
	var v struct {
		StatusCode     int `json:"statusCode"`
		PolicyDocument *struct {
			Statement []struct{ Effect string }
		} `json:"policyDocument"`
		BatchItemFailures *[]json.RawMessage `json:"batchItemFailures"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "answered"
	}
	switch {
	case v.StatusCode != 0:
		return fmt.Sprintf("HTTP %d", v.StatusCode)
	case v.PolicyDocument != nil && len(v.PolicyDocument.Statement) > 0:
		return v.PolicyDocument.Statement[0].Effect
	case v.BatchItemFailures != nil:
		return fmt.Sprintf("%d batch failures", len(*v.BatchItemFailures))
	}
	if b := bytes.TrimSpace(body); len(b) < 24 {
		return string(b)
	}
	return "answered"
}
