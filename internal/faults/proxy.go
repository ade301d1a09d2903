package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Proxy is a fault-injecting HTTP proxy in front of the local cloud. Each
// deployed function gets its own listener (Listen), so the proxy knows
// whose call it is; the function is pointed at it through its
// AWS_ENDPOINT_URL. Calls the plan spares are forwarded unchanged.
type Proxy struct {
	upstream string
	plan     *Plan
	ledger   *Ledger
	hold     time.Duration
	rp       *httputil.ReverseProxy
	log      *slog.Logger

	mu      sync.Mutex
	servers []*http.Server
}

// NewProxy returns a proxy to the local cloud at upstream
// ("http://127.0.0.1:4566"). hold is how long a KilledAfterWrite answer is
// held before the connection is dropped: longer than the function's
// timeout, so the function dies between its write and its answer.
func NewProxy(upstream string, plan *Plan, ledger *Ledger, hold time.Duration, log *slog.Logger) *Proxy {
	p := &Proxy{upstream: strings.TrimSuffix(upstream, "/"), plan: plan, ledger: ledger, hold: hold, log: log}
	p.rp = &httputil.ReverseProxy{
		// To upstream ("http", "127.0.0.1:4566"), with the Host the SigV4
		// signature covers.
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, _ = strings.Cut(p.upstream, "://")
			pr.Out.Host = pr.In.Host
		},
		// No compression: the SDK's Accept-Encoding and the answer's
		// encoding pass through untouched, so checksums still match.
		Transport:      &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64, ResponseHeaderTimeout: 2 * time.Minute},
		ModifyResponse: p.answered,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if errors.Is(err, errDropped) {
				panic(http.ErrAbortHandler) // closes the connection without an answer
			}
			http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p
}

// Listen starts a listener on 127.0.0.1 for the calls of role and returns
// its endpoint URL.
func (p *Proxy) Listen(role string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("proxy for %s: %w", role, err)
	}
	srv := &http.Server{Handler: p.handler(role), ReadHeaderTimeout: 30 * time.Second}
	p.mu.Lock()
	p.servers = append(p.servers, srv)
	p.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("proxy stopped", slog.String("role", role), slog.String("error", err.Error()))
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Close stops every listener.
func (p *Proxy) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, s := range p.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// errDropped is the answer a fault lost: the connection is closed instead.
var errDropped = errors.New("answer dropped")

// fate is what the proxy decided for a call, for its answer (answered).
type fate struct {
	call Call
	kind Kind
	body []byte
}

type fateKey struct{}

func (p *Proxy) handler(role string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read request", http.StatusBadRequest)
			return
		}
		call := Classify(r, body)
		kind := p.plan.Decide(role, call, body)
		if kind != "" && role == "notifications" && call.Service == "dynamodb" && call.Operation == "UpdateItem" {
			if id := dedupeEventID(body); id != "" {
				p.ledger.FinishFailed(id) // the outcome of a sent mail may go unrecorded
			}
		}
		// Faults that answer instead of the cloud: nothing is done.
		if refuse(w, kind, body) {
			p.ledger.Fault(kind)
			if kind == SESRejection {
				p.ledger.Rejected(mailOf(body))
			}
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), fateKey{}, fate{call, kind, body})))
	})
}

// answered reads the cloud's answer to a call the plan let through: the
// events a SendMessageBatch published, and the faults that let the call
// happen and lose its answer (errDropped).
func (p *Proxy) answered(resp *http.Response) error {
	f, _ := resp.Request.Context().Value(fateKey{}).(fate)
	if resp.StatusCode/100 != 2 {
		return nil
	}
	if f.call == (Call{Service: "sqs", Operation: "SendMessageBatch"}) {
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		for _, e := range PublishedEvents(f.body, b) {
			p.ledger.Published(e) // the events the relay published, for the account
		}
	}
	switch f.kind {
	case ResponseLost, KilledAfterSES:
		p.ledger.Fault(f.kind)
		if f.kind == KilledAfterSES {
			p.ledger.AcceptedUnanswered(mailOf(f.body))
		}
		return errDropped
	case KilledAfterWrite:
		p.ledger.Fault(f.kind)
		select {
		case <-time.After(p.hold):
		case <-resp.Request.Context().Done():
		}
		return errDropped
	}
	return nil
}

