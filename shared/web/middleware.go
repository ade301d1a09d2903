package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/serverless-shop/backend/shared/logging"
	"github.com/serverless-shop/backend/shared/problem"
	"github.com/serverless-shop/backend/shared/text"
)

// HeaderRequestID carries the correlation id in requests and responses.
const HeaderRequestID = "X-Request-Id"

// KeyClientRequestID is the log attribute of an X-Request-Id that was not
// taken as the correlation id.
const KeyClientRequestID = "clientRequestId"

// safeRequestID reports whether a client-supplied X-Request-Id may be
// reused as the correlation id: 8 to 128 of A-Z, a-z, 0-9 and ._:-.
// Anything else is replaced, and kept only as the log attribute
// clientRequestId (clipped to 128 bytes), so that a client can still be
// helped to find its request but cannot choose or forge the id that ties
// logs and events together. (text.Only, not a regexp: no compiling at
// cold start.)
func safeRequestID(id string) bool {
	return len(id) >= 8 && len(id) <= 128 && text.Only(id, text.Upper+text.Lower+text.Digits+"._:-")
}

// ServeHTTP serves one request. Around the routes it does what every
// request needs, in this order: the correlation id (correlate), one access
// log line per request (route, status, duration, and the caller on
// protected routes) with the service's metrics flushed after it, recovery
// from a handler's panic as an internal error, and a deadline
// answerMargin before the request's own.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{ResponseWriter: w, route: r.Method + " " + r.URL.Path}
	r = r.WithContext(context.WithValue(s.correlate(w, r), exchangeKey{}, x))
	start := time.Now()
	func() {
		defer func() {
			if v := recover(); v != nil {
				s.fail(x, r, fmt.Errorf("panic: %v\n%s", v, debug.Stack()))
			}
		}()
		ctx := r.Context()
		if d, ok := ctx.Deadline(); ok && time.Until(d) > 2*answerMargin {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-answerMargin))
			defer cancel()
		}
		// The mux would redirect a path to its clean form (doubled slashes,
		// . or .. segments): no route has it.
		if p := r.URL.EscapedPath(); path.Clean(p) != strings.TrimSuffix(p, "/") && p != "/" {
			s.fail(x, r, noRoute(x, r))
			return
		}
		s.mux.ServeHTTP(x, r.WithContext(ctx))
	}()
	attrs := []any{
		slog.String("route", x.route),
		slog.Int("status", x.status),
		slog.Int64("durationMs", time.Since(start).Milliseconds()),
	}
	if x.userID != "" {
		attrs = append(attrs, slog.String(logging.KeyUserID, x.userID))
	}
	s.cfg.Log.InfoContext(r.Context(), "request", attrs...)
	if err := s.cfg.Metrics.Flush(); err != nil {
		s.cfg.Log.WarnContext(r.Context(), "metrics flush failed", slog.String(logging.KeyError, err.Error()))
	}
}

// correlate returns the request's context with its correlation id: the
// client's X-Request-Id when it is safe, else API Gateway's request id.
// Every log line of the request carries it (logging.With), and so do the
// answer's X-Request-Id header and its problem documents. It sets the
// headers every answer has.
func (s *Server) correlate(w http.ResponseWriter, r *http.Request) context.Context {
	ctx := r.Context()
	corr := r.Header.Get(HeaderRequestID)
	if !safeRequestID(corr) {
		if corr != "" {
			clipped := strings.ToValidUTF8(corr[:min(len(corr), 128)], "\uFFFD")
			ctx = logging.With(ctx, slog.String(KeyClientRequestID, clipped))
		}
		corr = gatewayContext(r).RequestID
	}
	if corr == "" { // not from API Gateway: a plain server, a test
		corr = rand.Text()
	}
	h := w.Header()
	h.Set(HeaderRequestID, corr)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store") // routes that may be cached say so
	return logging.With(ctx, slog.String(logging.KeyCorrelationID, corr))
}

// exchange is what the access log learns of a request while it is served:
// the answer's status, the route and the caller.
type exchange struct {
	http.ResponseWriter
	status int
	route  string
	userID string
}

type exchangeKey struct{}

// exchangeOf is the request's exchange: every request a Server serves has
// one (ServeHTTP gives it).
func exchangeOf(r *http.Request) *exchange { return r.Context().Value(exchangeKey{}).(*exchange) }

func (x *exchange) WriteHeader(status int) {
	if x.status == 0 {
		x.status = status
	}
	x.ResponseWriter.WriteHeader(status)
}

// Write answers 200 first when the handler wrote no status, as net/http
// does, so that the writer beneath (a Lambda proxy response) learns it too.
func (x *exchange) Write(b []byte) (int, error) {
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	return x.ResponseWriter.Write(b)
}

// answerMargin is what a request keeps of the function's time to answer
// when its dependencies are too slow: handlers run under a deadline this
// much before Lambda's, so a dependency that hangs ends in a 503 instead
// of a function timeout (which API Gateway answers with a bare 502).
const answerMargin = time.Second

// fail answers err as an RFC 9457 problem document: the one place where
// errors become what a client sees. A *problem.Error is answered as it
// says; the service's Errors maps its domain's sentinel errors; a dependency that retrying later can cure
// (unavailable) is a 503 with Retry-After; anything else that is
// not a *problem.Error is a 500 whose cause goes to the log, once.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var known *problem.Error
	if !errors.As(err, &known) && s.cfg.Errors != nil {
		err = s.cfg.Errors(err)
	}
	if !errors.As(err, &known) && unavailable(err) {
		err = &problem.Error{Kind: problem.Unavailable, RetryAfter: UnavailableRetryAfter,
			Detail: "The service cannot complete the request right now; retry after the time Retry-After gives.", Err: err}
	}
	details, perr := problem.From(err, r.URL.Path)
	ctx := r.Context()
	details.RequestID = logging.CorrelationID(ctx)
	route := slog.String("route", exchangeOf(r).route)
	switch {
	case perr == nil: // internal
		s.cfg.Log.ErrorContext(ctx, "request failed", route, slog.String(logging.KeyError, err.Error()))
	case perr.Kind == problem.Unavailable:
		s.cfg.Log.WarnContext(ctx, "dependency unavailable; answered 503", route, slog.String(logging.KeyError, perr.Error()))
	case perr.Err != nil:
		// A client's mistake, already counted in the access line's status;
		// the domain error behind it helps when debugging a client.
		s.cfg.Log.DebugContext(ctx, "request rejected", route, slog.Int("status", details.Status), slog.String(logging.KeyError, perr.Err.Error()))
	}
	body, _ := json.Marshal(details) // Details has only plain fields
	h := w.Header()
	h.Set("Content-Type", problem.ContentType)
	h.Set("Cache-Control", "no-store")
	if perr != nil && perr.RetryAfter > 0 {
		// Round up: a client told to wait less than the limit asks too early.
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(perr.RetryAfter.Seconds())))))
	}
	if perr != nil && len(perr.Allow) > 0 {
		h.Set("Allow", strings.Join(perr.Allow, ", "))
	}
	if perr != nil && perr.Slug == slugInvalidToken {
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	w.WriteHeader(details.Status)
	_, _ = w.Write(body)
}
