package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// awsStub answers the AWS calls the functions make on the routes the
// bench invokes, over plain HTTP and over HTTPS with a certificate of its
// own CA (which the bench puts in the AL2023-like root store). It answers
// as AWS does when nothing is found: enough for the SDK to parse, not a
// model of the services. It counts the calls, by operation.
type awsStub struct {
	httpURL, httpsURL string
	caPEM             []byte
	servers           []*http.Server
	calls             atomic.Int64
	mu                sync.Mutex
	ops               map[string]int
	log               []stubCall // in the order they were answered
}

// stubCall is one call the stub answered: its operation ("TrentService.Sign",
// "DynamoDB_20120810.Query") and when it came and was answered.
type stubCall struct {
	op         string
	start, end time.Time
}

// kms tells KMS calls (X-Amz-Target TrentService.*) apart.
func (c stubCall) kms() bool { return strings.HasPrefix(c.op, "TrentService.") }

// rounds is the number of calls that ran one after another: calls that
// overlap in time count once (calls in the order they were answered).
func rounds(calls []stubCall) int {
	n := 0
	var end time.Time
	for _, c := range calls {
		if n == 0 || !c.start.Before(end) {
			n++
			end = c.end
		} else if c.end.After(end) {
			end = c.end
		}
	}
	return n
}

// answered returns the calls answered so far since the last reset.
func (s *awsStub) answered() []stubCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stubCall(nil), s.log...)
}

func newAWSStub() (*awsStub, error) {
	s := &awsStub{ops: map[string]int{}}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "serverless-shop bench CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	s.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	tlsCert := tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}

	for _, secure := range []bool{false, true} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		if secure {
			s.httpsURL = "https://" + ln.Addr().String()
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{tlsCert}, MinVersion: tls.VersionTLS12}
			go func() { _ = srv.ServeTLS(ln, "", "") }()
		} else {
			s.httpURL = "http://" + ln.Addr().String()
			go func() { _ = srv.Serve(ln) }()
		}
	}
	return s, nil
}

func (s *awsStub) close() {
	for _, srv := range s.servers {
		_ = srv.Close()
	}
}

// reset zeroes the call counts.
func (s *awsStub) reset() {
	s.calls.Store(0)
	s.mu.Lock()
	s.ops = map[string]int{}
	s.log = nil
	s.mu.Unlock()
}

func (s *awsStub) count() int { return int(s.calls.Load()) }

func (s *awsStub) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, _ := io.ReadAll(r.Body)
	op := r.Header.Get("X-Amz-Target") // awsJson protocols: Service.Operation
	if op == "" {
		// awsQuery (SES): the operation is the form's Action.
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			op = "Query." + form.Get("Action")
		} else {
			op = r.Method + " " + r.URL.Path
		}
	}
	s.calls.Add(1)
	s.mu.Lock()
	s.ops[op]++
	s.mu.Unlock()

	var resp any = map[string]any{}
	switch {
	case strings.HasSuffix(op, ".GetSecretValue"):
		resp = map[string]any{"SecretString": "bench-cursor-key-0123456789abcdef0123456789abcdef"}
	case strings.HasSuffix(op, ".SendMessageBatch"):
		var in struct {
			Entries []struct{ Id, MessageBody string }
		}
		_ = json.Unmarshal(body, &in)
		ok := []map[string]string{}
		for _, e := range in.Entries {
			sum := md5.Sum([]byte(e.MessageBody))
			ok = append(ok, map[string]string{"Id": e.Id, "MessageId": "bench-" + e.Id, "MD5OfMessageBody": hex.EncodeToString(sum[:])})
		}
		resp = map[string]any{"Successful": ok, "Failed": []any{}}
	case strings.HasSuffix(op, ".SendMessage"):
		var in struct{ MessageBody string }
		_ = json.Unmarshal(body, &in)
		sum := md5.Sum([]byte(in.MessageBody))
		resp = map[string]any{"MessageId": "bench", "MD5OfMessageBody": hex.EncodeToString(sum[:])}
	case op == "Query.SendEmail", op == "Query.GetSendQuota":
		// awsQuery answers in XML. The quota is the template's default
		// rate, and none of the day's quota used.
		result := "<MessageId>bench-message</MessageId>"
		if op == "Query.GetSendQuota" {
			result = "<Max24HourSend>50000.0</Max24HourSend><MaxSendRate>14.0</MaxSendRate><SentLast24Hours>0.0</SentLast24Hours>"
		}
		name := strings.TrimPrefix(op, "Query.")
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-Requestid", "bench")
		fmt.Fprintf(w, `<%sResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata></%sResponse>`,
			name, name, result, name, name)
		s.mu.Lock()
		s.log = append(s.log, stubCall{op: op, start: start, end: time.Now()})
		s.mu.Unlock()
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", "bench")
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		fmt.Println("aws stub:", err)
	}
	s.mu.Lock()
	s.log = append(s.log, stubCall{op: op, start: start, end: time.Now()})
	s.mu.Unlock()
}
