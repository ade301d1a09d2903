package apitest

import (
	"fmt"
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
	// Only a pattern that backtracks without end should meet the timeout: a
	// second was met by ordinary matches on a loaded machine, and a match
	// that timed out read as "does not match".
	re.MatchTimeout = time.Minute
	return ecmaMatcher{re}, nil
}

type ecmaMatcher struct{ re *regexp2.Regexp }

// MatchString reports whether s matches. A match that times out panics: it
// is a pattern to fix, not a string the pattern refuses.
func (m ecmaMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	if err != nil {
		panic(fmt.Sprintf("pattern %q on %q: %v", m.re.String(), s, err))
	}
	return ok
}
