package apitest

import (
	"time"

	"github.com/dlclark/regexp2"
	"github.com/getkin/kin-openapi/openapi3"
)

// ECMAPattern compiles a pattern of api/openapi.yaml as the document means
// it: an ECMA-262 regular expression with Unicode semantics (lookahead,
// \uXXXX, \p{L}), which Go's regexp package does not read. Go's Unicode
// tables stand behind \p{…} here, as behind the services' own checks, so a
// test can compare a pattern with the code that enforces it. Pass it to
// kin-openapi with openapi3.SetRegexCompiler or openapi3filter.Options.
func ECMAPattern(expr string) (openapi3.RegexMatcher, error) {
	re, err := regexp2.Compile(expr, regexp2.ECMAScript|regexp2.Unicode)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = time.Second
	return ecmaMatcher{re}, nil
}

type ecmaMatcher struct{ re *regexp2.Regexp }

// MatchString reports whether s matches; a match that times out does not.
func (m ecmaMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	return ok && err == nil
}
