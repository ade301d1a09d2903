package capacity

// Assumptions are the figures the model takes from measurements made
// elsewhere (bench/REPORT.md, the handler tests) or states, each with where
// it comes from. They turn AWS calls into durations (Lambda concurrency,
// the notification function's sending rate) and requests into bytes (logs,
// data transfer).
type Assumptions struct {
	// Latency of one AWS round trip from Lambda, in ms (bench/report's
	// cost model: DynamoDB 8, KMS and SQS 15, SES 60).
	DynamoDBMS, KMSMS, SQSMS, SESMS float64
	// FullCoreMB is the memory size at which Lambda gives one full vCPU.
	FullCoreMB float64
	// WarmCPUMS is each function's CPU time per warm invoke on one full
	// core, in ms (bench/REPORT.md, "Memory": warm invoke measured here);
	// Lambda scales it by FullCoreMB / MemorySize below one core. "relay"
	// is each service's relay (usersrelay, ordersrelay: the same code).
	WarmCPUMS map[string]float64
	// HashCPUMS is one argon2id hash on one full core, in ms
	// (bench/REPORT.md, "Memory", GOMAXPROCS 1; on Graviton expect more).
	HashCPUMS float64
	// LogBytes is what each function logs per warm invoke
	// (bench/REPORT.md, "Memory", logged per warm invoke), "relay" as
	// WarmCPUMS.
	LogBytes map[string]float64
	// AccessLogBytes is one line of the API's access log (its JSON format
	// in template.yaml, with typical values).
	AccessLogBytes float64
	// ResponseBytes is each route's response body, measured on the
	// handlers with the real catalog (a 2-line order; a full page of 20
	// orders); HeaderBytes the response headers API Gateway adds.
	ResponseBytes map[string]float64
	HeaderBytes   float64
	// AuthorizerShare is the authorizer invocations per protected request:
	// 1 is the upper bound (its decision is cached per token for
	// AuthorizerCacheSeconds, so a client that sends several requests
	// within that time invokes it once).
	AuthorizerShare float64
	// Per email: SQS FIFO requests (the relay's send, the event source's
	// receive and delete), dedupe table writes (a claim and its outcome,
	// each under 1 KB), relay and notification invocations (upper bounds:
	// both batch).
	SQSPerEmail, DedupeWRUPerEmail, RelayInvokesPerEmail, NotifyInvokesPerEmail float64
	// TargetRPS is the total rate every template or design ceiling must
	// reach (the product brief's "Launch day").
	TargetRPS float64
}

// DefaultAssumptions returns the model's assumptions.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		DynamoDBMS: 8, KMSMS: 15, SQSMS: 15, SESMS: 60,
		FullCoreMB: 1769,
		WarmCPUMS:  map[string]float64{"authorizer": 0.6, "users": 1.0, "orders": 1.0, "relay": 1.2, "notifications": 1.8},
		HashCPUMS:  42,
		LogBytes:   map[string]float64{"authorizer": 12, "users": 503, "orders": 495, "relay": 660, "notifications": 945},
		// The access log format is about 520 characters of JSON with its
		// field names; values replace the $context names, most shorter.
		AccessLogBytes: 450,
		ResponseBytes: map[string]float64{
			"GET /v1/products": 5195, "GET /v1/products/{sku}": 174,
			"GET /v1/users/me": 175, "GET /v1/orders": 7649, "GET /v1/orders/{id}": 376,
			"POST /v1/orders": 376, "POST /v1/auth/login": 804, "POST /v1/auth/refresh": 740,
			"POST /v1/auth/register": 138,
			// 204 and 202 answers have no body worth counting.
		},
		HeaderBytes:     500,
		AuthorizerShare: 1,
		SQSPerEmail:     3, DedupeWRUPerEmail: 2, RelayInvokesPerEmail: 1, NotifyInvokesPerEmail: 1,
		TargetRPS: 10000,
	}
}
