package order

import (
	"time"

	"github.com/serverless-shop/backend/shared/problem"
)

// Quota caps the orders one customer may place: at most Max in each fixed
// Window (aligned to the Unix epoch, so every customer's hour is the
// clock's hour). It is counted in the transaction that stores the order,
// so an order is either counted and stored, with its event, or neither.
type Quota struct {
	Max    int
	Window time.Duration
}

// DefaultOrdersPerHour is the default quota: far more than a shopper
// places, few enough to bound what a stolen token or a runaway client can
// do in an hour.
const DefaultOrdersPerHour = 100

// WindowStart is the start of the window holding now.
func (q Quota) WindowStart(now time.Time) time.Time { return now.Truncate(q.Window) }

// Refused is the error of an order the quota refused at now: too many
// requests, until the window ends (at least a second).
func (q Quota) Refused(now time.Time) error {
	return &problem.Error{Kind: problem.TooManyRequests, Slug: "order-quota", RetryAfter: max(q.WindowStart(now).Add(q.Window).Sub(now), time.Second),
		Detail: "You have placed as many orders as an hour allows. Try again after the time Retry-After gives."}
}
