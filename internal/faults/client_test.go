//go:build integration && faults

package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/serverless-shop/backend/internal/apitest"
)

// api is the campaign's client of the deployed API. It retries like a
// real client: on 5xx, 429 and connection errors, with backoff, a bounded
// number of times.
type api struct {
	base string
	http *http.Client

	mu       sync.Mutex
	requests int
	statuses map[int]int
	staff    map[int]int // the answers of the staff's routes (/v1/admin/), by status
}

func newAPI(base string) *api {
	return &api{base: base, http: &http.Client{Timeout: 40 * time.Second}, statuses: map[int]int{}, staff: map[int]int{}}
}

// answer is one HTTP answer, its body read; status 0 when there was none.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (a answer) retryable() bool {
	return a.status == 0 || a.status >= 500 || a.status == http.StatusTooManyRequests && !a.overQuota()
}

// overQuota reports a 429 order-quota answer: retrying within the hour is
// pointless, the campaign moves on to another customer.
func (a answer) overQuota() bool {
	return a.status == http.StatusTooManyRequests && bytes.Contains(a.body, []byte("order-quota"))
}

func (a answer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body))
}

// once sends one request.
func (c *api) once(ctx context.Context, method, path string, body any, headers ...string) answer {
	// The campaign plays many clients; each request comes from an address
	// of its own (the documentation range), as the local API reads it from
	// X-Forwarded-For, so the per-address limits, which the campaign does
	// not test, do not pace it.
	from := fmt.Sprintf("2001:db8:fa:%x:%x::1", rand.Uint32()&0xffff, rand.Uint32()&0xffff)
	req := apitest.NewRequest(method, c.base+path, body, append([]string{"X-Forwarded-For", from}, headers...)...).WithContext(ctx)
	resp, err := c.http.Do(req)
	a := answer{err: err}
	if err == nil {
		a.header = resp.Header
		a.body, a.err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if a.err == nil { // status 0: no answer
			a.status = resp.StatusCode
		}
	}
	c.mu.Lock()
	c.requests++
	c.statuses[a.status]++
	if strings.HasPrefix(path, "/v1/admin/") {
		c.staff[a.status]++
	}
	c.mu.Unlock()
	return a
}

// retrying sends a request until it gets an answer worth keeping or
// attempts run out. before, when not nil, runs before each attempt and
// may change the headers (a fresh token after a 401).
func (c *api) retrying(ctx context.Context, attempts int, method, path string, body any, headers func() []string) (answer, int) {
	var a answer
	for i := range attempts {
		a = c.once(ctx, method, path, body, headers()...)
		if !a.retryable() || ctx.Err() != nil {
			return a, i + 1
		}
		wait := min(250*time.Millisecond<<i, 8*time.Second)
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err == nil && a.status == http.StatusTooManyRequests && secs > 0 && secs <= 30 {
			wait = time.Duration(secs) * time.Second
		}
		wait += time.Duration(rand.Int64N(int64(wait/2) + 1))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return a, i + 1
		}
	}
	return a, attempts
}

// customer is a registered, verified customer of the campaign.
type customer struct {
	ID, Email, Password string

	mu        sync.Mutex
	access    string
	overQuota atomic.Bool // its hourly order quota is used up
}

func (u *customer) bearer() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return []string{"Authorization", "Bearer " + u.access}
}

// login logs the customer in, retrying.
func (c *api) login(ctx context.Context, u *customer) error {
	a, _ := c.retrying(ctx, 8, "POST", "/v1/auth/login", map[string]string{"email": u.Email, "password": u.Password}, func() []string { return nil })
	if a.status != http.StatusOK {
		return fmt.Errorf("login %s: %s", u.Email, a)
	}
	var tok struct{ AccessToken string }
	if err := json.Unmarshal(a.body, &tok); err != nil || tok.AccessToken == "" {
		return fmt.Errorf("login %s: no token in %s", u.Email, a.body)
	}
	u.mu.Lock()
	u.access = tok.AccessToken
	u.mu.Unlock()
	return nil
}

