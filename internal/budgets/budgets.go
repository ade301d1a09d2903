// Package budgets holds what each measured request of the API may cost in
// AWS, once: the DynamoDB calls and capacity units, the KMS operations, the
// calls that run one after another, and the facts of the product beside
// them (the emails a request causes, the password hashes it computes).
//
// Two readers keep it honest. The budget tests of the services
// (TestAWSCallsPerRequest, build tag integration, internal/awscalls)
// measure every request against the local cloud and fail when one costs
// more than its budget here; the capacity model (internal/capacity, make
// capacity) multiplies these figures by the traffic of each route. A
// budget is therefore both a ceiling the tests enforce and the figure the
// model plans with.
package budgets

import (
	"fmt"
	"sort"
)

// Budget is the most one request may cost, and what it causes.
type Budget struct {
	// Request names the measured request, as the budget tests' tables and
	// bench/REPORT.md print it: the route, and the case when a route has
	// more than one ("POST /v1/orders (warm catalog)").
	Request string
	// Route is the route key of the template's Api event that serves it
	// ("POST /v1/orders", "GET /v1/products/{sku}").
	Route string
	// Function is the function that serves it: "users" or "orders".
	Function string

	// DynamoDB is the number of DynamoDB calls; KMS the KMS calls by
	// operation; Rounds how many of all those calls run one after another.
	DynamoDB int
	KMS      KMS
	Rounds   int
	// RCU and WCU are DynamoDB capacity units by AWS's documented rules
	// (internal/awscalls prices each call from the sizes of the items it
	// read and wrote).
	RCU, WCU float64
	// Apart names items, by the prefix of their sort key, whose write
	// units are counted on their own line with their own budget, ApartWCU
	// (the order quota's counter); WCU is then the rest.
	Apart    string
	ApartWCU float64

	// Emails is the number of emails the request causes (a fact of the
	// product: an order is confirmed by mail, a registration sends the
	// verification link, a reset request its link).
	Emails int
	// Hashes is the number of argon2id password hashes or verifications
	// the request computes (CPU time, not AWS).
	Hashes int

	// Why says why the request needs what it has.
	Why string
}

// KMS counts KMS calls by operation.
type KMS struct{ Sign, Encrypt, Decrypt int }

// Total is the number of KMS calls.
func (k KMS) Total() int { return k.Sign + k.Encrypt + k.Decrypt }

// Calls is the number of AWS calls of every kind.
func (b Budget) Calls() int { return b.DynamoDB + b.KMS.Total() }

// TotalWCU is the write units of the request, those counted apart
// included.
func (b Budget) TotalWCU() float64 { return b.WCU + b.ApartWCU }

// quota is the sort key prefix of the order quota's counter, whose write
// units the orders budgets count apart.
const quota = "QUOTA#"

