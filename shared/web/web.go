// Package web serves a service's HTTP API with net/http. A Server is an
// http.Handler: an http.ServeMux routes on method and path patterns (the
// template's resources, "GET /v1/orders/{id}"), ServeHTTP adds what every
// request needs (the correlation id, one access log line, recovery from a
// panic, a deadline before Lambda's), middleware of the form
// func(http.Handler) http.Handler the caller's verified identity on
// protected routes, and every error becomes an RFC 9457 problem document
// in one place (Server.fail). Lambda adapts API Gateway's proxy events to
// a Server; the same Server runs behind httptest in unit tests.
package web

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/metrics"
	"github.com/serverless-shop/backend/shared/problem"
)

// HandlerFunc serves one route. The error it returns is answered as a
// problem document: a *problem.Error as it says, a failure of a dependency
// that retrying can cure as a 503, anything else as a 500.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Config wires a Server.
type Config struct {
	Log         *slog.Logger
	Verifier    TokenVerifier     // checks the access tokens of protected routes
	Revocations Revocations       // nil: tokens are good until they expire
	Metrics     *metrics.Recorder // flushed after every request; may be nil
	// Errors says what the service's sentinel errors mean to a client: it
	// returns a *problem.Error for those it knows and err for the rest.
	// It sees only errors that hold no *problem.Error. The one place a
	// service maps its errors; nil maps none.
	Errors func(err error) error
}

// Route is one operation a Server serves.
type Route struct {
	Pattern   string // method and path pattern: "GET /v1/orders/{id}"
	Protected bool   // served only to a caller with a valid access token
	Staff     bool   // and only to staff (Protected too)
}

// Server is a service's API.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	routes []Route
}

// New returns a server without routes: it answers every request 404.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.Handle("/", s.serve(noRoute))
	return s
}

// Public registers a route that needs no caller identity.
func (s *Server) Public(pattern string, h HandlerFunc) { s.handle(Route{Pattern: pattern}, h) }

// Protected registers a route that serves only callers with a valid access
// token; its handler finds them with Caller.
func (s *Server) Protected(pattern string, h HandlerFunc) {
	s.handle(Route{Pattern: pattern, Protected: true}, h)
}

// Staff registers a protected route that serves only staff (see staff).
func (s *Server) Staff(pattern string, h HandlerFunc) {
	s.handle(Route{Pattern: pattern, Protected: true, Staff: true}, h)
}

// Routes lists the registered routes, for checks against the template.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// handle registers pattern. The first route of a path also registers the
// path without a method, and with HEAD (which "GET path" would serve), to
// answer every other method with 405 and the Allow header (RFC 9110,
// section 15.5.6) as a problem document: the template routes every method
// of a resource to its service (an ANY method beside the resource's own).
// A path whose routes are all protected asks for a valid token first, as
// the gateway's authorizer on its ANY method does.
func (s *Server) handle(rt Route, h HandlerFunc) {
	method, p, ok := strings.Cut(rt.Pattern, " ")
	if !ok || method == http.MethodHead {
		panic("web: route " + rt.Pattern + " is not METHOD /path, or is HEAD")
	}
	if rt.Protected && s.cfg.Verifier == nil {
		panic("web: protected route " + rt.Pattern + " on a server without a token verifier")
	}
	if !slices.ContainsFunc(s.routes, func(r Route) bool { return strings.HasSuffix(r.Pattern, " "+p) }) {
		other := s.serve(s.notAllowed(p))
		s.mux.Handle(p, other)
		s.mux.Handle(http.MethodHead+" "+p, other)
	}
	next := s.serve(h)
	if rt.Protected {
		next = s.authenticate(next, rt.Staff)
	}
	s.mux.Handle(rt.Pattern, next)
	s.routes = append(s.routes, rt)
}

// notAllowed answers a method the path p has no route for.
func (s *Server) notAllowed(p string) HandlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) error {
		var allow []string
		protected := true
		for _, rt := range s.routes {
			if method, path, _ := strings.Cut(rt.Pattern, " "); path == p {
				allow = append(allow, method)
				protected = protected && rt.Protected
			}
		}
		slices.Sort(allow)
		if protected {
			if _, err := s.caller(r); err != nil {
				return err
			}
		}
		return &problem.Error{Kind: problem.MethodNotAllowed, Allow: allow,
			Detail: fmt.Sprintf("%s takes %s, not %s.", p, strings.Join(allow, ", "), r.Method)}
	}
}

// noRoute answers a request no route serves.
func noRoute(_ http.ResponseWriter, r *http.Request) error {
	return problem.New(problem.NotFound, fmt.Sprintf("No route %s %s.", r.Method, r.URL.Path))
}

// serve turns h into an http.Handler that answers its error as a problem
// and names the route in the access log: the method and the path of the
// pattern the mux matched (r.Pattern; "/" is noRoute's, which leaves the
// request's path).
func (s *Server) serve(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Pattern != "/" {
			exchangeOf(r).route = r.Method + " " + r.Pattern[strings.IndexByte(r.Pattern, '/'):]
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// JSON answers v encoded as JSON with status.
func JSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b) // a client gone away is no error of the handler's
	return nil
}

// UnavailableRetryAfter is the Retry-After of a 503 answered because a
// dependency is unavailable: long enough for a throttled table or key to
// recover, short enough that a client retrying it is served soon.
const UnavailableRetryAfter = 5 * time.Second
