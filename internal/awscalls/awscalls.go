//go:build integration

// Package awscalls measures what a request costs in AWS: the calls a
// service's clients make, how many of them run one after another, and the
// DynamoDB capacity they consume, twice: as the local cloud reports it
// (ReturnConsumedCapacity TOTAL, which the recorder asks for) and as AWS's
// documented rules compute it from the sizes of the items read and written.
// The budget tests of the services (TestAWSCallsPerRequest) use it.
//
// It is installed only by tests, as an SDK middleware on the clients they
// hand the services; production code paths are the same as deployed.
package awscalls

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Call is one AWS call as the recorder saw it leave and come back.
type Call struct {
	Service, Operation string
	Start, End         time.Time
	// Reported is the capacity the local cloud reported (ConsumedCapacity),
	// ReportedOK whether it reported any.
	Reported   Units
	ReportedOK bool
	// Rules is the capacity AWS's documented rules give for the items the
	// call read and wrote (DynamoDB only); Writes prices each item written.
	Rules  Units
	Writes []ItemWrite
}

// Units are DynamoDB capacity units.
type Units struct{ Read, Write float64 }

// Add returns u plus v.
func (u Units) Add(v Units) Units { return Units{u.Read + v.Read, u.Write + v.Write} }

// Recorder records calls. Its zero value is not usable: use New.
type Recorder struct {
	sizer *sizer
	mu    sync.Mutex
	calls []Call
}

// New returns a recorder. shadow is a DynamoDB client without the
// recorder, used to read the items a write touches before and after it, so
// that their sizes can be priced by AWS's rules; nil prices reads only.
func New(shadow *dynamodb.Client) *Recorder {
	return &Recorder{sizer: &sizer{db: shadow}}
}

// Take returns the calls recorded since the last Take and forgets them.
func (r *Recorder) Take() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

// APIOption is the middleware to append to a client's APIOptions
// (o.APIOptions = append(o.APIOptions, rec.APIOption(service))).
func (r *Recorder) APIOption(service string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("awscalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askCapacity(in.Parameters)
			before := r.sizer.before(ctx, in.Parameters)
			c := Call{Service: service, Operation: middleware.GetOperationName(ctx), Start: time.Now()}
			out, md, err := next.HandleInitialize(ctx, in)
			c.End = time.Now()
			c.Reported, c.ReportedOK = reported(out.Result)
			c.Rules, c.Writes = r.sizer.price(ctx, in.Parameters, out.Result, before, err)
			r.mu.Lock()
			r.calls = append(r.calls, c)
			r.mu.Unlock()
			return out, md, err
		}), middleware.After)
	}
}

// Rounds is the number of calls that ran one after another: calls that
// overlap in time count once.
func Rounds(calls []Call) int {
	rounds := 0
	var end time.Time
	for _, c := range calls { // in the order they were recorded: by end
		if rounds == 0 || !c.Start.Before(end) {
			rounds++
			end = c.End
		} else if c.End.After(end) {
			end = c.End
		}
	}
	return rounds
}

// Sum adds up the calls' capacity by the rules and as reported.
func Sum(calls []Call) (rules, reported Units) {
	for _, c := range calls {
		rules = rules.Add(c.Rules)
		reported = reported.Add(c.Reported)
	}
	return rules, reported
}