// All returns every budget, in the order the budget tests measure them:
// orders first, then users.
func All() []Budget {
	return []Budget{
		// orders. Every order here has two lines, and every item written
		// is under 1 KB: a transactional write of one costs 2 WCU, a plain
		// one 1 WCU. The order item carries its event (functions/orders/store).
		{Request: "POST /v1/orders with Idempotency-Key (cold catalog)", Route: "POST /v1/orders", Function: "orders",
			DynamoDB: 2, Rounds: 2, RCU: 1, WCU: 4, Apart: quota, ApartWCU: 2, Emails: 1,
			Why: "a cold function reads the catalog (one Query, 1 RCU), then one transaction: order with its event, key record (2 WCU each), quota count (2 WCU)"},
		{Request: "GET /v1/products (cold)", Route: "GET /v1/products", Function: "orders",
			DynamoDB: 1, Rounds: 1, RCU: 1,
			Why: "one Query of the catalog partition (38 products, 4 to 8 KB: 1 RCU eventually consistent) fills the function's copy"},
		{Request: "GET /v1/products (warm)", Route: "GET /v1/products", Function: "orders",
			Why: "the function's copy is fresh for 5 minutes"},
		{Request: "GET /v1/products/{sku} (warm)", Route: "GET /v1/products/{sku}", Function: "orders",
			Why: "from the function's copy"},
		{Request: "POST /v1/orders (warm catalog)", Route: "POST /v1/orders", Function: "orders",
			DynamoDB: 1, Rounds: 1, WCU: 2, Apart: quota, ApartWCU: 2, Emails: 1,
			Why: "one transaction: order with its event (2 WCU), quota count (2 WCU)"},
		{Request: "POST /v1/orders with Idempotency-Key (warm)", Route: "POST /v1/orders", Function: "orders",
			DynamoDB: 1, Rounds: 1, WCU: 4, Apart: quota, ApartWCU: 2, Emails: 1,
			Why: "the same transaction with the key's record (2 WCU); the record names the order, it does not copy it"},
		{Request: "replay of an Idempotency-Key", Route: "POST /v1/orders", Function: "orders",
			DynamoDB: 2, Rounds: 2, RCU: 1, WCU: 4, Apart: quota, ApartWCU: 2,
			Why: "the transaction fails on the key's record, which comes back with the failure and names the order; one consistent GetItem reads it (a cancelled transaction priced as the writes it tried: an upper bound)"},
		{Request: "GET /v1/orders/{id}", Route: "GET /v1/orders/{id}", Function: "orders",
			DynamoDB: 1, Rounds: 1, RCU: 1,
			Why: "one consistent GetItem"},
		{Request: "GET /v1/orders", Route: "GET /v1/orders", Function: "orders",
			DynamoDB: 1, Rounds: 1, RCU: 1,
			Why: "one Query (here 4 orders; a full page of 20 reads 21 items, about 2 RCU)"},
		{Request: "POST /v1/orders/{id}/cancel", Route: "POST /v1/orders/{id}/cancel", Function: "orders",
			DynamoDB: 1, Rounds: 1, WCU: 1, Emails: 1,
			Why: "one conditional UpdateItem (status still cancellable) sets the status and the event and returns the order (no read units); not a transaction: 1 WCU"},
		{Request: "POST /v1/orders/{id}/reorder (warm)", Route: "POST /v1/orders/{id}/reorder", Function: "orders",
			DynamoDB: 2, Rounds: 2, RCU: 1, WCU: 2, Apart: quota, ApartWCU: 2, Emails: 1,
			Why: "it places an order from another one's items: they are read first (GetItem; no DynamoDB call reads one item and writes another), then create order's transaction"},

		// users.
		{Request: "GET /v1/health", Route: "GET /v1/health", Function: "users",
			Why: "answers from the function's own configuration"},
		{Request: "GET /.well-known/jwks.json", Route: "GET /.well-known/jwks.json", Function: "users",
			Why: "the public keys come with the configuration, rendered at cold start"},
		{Request: "POST /v1/auth/register", Route: "POST /v1/auth/register", Function: "users",
			DynamoDB: 4, KMS: KMS{Encrypt: 1}, Rounds: 5, WCU: 11, Emails: 1, Hashes: 1,
			Why: "count the request against its address's second and hour (two UpdateItems at once: one round, or two on a busy machine); count its email against the hourly cap of all clients (UpdateItem, not in the transaction: registrations at once must not conflict on it); seal the verification link's token for the mailer (KMS Encrypt); one transaction: email claim, user, pending link, outbox event (2 WCU each)"},
		{Request: "POST /v1/auth/verify-email", Route: "POST /v1/auth/verify-email", Function: "users",
			DynamoDB: 4, Rounds: 4, RCU: 2, WCU: 8,
			Why: "count the request against its address's second and hour (two UpdateItems at once: one round, or two on a busy machine); read the pending link and its user (consistent BatchGetItem); one transaction: use the link, mark the email verified, store the device token it answers"},
		{Request: "POST /v1/auth/cancel-registration", Route: "POST /v1/auth/cancel-registration", Function: "users",
			DynamoDB: 4, Rounds: 4, RCU: 2, WCU: 12,
			Why: "count the request against its address's second and hour (two UpdateItems at once: one round, or two on a busy machine); read the pending verification link and its user (consistent BatchGetItem); one transaction: use the link, delete the unverified user, its email's claim, a pending reset link and the failed login count (2 WCU each)"},
		{Request: "POST /v1/auth/login", Route: "POST /v1/auth/login", Function: "users",
			DynamoDB: 5, KMS: KMS{Sign: 1}, Rounds: 6, RCU: 4, WCU: 10, Hashes: 1,
			Why: "read the email's claim, the account's bucket and the address's failures (consistent BatchGetItem; a missing item priced at the minimum) and the user (GetItem); without a device token of the account, count the request against its address's second (UpdateItem); take the attempt before checking the password (conditional UpdateItem); sign the access token (KMS Sign); one transaction: session, bucket cleared, device token, on condition that the user's session epoch is still the one read (a ConditionCheck: a login racing a password reset starts no session). A success is not counted against the address's failures"},
		{Request: "POST /v1/auth/login (wrong password)", Route: "POST /v1/auth/login", Function: "users",
			DynamoDB: 5, Rounds: 5, RCU: 4, WCU: 3, Hashes: 1,
			Why: "the same reads and counts, the attempt taken (UpdateItem) before the password is checked, and the failure counted against the address after it (one atomic UpdateItem: many people behind one address never contend for it)"},
		{Request: "POST /v1/auth/refresh", Route: "POST /v1/auth/refresh", Function: "users",
			DynamoDB: 2, KMS: KMS{Sign: 1}, Rounds: 3, RCU: 2, WCU: 4,
			Why: "read the family, with its refreshes of the hour, and its user (consistent BatchGetItem); sign the new access token (KMS Sign); rotate the family and count the refresh (transaction). Limited per session, not per address"},
		{Request: "GET /v1/users/me", Route: "GET /v1/users/me", Function: "users",
			DynamoDB: 1, Rounds: 1, RCU: 1,
			Why: "one consistent GetItem"},
		{Request: "PATCH /v1/users/me", Route: "PATCH /v1/users/me", Function: "users",
			DynamoDB: 1, Rounds: 1, WCU: 1,
			Why: "one conditional UpdateItem returning the new profile"},
		{Request: "POST /v1/auth/verify-email/resend", Route: "POST /v1/auth/verify-email/resend", Function: "users",
			DynamoDB: 1, Rounds: 1, RCU: 1,
			Why: "read the user: verified already, nothing to send"},
		{Request: "POST /v1/auth/password-reset", Route: "POST /v1/auth/password-reset", Function: "users",
			DynamoDB: 5, KMS: KMS{Encrypt: 1}, Rounds: 6, RCU: 2, WCU: 8, Emails: 1,
			Why: "count the request against its address's second and hour (two UpdateItems at once: one round, or two on a busy machine); read the email's claim, then the user (GetItem each, the same time whether or not the account exists); seal the link's token (KMS Encrypt); one transaction: pending link, outbox event, link quota"},
		{Request: "POST /v1/auth/password-reset/confirm", Route: "POST /v1/auth/password-reset/confirm", Function: "users",
			DynamoDB: 4, Rounds: 4, RCU: 2, WCU: 16, Hashes: 1,
			Why: "count the request against its address's second and hour (two UpdateItems at once: one round, or two on a busy machine); read the pending link and its user (BatchGetItem); one transaction: use the link, set the hash and verify the email, drop a pending verification link, clear the login attempts, store the device token it answers, write the revocation under the user and in the feed (2 WCU each)"},
		{Request: "POST /v1/users/me/password", Route: "POST /v1/users/me/password", Function: "users",
			DynamoDB: 6, Rounds: 6, RCU: 4, WCU: 12, Hashes: 2,
			Why: "read the user (GetItem); the current password is a login attempt: read the throttle's state (BatchGetItem, and the user again) and take the attempt (UpdateItem); one transaction: set the hash, end the sessions and device tokens, drop a pending reset link, write the revocation under the user and in the feed, count it against the user's revocations of the hour; clear the attempts (DeleteItem). The second read of the user could go"},
		{Request: "POST /v1/auth/logout", Route: "POST /v1/auth/logout", Function: "users",
			DynamoDB: 1, Rounds: 1, WCU: 8,
			Why: "one transaction: end the family if not ended already (a replay writes nothing), write the revocation under the user and in the feed, count it against the user's revocations of the hour"},
	}
}

// ByRequest returns every budget by its request.
func ByRequest() map[string]Budget {
	out := map[string]Budget{}
	for _, b := range All() {
		out[b.Request] = b
	}
	return out
}

// For returns the budget of request, or an error naming the known ones.
func For(request string) (Budget, error) {
	all := ByRequest()
	if b, ok := all[request]; ok {
		return b, nil
	}
	known := make([]string, 0, len(all))
	for r := range all {
		known = append(known, r)
	}
	sort.Strings(known)
	return Budget{}, fmt.Errorf("budgets: no budget for %q (known: %q)", request, known)
}

// Of returns the budgets of one function's requests, in measuring order.
func Of(function string) []Budget {
	var out []Budget
	for _, b := range All() {
		if b.Function == function {
			out = append(out, b)
		}
	}
	return out
}