// refuse answers the call with the error of kind, as the service would,
// and reports whether it did.
func refuse(w http.ResponseWriter, kind Kind, body []byte) bool {
	switch kind {
	case DynamoThrottling:
		awsJSONError(w, http.StatusBadRequest,
			"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded.", nil)
	case TransactionCancel:
		n := transactItems(body)
		reasons := make([]map[string]string, n)
		codes := make([]string, n)
		for i := range reasons {
			reasons[i], codes[i] = map[string]string{"Code": "None"}, "None"
		}
		if n > 0 {
			reasons[0] = map[string]string{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
			codes[0] = "TransactionConflict"
		}
		awsJSONError(w, http.StatusBadRequest,
			"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
			"Transaction cancelled, please refer cancellation reasons for specific reasons ["+strings.Join(codes, ", ")+"]",
			map[string]any{"CancellationReasons": reasons})
	case SQSSendFailure:
		w.Header().Set("x-amzn-query-error", "InternalError;Receiver")
		awsJSONError(w, http.StatusInternalServerError,
			"com.amazonaws.sqs#InternalError", "We encountered an internal error. Please try again.", nil)
	case SESThrottling, SESOutage:
		awsQueryError(w, http.StatusBadRequest, "Throttling", "Maximum sending rate exceeded.")
	case SESRejection:
		awsQueryError(w, http.StatusBadRequest, "MessageRejected", "Email address is on the suppression list.")
	default:
		return false
	}
	return true
}

// awsJSONError writes an error of the AWS JSON 1.0 protocol (DynamoDB,
// SQS): __type names the error.
func awsJSONError(w http.ResponseWriter, status int, typ, message string, extra map[string]any) {
	doc := map[string]any{"message": message, "__type": typ}
	maps.Copy(doc, extra)
	b, _ := json.Marshal(doc)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// awsQueryError writes an error of the AWS query protocol (SES), as SES
// answers one: an XML ErrorResponse whose Type says whose fault it is.
func awsQueryError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`,
		code, html.EscapeString(message))
}

// PublishedEvents reads the events of a SendMessageBatch request that its
// answer lists as successful.
func PublishedEvents(req, resp []byte) []Event {
	var in struct {
		QueueURL string `json:"QueueUrl"`
		Entries  []struct {
			ID                string                      `json:"Id"`
			MessageBody       string                      `json:"MessageBody"`
			MessageGroupID    string                      `json:"MessageGroupId"`
			MessageAttributes map[string]MessageAttribute `json:"MessageAttributes"`
		} `json:"Entries"`
	}
	var out struct {
		Successful []struct {
			ID string `json:"Id"`
		} `json:"Successful"`
	}
	if json.Unmarshal(req, &in) != nil || json.Unmarshal(resp, &out) != nil {
		return nil
	}
	ok := map[string]bool{}
	for _, s := range out.Successful {
		ok[s.ID] = true
	}
	var events []Event
	for _, e := range in.Entries {
		var head struct{ ID, Type string }
		if !ok[e.ID] || json.Unmarshal([]byte(e.MessageBody), &head) != nil || head.ID == "" {
			continue
		}
		events = append(events, Event{ID: head.ID, Type: head.Type, Group: e.MessageGroupID, QueueURL: in.QueueURL, Body: e.MessageBody, Attributes: e.MessageAttributes})
	}
	return events
}

// mailOf reads the first recipient and the subject of a SendEmail request
// (the query protocol's form).
func mailOf(body []byte) Mail {
	form, _ := url.ParseQuery(string(body))
	return Mail{To: strings.ToLower(form.Get("Destination.ToAddresses.member.1")), Subject: form.Get("Message.Subject.Data")}
}

// transactItems counts the items of a TransactWriteItems request.
func transactItems(body []byte) int {
	var in struct{ TransactItems []json.RawMessage }
	_ = json.Unmarshal(body, &in)
	return len(in.TransactItems)
}

// dedupeEventID reads the event id from the key of a write to the
// notification function's dedupe table (PK "EVENT#<id>").
func dedupeEventID(body []byte) string {
	var in struct {
		Key struct{ PK struct{ S string } }
	}
	_ = json.Unmarshal(body, &in)
	id, _ := strings.CutPrefix(in.Key.PK.S, "EVENT#")
	return id
}
