package problem_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/serverless-shop/backend/shared/problem"
)

var (
	errGone   = errors.New("thing: gone")
	errLocked = errors.New("thing: locked")
)

// invalidThing is a typed domain error that names its fields.
type invalidThing []string

func (e invalidThing) Error() string { return fmt.Sprintf("thing: %d invalid fields", len(e)) }

// limited is a typed domain error that says when to come back.
type limited struct{ wait time.Duration }

func (e limited) Error() string { return "thing: limited" }

var table = problem.Table{
	{Is: errGone, Kind: problem.NotFound, Detail: "No such thing."},
	{Is: errLocked, Kind: problem.Conflict, Slug: "thing-locked", Detail: "The thing is locked."},
	{As: func(err error, p *problem.Error) bool {
		var inv invalidThing
		if !errors.As(err, &inv) {
			return false
		}
		for _, f := range inv {
			p.Fields = append(p.Fields, problem.FieldError{Field: f, Message: "is invalid"})
		}
		return true
	}, Kind: problem.Invalid, Slug: "validation", Detail: "The request has invalid fields."},
	{As: func(err error, p *problem.Error) bool {
		var l limited
		if !errors.As(err, &l) {
			return false
		}
		p.RetryAfter = l.wait
		return true
	}, Kind: problem.TooManyRequests, Detail: "Slow down."},
}

func TestTableMap(t *testing.T) {
	t.Parallel()
	direct := problem.New(problem.Forbidden, "No.")
	internal := errors.New("dynamodb: throttled")
	tests := []struct {
		name   string
		err    error
		status int // 0: the error passes unchanged
		slug   string
		fields int
		retry  time.Duration
	}{
		{name: "sentinel", err: errGone, status: 404},
		{name: "wrapped sentinel", err: fmt.Errorf("get thing: %w", errGone), status: 404},
		{name: "sentinel with slug", err: errLocked, status: 409, slug: "thing-locked"},
		{name: "typed with fields", err: fmt.Errorf("create: %w", invalidThing{"a", "b"}), status: 400, slug: "validation", fields: 2},
		{name: "typed with retry", err: limited{wait: 3 * time.Second}, status: 429, retry: 3 * time.Second},
		{name: "already a problem", err: direct},
		{name: "unknown stays internal", err: internal},
		{name: "nil", err: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := table.Map(tc.err)
			if tc.status == 0 {
				if got != tc.err {
					t.Fatalf("Map(%v) = %v, want it unchanged", tc.err, got)
				}
				return
			}
			var p *problem.Error
			if !errors.As(got, &p) {
				t.Fatalf("Map(%v) = %v, not a problem", tc.err, got)
			}
			if p.Kind.Status() != tc.status || p.Slug != tc.slug || len(p.Fields) != tc.fields || p.RetryAfter != tc.retry {
				t.Errorf("Map(%v) = %+v", tc.err, p)
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("the domain error is not kept as the cause")
			}
		})
	}
	// Rules do not leak state into each other between calls.
	if p := table.Map(invalidThing{"x"}).(*problem.Error); len(p.Fields) != 1 {
		t.Errorf("second mapping carries %d fields", len(p.Fields))
	}
}