// placeOrder places one order, with an Idempotency-Key or without, and
// retries like a client would; it returns the acknowledged order's id, ""
// for none. Without a key a retry after a lost answer may place a second
// order: the account counts those as stored and never acknowledged.
func (c *api) placeOrder(ctx context.Context, u *customer, withKey bool, items any) string {
	key := ""
	if withKey {
		key = fmt.Sprintf("campaign-%d-%d", time.Now().UnixNano(), rand.Int64())
	}
	headers := func() []string {
		return append(u.bearer(), "Idempotency-Key", key) // none when "" (apitest.NewRequest)
	}
	for relogged := false; ; relogged = true {
		a, _ := c.retrying(ctx, 8, "POST", "/v1/orders", map[string]any{"items": items}, headers)
		if a.status == http.StatusUnauthorized && !relogged {
			if err := c.login(ctx, u); err != nil {
				return ""
			}
			continue
		}
		if a.overQuota() {
			u.overQuota.Store(true)
		}
		var o struct{ ID string }
		if a.status/100 == 2 && json.Unmarshal(a.body, &o) == nil {
			return o.ID
		}
		return ""
	}
}

// cancel cancels an acknowledged order, retrying. A 409 after a failed
// attempt is the first attempt's cancellation, its answer lost: the order
// is read back to tell.
func (c *api) cancel(ctx context.Context, u *customer, id string) bool {
	a, n := c.retrying(ctx, 8, "POST", "/v1/orders/"+id+"/cancel", nil, u.bearer)
	if a.status == http.StatusOK {
		return true
	}
	if a.status == http.StatusConflict && n > 1 {
		g, _ := c.retrying(ctx, 8, "GET", "/v1/orders/"+id, nil, u.bearer)
		var o struct{ Status string }
		return g.status == http.StatusOK && json.Unmarshal(g.body, &o) == nil && o.Status == "CANCELLED"
	}
	return false
}

// register registers a customer (without faults), verifies its email
// through the mailbox and logs it in.
func (c *api) register(ctx context.Context, tag string, awaitToken func(email string) (string, error)) (*customer, error) {
	u := &customer{Email: strings.ToLower(fmt.Sprintf("%s-%d@example.com", tag, time.Now().UnixNano())), Password: "correct horse battery staple"}
	a, _ := c.retrying(ctx, 8, "POST", "/v1/auth/register", map[string]string{"email": u.Email, "password": u.Password, "name": "Campaign " + tag}, func() []string { return nil })
	if a.status != http.StatusCreated {
		return nil, fmt.Errorf("register: %s", a)
	}
	var reg struct{ ID string }
	if err := json.Unmarshal(a.body, &reg); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	u.ID = reg.ID
	tok, err := awaitToken(u.Email)
	if err != nil {
		return nil, err
	}
	if a, _ := c.retrying(ctx, 8, "POST", "/v1/auth/verify-email", map[string]string{"token": tok}, func() []string { return nil }); a.status != http.StatusOK {
		return nil, fmt.Errorf("verify %s: %s", u.Email, a)
	}
	return u, c.login(ctx, u)
}

// transition sends staff's action on order id ("confirm", "ship",
// "deliver" or "cancel", with its body) and retries like a client: on the
// retryable answers, once after a 401 with a fresh login, and on a 404 a
// few times, a second apart: staff find an order by an eventually
// consistent index, which may miss an order placed a moment ago
// (functions/orders/store, IndexByOrderID). A repeat of a transition
// applied already (its answer lost, or sent twice) answers 200.
func (c *api) transition(ctx context.Context, staff *customer, id, action string, body any) answer {
	path := "/v1/admin/orders/" + id + "/" + action
	relogged, notFound := false, 0
	for {
		a, _ := c.retrying(ctx, 8, "POST", path, body, staff.bearer)
		switch {
		case ctx.Err() != nil:
			return a
		case a.status == http.StatusUnauthorized && !relogged:
			relogged = true
			if err := c.login(ctx, staff); err != nil {
				return a
			}
		case a.status == http.StatusNotFound && notFound < 3:
			notFound++
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return a
			}
		default:
			return a
		}
	}
}
