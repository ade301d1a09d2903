package order

import (
	"fmt"

	"github.com/serverless-shop/backend/shared/problem"
)

// fields collects the bad fields a validation finds.
type fields []problem.FieldError

// add names field bad, with the message format gives, when bad is true.
func (f *fields) add(bad bool, field, format string, args ...any) {
	if bad {
		*f = append(*f, problem.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
}

// err is the validation *problem.Error naming the fields, nil without any.
func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return problem.Validation(f...)
}
