package capacity

import "slices"

// Quota is an AWS default quota of the account and region, as AWS
// documents it.
type Quota struct {
	Name  string  // as Service Quotas or the service's guide names it
	Code  string  // Service Quotas code, "" where not verified
	Value float64 // the default
	Unit  string
	// Source is the documentation it is read from; Note what to know.
	Source, Note string
}

// Quotas are the default quotas the model uses, for one region.
type Quotas struct {
	APIGateway, APIGatewayBurst Quota
	LambdaConcurrency           Quota
	KMSECC, KMSSymmetric        Quota
	SESRate, SESDaily           Quota
	TableRead, TableWrite       Quota
}

// DefaultQuotas returns AWS's default quotas in region, as documented
// when they were read (2026-11-22; the sources are in each).
func DefaultQuotas(region string) Quotas {
	// The regions whose default account throttle is 2,500 requests a
	// second and 1,250 of burst (API Gateway quotas page).
	small := []string{
		"af-south-1", "eu-south-1", "ap-southeast-3", "me-central-1", "ap-south-2", "ap-southeast-4",
		"eu-south-2", "eu-central-2", "il-central-1", "ca-west-1", "ap-southeast-5", "ap-southeast-7", "mx-central-1",
	}
	apigw, burst := 10000.0, 5000.0
	if slices.Contains(small, region) {
		apigw, burst = 2500, 1250
	}
	symmetric := 10000.0
	switch region {
	case "us-east-2", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "eu-central-1", "eu-west-2":
		symmetric = 20000
	case "us-east-1", "us-west-2", "eu-west-1":
		symmetric = 100000
	}
	const (
		apigwDoc  = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
		lambdaDoc = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
		kmsDoc    = "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"
		sesDoc    = "https://docs.aws.amazon.com/ses/latest/dg/quotas.html"
		ddbDoc    = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"
	)
	return Quotas{
		APIGateway: Quota{Name: "Throttle quota per account, per Region across HTTP, REST and WebSocket APIs", Code: "L-8A5B8E43",
			Value: apigw, Unit: "requests/s", Source: apigwDoc,
			Note: "shared by every API of the account in the region; the burst comes with it and cannot be asked for"},
		APIGatewayBurst: Quota{Name: "API Gateway account burst (token bucket)", Value: burst, Unit: "requests",
			Source: apigwDoc, Note: "set by AWS from the rate quota"},
		LambdaConcurrency: Quota{Name: "Lambda Concurrent executions", Code: "L-B99A9384", Value: 1000, Unit: "executions",
			Source: lambdaDoc, Note: "shared by every function of the account in the region; new accounts can start lower: read the applied value in Service Quotas"},
		KMSECC: Quota{Name: "Cryptographic operations (ECC and SM2) request rate", Value: 1000, Unit: "requests/s", Source: kmsDoc,
			Note: "shared by Sign and Verify on every ECC key of the account in the region; the page's older text and older accounts say 300: read the applied value in Service Quotas"},
		KMSSymmetric: Quota{Name: "Cryptographic operations (symmetric) request rate", Value: symmetric, Unit: "requests/s", Source: kmsDoc,
			Note: "shared by Encrypt, Decrypt, GenerateDataKey… on every symmetric key of the account in the region"},
		SESRate: Quota{Name: "SES sending rate", Value: 1, Unit: "emails/s", Source: sesDoc,
			Note: "an account's default is the sandbox's 1 email a second; out of the sandbox, SES sets it from the use case"},
		SESDaily: Quota{Name: "SES sending quota (emails per 24 hours)", Value: 200, Unit: "emails/24 h", Source: sesDoc,
			Note: "an account's default is the sandbox's 200 a day; out of the sandbox, SES sets it from the use case"},
		TableRead: Quota{Name: "DynamoDB table-level read throughput (on-demand)", Value: 40000, Unit: "read request units/s", Source: ddbDoc,
			Note: "per table; a new on-demand table serves 12,000 RRU (or 4,000 WRU) at once and doubles its previous peak within 30 minutes"},
		TableWrite: Quota{Name: "DynamoDB table-level write throughput (on-demand)", Value: 40000, Unit: "write request units/s", Source: ddbDoc,
			Note: "per table; see the read quota on a new table's first peak"},
	}
}
