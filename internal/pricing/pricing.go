// Package pricing is the one copy of the AWS prices the project's cost
// models use: the cost per million orders of make bench (bench/report) and
// the cost per million requests of each route of make capacity
// (internal/capacity). Public on-demand prices of us-east-1, first tier,
// without free tiers, each with where it was read.
package pricing

// Read is when the price pages below were read.
const Read = "2026-11-22 (stored copies of the pages, dated 2025–2026)"

// Price is one line of the price table.
type Price struct {
	Key    string  // how the models name it ("apigw")
	Item   string  // what is priced
	Unit   string  // per what
	USD    float64 // the price of one Unit
	Source string  // where it was read
}

// The keys of the price table.
const (
	APIGateway      = "apigw"
	LambdaRequests  = "lreq"
	LambdaArm       = "lgbs"
	LambdaX86       = "lgbsx86"
	WriteUnits      = "wru"
	ReadUnits       = "rru"
	SQSFIFO         = "sqsfifo"
	SES             = "ses"
	Logs            = "logs"
	XRay            = "xray"
	XRayRetrieved   = "xrayget"
	KMSAsymmetric   = "kmsasym"
	KMSSymmetric    = "kmssym"
	WAFRequests     = "waf"
	DataTransferOut = "dto"
)

// List returns the price table, in the order the reports print it.
func List() []Price {
	return []Price{
		{APIGateway, "API Gateway REST API requests", "per million", 3.50, "https://aws.amazon.com/api-gateway/pricing/ (first 333 million a month; table reproduced in https://docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html)"},
		{LambdaRequests, "Lambda requests", "per million", 0.20, "https://aws.amazon.com/lambda/pricing/"},
		{LambdaArm, "Lambda duration, Arm", "per GB-second", 0.0000133334, "https://aws.amazon.com/lambda/pricing/ (first 7.5 billion GB-s a month; figure as quoted in https://cloudchipr.com/blog/aws-lambda-pricing)"},
		{LambdaX86, "Lambda duration, x86", "per GB-second", 0.0000166667, "https://aws.amazon.com/lambda/pricing/ (first 6 billion GB-s a month; figure as quoted in https://cloudchipr.com/blog/aws-lambda-pricing)"},
		{WriteUnits, "DynamoDB on-demand write request units", "per million", 0.625, "https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 cut; as quoted in https://airbyte.com/data-engineering-resources/dynamodb-pricing)"},
		{ReadUnits, "DynamoDB on-demand read request units", "per million", 0.125, "same as above"},
		{SQSFIFO, "SQS FIFO requests (64 KB chunks)", "per million", 0.50, "https://aws.amazon.com/sqs/pricing/ (as quoted in https://cloudburn.io/blog/amazon-sqs-pricing, March 2026)"},
		{SES, "SES outbound email", "per 1,000 emails", 0.10, "https://aws.amazon.com/ses/pricing/ (as quoted in https://www.acecloudinterviews.com/tutorials/aws/ses/)"},
		{Logs, "CloudWatch Logs ingestion (Lambda logs, first tier)", "per GB", 0.50, "https://aws.amazon.com/cloudwatch/pricing/ (Lambda logs tiered since May 2025, first tier $0.50: https://www.duckbillgroup.com/?p=9080)"},
		{XRay, "X-Ray traces recorded", "per million", 5.00, "https://aws.amazon.com/xray/pricing/"},
		{XRayRetrieved, "X-Ray traces retrieved or scanned", "per million", 0.50, "https://aws.amazon.com/xray/pricing/"},
		{KMSAsymmetric, "KMS asymmetric requests (Sign with the ECC signing key; all asymmetric but RSA 2048)", "per 10,000", 0.15, "https://aws.amazon.com/kms/pricing/ (asymmetric requests are not in the free tier; $0.15 per 10,000 as quoted in https://www.factualminds.com/blog/aws-kms-pricing-keys-requests-multi-region/, June 2026: five times the symmetric rate)"},
		{KMSSymmetric, "KMS symmetric requests (Encrypt, Decrypt with the link key)", "per 10,000", 0.03, "https://aws.amazon.com/kms/pricing/ (beyond 20,000 free a month; as quoted in https://www.wring.co/blog/aws-kms-pricing-guide, March 2026)"},
		{WAFRequests, "AWS WAF requests inspected (with Waf=true)", "per million", 0.60, "https://aws.amazon.com/waf/pricing/ (as quoted in https://c3x.dev/blog/aws-waf-cost-explained/; plus $5 a month per web ACL and $1 per rule)"},
		{DataTransferOut, "Data transfer out to the internet (API Gateway responses, first tier)", "per GB", 0.09, "https://aws.amazon.com/api-gateway/pricing/ (charged at EC2 data transfer rates, first 10 TB after 100 GB free a month; as quoted in https://amnic.com/blogs/aws-api-gateway-pricing)"},
	}
}

// Table is the price table by key.
type Table map[string]Price

// ByKey returns the price table by key.
func ByKey() Table {
	out := Table{}
	for _, p := range List() {
		out[p.Key] = p
	}
	return out
}

// USD is the price of key (0 for an unknown key, which pricing_test keeps
// from happening).
func (t Table) USD(key string) float64 { return t[key].USD }
