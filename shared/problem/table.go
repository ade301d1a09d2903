package problem

import "errors"

// Rule maps one kind of domain error to the problem clients see.
type Rule struct {
	// Is matches a sentinel error with errors.Is.
	Is error
	// As matches a typed error instead (one that names fields, say): it
	// reports whether err is one, and fills in what it carries, such as
	// p.Fields or p.RetryAfter.
	As func(err error, p *Error) bool

	Kind   Kind
	Slug   string // problem type; "" for the kind's own
	Detail string // shown to the client
}

// Table maps a service's domain errors to problems: the one place where a
// service decides what its errors mean to a client. Rules are tried in
// order. The matched error stays attached as the cause, for the log.
type Table []Rule

// Map returns the problem for err. An error that is already a *Error
// passes unchanged; one that no rule matches too, and is then internal.
func (t Table) Map(err error) error {
	var known *Error
	if err == nil || errors.As(err, &known) {
		return err
	}
	for _, r := range t {
		p := &Error{Kind: r.Kind, Slug: r.Slug, Detail: r.Detail, Err: err}
		switch {
		case r.Is != nil && errors.Is(err, r.Is):
			return p
		case r.As != nil && r.As(err, p):
			return p
		}
	}
	return err
}
