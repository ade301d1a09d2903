package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/serverless-shop/backend/shared/problem"
)

// Lambda adapts h to API Gateway REST API events (Lambda proxy
// integration, payload format 1.0): each event becomes an *http.Request
// under the invocation's context, and what h writes becomes the proxy
// response. It is the function's handler: coldstart.Main(name, build)
// with build returning web.Lambda(server).
func Lambda(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		w := &proxyResponse{header: http.Header{}}
		h.ServeHTTP(w, Request(ctx, ev))
		return w.event(), nil
	}
}

type gatewayKey struct{}

// gatewayContext is the request context API Gateway sent with the event;
// empty for a request that came another way.
func gatewayContext(r *http.Request) events.APIGatewayProxyRequestContext {
	c, _ := r.Context().Value(gatewayKey{}).(events.APIGatewayProxyRequestContext)
	return c
}

// Request is the *http.Request an event stands for. Its path is the
// resource API Gateway matched with the path parameters filled in, so that
// the mux routes as the gateway did, whatever else the raw path holds (a
// stage or base path prefix, say). Headers and query parameters are the
// event's single-valued ones, the last of each name. Its RemoteAddr is the
// address of the client as API Gateway saw it
// (requestContext.identity.sourceIp): the source of the connection to API
// Gateway, which a client cannot set (unlike X-Forwarded-For). A body
// marked base64 that is not fails to read with a 400 problem.
func Request(ctx context.Context, ev events.APIGatewayProxyRequest) *http.Request {
	var body io.Reader = strings.NewReader(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		body = bytes.NewReader(b)
		if err != nil {
			body = errReader{problem.New(problem.Invalid, "The request body is not valid base64.")}
		}
	}
	header := make(http.Header, len(ev.Headers))
	for k, v := range ev.Headers {
		header.Set(k, v)
	}
	query := url.Values{}
	for k, v := range ev.QueryStringParameters {
		query.Set(k, v)
	}
	u := &url.URL{Path: ev.Path, RawQuery: query.Encode()}
	if ev.Resource != "" {
		segs := strings.Split(ev.Resource, "/")
		raw := strings.Split(ev.Resource, "/")
		for i, seg := range segs {
			if name, ok := strings.CutPrefix(seg, "{"); ok && strings.HasSuffix(name, "}") {
				v := ev.PathParameters[strings.TrimSuffix(name, "}")]
				segs[i], raw[i] = v, url.PathEscape(v)
			}
		}
		u.Path, u.RawPath = strings.Join(segs, "/"), strings.Join(raw, "/")
	}
	r := &http.Request{
		Method: ev.HTTPMethod, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header, Body: io.NopCloser(body), Host: header.Get("Host"),
		RemoteAddr: ev.RequestContext.Identity.SourceIP, RequestURI: u.RequestURI(),
	}
	return r.WithContext(context.WithValue(ctx, gatewayKey{}, ev.RequestContext))
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// proxyResponse is the http.ResponseWriter of an event: it keeps what the
// handler writes for the proxy response.
type proxyResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (p *proxyResponse) Header() http.Header { return p.header }

func (p *proxyResponse) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

func (p *proxyResponse) Write(b []byte) (int, error) { return p.body.Write(b) } // its status comes from exchange.Write

func (p *proxyResponse) event() events.APIGatewayProxyResponse {
	out := events.APIGatewayProxyResponse{StatusCode: cmp.Or(p.status, http.StatusOK), Headers: make(map[string]string, len(p.header)), Body: p.body.String()}
	for k, v := range p.header {
		out.Headers[k] = strings.Join(v, ", ")
	}
	return out
}
