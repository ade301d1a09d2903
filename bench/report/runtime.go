package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runtimeAPI is a small stand-in for the Lambda Runtime API on 127.0.0.1:
// enough of it for aws-lambda-go to start, ask for events and answer
// them. It timestamps the first request for an event (the end of init)
// and each answer.
type runtimeAPI struct {
	srv  *http.Server
	addr string

	mu        sync.Mutex
	firstNext time.Time       // when the function first asked for an event
	nextCh    chan struct{}   // closed at the first request for an event
	events    chan invocation // events to hand out, one per /next
	answers   map[string]chan answer
	seq       int
}

type invocation struct {
	id   string
	body []byte
}

type answer struct {
	at    time.Time
	body  []byte
	isErr bool
}

func newRuntimeAPI() (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime api: %w", err)
	}
	r := &runtimeAPI{addr: ln.Addr().String(), nextCh: make(chan struct{}), events: make(chan invocation, 1), answers: map[string]chan answer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, req *http.Request) { r.answer(w, req, false) })
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, req *http.Request) { r.answer(w, req, true) })
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *runtimeAPI) close() { _ = r.srv.Close() }

func (r *runtimeAPI) next(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if r.firstNext.IsZero() {
		r.firstNext = time.Now()
		close(r.nextCh)
	}
	r.mu.Unlock()
	select {
	case inv := <-r.events:
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.body)
	case <-req.Context().Done():
	}
}

func (r *runtimeAPI) answer(w http.ResponseWriter, req *http.Request, isErr bool) {
	body, _ := io.ReadAll(req.Body)
	at := time.Now()
	r.mu.Lock()
	ch := r.answers[req.PathValue("id")]
	r.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	if ch != nil {
		ch <- answer{at: at, body: body, isErr: isErr}
	}
}

// waitInit waits for the function's first request for an event.
func (r *runtimeAPI) waitInit(ctx context.Context, exited <-chan struct{}) (time.Time, error) {
	select {
	case <-r.nextCh:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.firstNext, nil
	case <-exited:
		return time.Time{}, errors.New("the function exited during init")
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("waiting for init: %w", ctx.Err())
	}
}

// invoke hands body to the function and waits for its answer; it returns
// the time from handing over to the answer.
func (r *runtimeAPI) invoke(ctx context.Context, body []byte) (time.Duration, answer, error) {
	r.mu.Lock()
	r.seq++
	id := fmt.Sprintf("bench-%d", r.seq)
	ch := make(chan answer, 1)
	r.answers[id] = ch
	r.mu.Unlock()
	start := time.Now()
	select {
	case r.events <- invocation{id: id, body: body}:
	case <-ctx.Done():
		return 0, answer{}, ctx.Err()
	}
	select {
	case a := <-ch:
		if a.isErr {
			return a.at.Sub(start), a, fmt.Errorf("invoke error: %s", strings.TrimSpace(string(a.body)))
		}
		return a.at.Sub(start), a, nil
	case <-ctx.Done():
		return 0, answer{}, fmt.Errorf("waiting for the answer: %w", ctx.Err())
	}
}
