package app

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/serverless-shop/backend/functions/users/account"
)

// gateSource counts a request to a costly public route (login included)
// against the client's address's requests of the second
// (SourceRequestsPerSecond; the callers count nothing for ""). A flood from one address
// is turned away here, for one conditional write, before it costs a
// password hash, a KMS call or an email, and before it can slow down
// anyone else; the people behind one address (a thousand, at a carrier's
// NAT) stay far below it.
func (s *Service) gateSource(ctx context.Context, source string) error {
	return s.countSource(ctx, account.Limit{Key: "rate#" + source, Max: s.SourceRequestsPerSecond, Window: time.Second})
}

// CountSourceRequest counts a request to a costly public route other than
// login against the client's address (as API Gateway saw it; "" counts
// nothing): its requests of the second, as gateSource does, and of the
// hour (SourceRequestsPerHour), both at once. The gateway's throttle is
// shared by every client; these are each address's own, so one script
// cannot use up a route for everybody.
func (s *Service) CountSourceRequest(ctx context.Context, source string) error {
	if source == "" {
		return nil
	}
	var second error
	var wg sync.WaitGroup
	wg.Go(func() { second = s.gateSource(ctx, source) })
	hour := s.countSource(ctx, account.Limit{Key: "source#" + source, Max: s.SourceRequestsPerHour, Window: time.Hour})
	wg.Wait()
	return cmp.Or(second, hour)
}

// countSource counts one request against an address's limit (hour or
// second, SourceRequestsPerHour or SourceRequestsPerSecond), and says how
// long to wait when it is reached.
func (s *Service) countSource(ctx context.Context, limit account.Limit) error {
	return s.limited(ctx, sourceLimited, s.Store.CountRequest(ctx, limit, s.now()), slog.Duration("window", limit.Window))
}
