package capacity

import (
	"bytes"
	_ "embed"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Share is one route's part of a traffic mix.
type Share struct {
	Category string `yaml:"category"`
	Route    string `yaml:"route"` // route key of the template's Api event
	// Request names the budget (internal/budgets) whose figures stand for
	// a request of the route in this mix.
	Request string  `yaml:"request"`
	Percent float64 `yaml:"percent"` // of all requests
}

// Mix is a traffic mix: what share of the requests each route gets.
type Mix struct {
	Name   string  `yaml:"name"`
	Shares []Share `yaml:"shares"`
	// Splits says, per category, how its share is divided among its
	// routes: the model's assumptions, not the documented mix's.
	Splits map[string]string `yaml:"splits"`
}

// Assumptions are the figures the model takes from measurements made
// elsewhere or states; inputs.yaml says where each comes from.
type Assumptions struct {
	// Latency of one AWS round trip from Lambda, in ms.
	DynamoDBMS float64 `yaml:"dynamodbMS"`
	KMSMS      float64 `yaml:"kmsMS"`
	SQSMS      float64 `yaml:"sqsMS"`
	SESMS      float64 `yaml:"sesMS"`
	// FullCoreMB is the memory size at which Lambda gives one full vCPU.
	FullCoreMB float64 `yaml:"fullCoreMB"`
	// WarmCPUMS is each function's CPU time per warm invoke on one full
	// core, in ms ("relay": each service's relay); HashCPUMS one argon2id
	// hash's.
	WarmCPUMS map[string]float64 `yaml:"warmCPUMS"`
	HashCPUMS float64            `yaml:"hashCPUMS"`
	// LogBytes is what each function logs per warm invoke, "relay" as
	// WarmCPUMS; AccessLogBytes one line of the API's access log.
	LogBytes       map[string]float64 `yaml:"logBytes"`
	AccessLogBytes float64            `yaml:"accessLogBytes"`
	// ResponseBytes is each route's response body; HeaderBytes the
	// response headers API Gateway adds.
	ResponseBytes map[string]float64 `yaml:"responseBytes"`
	HeaderBytes   float64            `yaml:"headerBytes"`
	// AuthorizerShare is the authorizer invocations per protected request.
	AuthorizerShare float64 `yaml:"authorizerShare"`
	// Per email: SQS FIFO requests, dedupe table writes, relay and
	// notification invocations.
	SQSPerEmail           float64 `yaml:"sqsPerEmail"`
	DedupeWRUPerEmail     float64 `yaml:"dedupeWRUPerEmail"`
	RelayInvokesPerEmail  float64 `yaml:"relayInvokesPerEmail"`
	NotifyInvokesPerEmail float64 `yaml:"notifyInvokesPerEmail"`
	// TargetRPS is the total rate every template or design ceiling must
	// reach (the product brief's "Launch day").
	TargetRPS float64 `yaml:"targetRPS"`
}

// Quota is an AWS default quota of the account and region, as AWS
// documents it.
type Quota struct {
	Name  string  `yaml:"name"`  // as Service Quotas or the service's guide names it
	Code  string  `yaml:"code"`  // Service Quotas code, "" where not verified
	Value float64 `yaml:"value"` // the default
	// ByRegion are the regions whose default is another.
	ByRegion map[string]float64 `yaml:"byRegion"`
	Unit     string             `yaml:"unit"`
	// Source is the documentation it is read from; Note what to know.
	Source string `yaml:"source"`
	Note   string `yaml:"note"`
}

// Quotas are the default quotas the model uses, for one region.
type Quotas struct {
	APIGateway        Quota `yaml:"apiGateway"`
	APIGatewayBurst   Quota `yaml:"apiGatewayBurst"`
	LambdaConcurrency Quota `yaml:"lambdaConcurrency"`
	KMSECC            Quota `yaml:"kmsECC"`
	KMSSymmetric      Quota `yaml:"kmsSymmetric"`
	SESRate           Quota `yaml:"sesRate"`
	SESDaily          Quota `yaml:"sesDaily"`
	TableRead         Quota `yaml:"tableRead"`
	TableWrite        Quota `yaml:"tableWrite"`
}

//go:embed inputs.yaml
var inputsYAML []byte

// stated are the inputs of inputs.yaml.
type stated struct {
	Mix         Mix         `yaml:"mix"`
	Assumptions Assumptions `yaml:"assumptions"`
	Quotas      Quotas      `yaml:"quotas"`
}

// readStated reads inputs.yaml strictly: a misspelt field is an error.
func readStated() stated {
	var s stated
	dec := yaml.NewDecoder(bytes.NewReader(inputsYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		panic(fmt.Sprintf("internal/capacity/inputs.yaml: %v", err)) // embedded: every test reads it first
	}
	return s
}

// DocumentedMix is launch day's mix (inputs.yaml).
func DocumentedMix() Mix { return readStated().Mix }

// DefaultQuotas returns AWS's default quotas in region (inputs.yaml).
func DefaultQuotas(region string) Quotas {
	q := readStated().Quotas
	for _, quota := range []*Quota{&q.APIGateway, &q.APIGatewayBurst, &q.LambdaConcurrency, &q.KMSECC, &q.KMSSymmetric, &q.SESRate, &q.SESDaily, &q.TableRead, &q.TableWrite} {
		if v, ok := quota.ByRegion[region]; ok {
			quota.Value = v
		}
	}
	return q
}
