//go:build integration

// Package awscalls measures what a request costs in AWS: the calls a
// service's clients make, how many of them run one after another, and the
// DynamoDB capacity they consume, twice: as the local cloud reports it
// (ReturnConsumedCapacity TOTAL, which the recorder asks for) and as AWS's
// documented rules compute it from the sizes of the items read and written.
// The budget tests of the services (TestAWSCallsPerRequest) use it.
//
// It also records the partition keys each DynamoDB call touches, and who
// made the request (SetActor): a partition key that requests of two
// different users, or of two client addresses, touch is shared, and a
// shared key is a hot key at scale. The shared-key tests
// (TestSharedPartitionKeys) hold every shared key to the capacity model's
// hot-key table (internal/capacity).
//
// It is installed only by tests, as an SDK middleware on the clients they
// hand the services; production code paths are the same as deployed.
package awscalls

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
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
	// Background marks a call no request pays for by itself: the
	// revocation list every execution environment reloads every few
	// seconds (BackgroundOption). Take leaves such calls out; their keys
	// count all the same.
	Background bool
}

// Units are DynamoDB capacity units.
type Units struct{ Read, Write float64 }

// Add returns u plus v.
func (u Units) Add(v Units) Units { return Units{u.Read + v.Read, u.Write + v.Write} }

// Recorder records calls. Its zero value is not usable: use New.
type Recorder struct {
	// shadow reads the items a write touches, for their sizes (rules.go).
	shadow *dynamodb.Client
	mu     sync.Mutex
	calls  []Call
	actor  string
	names  map[string]string       // table name → the name to report
	seen   map[Key]map[string]bool // partition key → actors that touched it
}

// New returns a recorder. shadow is a DynamoDB client without the
// recorder, used to read the items a write touches before and after it, so
// that their sizes can be priced by AWS's rules; nil prices reads only.
func New(shadow *dynamodb.Client) *Recorder {
	return &Recorder{shadow: shadow, names: map[string]string{}, seen: map[Key]map[string]bool{}}
}

// NameTable reports the keys of the table called name as those of the
// table called as (the template's logical id: a test's throwaway
// "calls-1234" is the template's "UsersTable").
func (r *Recorder) NameTable(name, as string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names[name] = as
}

// SetActor attributes the calls from now on to actor: one user at one
// client address ("alice@198.51.100.7").
func (r *Recorder) SetActor(actor string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.actor = actor
}

// Take returns the calls recorded since the last Take and forgets them,
// background calls left out.
func (r *Recorder) Take() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := slices.DeleteFunc(r.calls, func(c Call) bool { return c.Background })
	r.calls = nil
	return calls
}

// SharedKey is a partition key that more than one actor touched.
type SharedKey struct {
	Key
	Actors []string
}

// Shared returns every partition key that calls of two or more actors
// touched since New, Take or not, sorted by table and value.
func (r *Recorder) Shared() []SharedKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []SharedKey
	for k, actors := range r.seen {
		if len(actors) < 2 {
			continue
		}
		out = append(out, SharedKey{Key: k, Actors: slices.Sorted(maps.Keys(actors))})
	}
	slices.SortFunc(out, func(a, b SharedKey) int {
		return cmp.Or(strings.Compare(a.Table, b.Table), strings.Compare(a.Value, b.Value))
	})
	return out
}

// APIOption is the middleware to append to a client's APIOptions
// (o.APIOptions = append(o.APIOptions, rec.APIOption(service))).
func (r *Recorder) APIOption(service string) func(*middleware.Stack) error {
	return r.option(service, false)
}

// BackgroundOption is APIOption for a client whose calls no request pays
// for by itself, such as the revocation list's reloads: Take leaves them
// out, Shared counts their keys.
func (r *Recorder) BackgroundOption(service string) func(*middleware.Stack) error {
	return r.option(service, true)
}

func (r *Recorder) option(service string, background bool) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("awscalls", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			askCapacity(in.Parameters)
			its := items(in.Parameters)
			ws := slices.DeleteFunc(slices.Clone(its), func(it item) bool { return !it.write }) // the items it writes
			before := r.before(ctx, ws)
			c := Call{Service: service, Operation: middleware.GetOperationName(ctx), Start: time.Now(), Background: background}
			keys := keysOf(in.Parameters, its)
			out, md, err := next.HandleInitialize(ctx, in)
			c.End = time.Now()
			c.Reported, c.ReportedOK = reported(out.Result, len(ws) > 0)
			c.Rules, c.Writes = r.price(ctx, in.Parameters, out.Result, ws, before, err)
			r.mu.Lock()
			for _, k := range keys {
				if r.actor == "" { // set-up, not a request of anyone's
					continue
				}
				k.Table = cmp.Or(r.names[k.Table], k.Table)
				if r.seen[k] == nil {
					r.seen[k] = map[string]bool{}
				}
				r.seen[k][r.actor] = true
			}
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
