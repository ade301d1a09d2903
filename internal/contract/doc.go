// Package contract checks the agreements no single package can check on its
// own: that the three descriptions of the API agree (the OpenAPI document
// api/openapi.yaml, the routes of the SAM template, the routes the services
// register), that the gateway's own answers are documented problems, that
// the relay's stream filter is the outbox contract, that the template's
// security settings hold (KMS key policies separate administration from use
// and grant no kms:*, the alarm topic is encrypted with a key CloudWatch may
// use, prod retains its tables, keys, secret and queues), that the deploy
// roles of deploy/github-oidc.yaml allow what CloudFormation and sam deploy
// need to deploy the template (evaluated by internal/iampolicy), that every
// function is built from its own directory, logs to its own group, carries
// the authorizer's token settings when it serves protected routes and has
// its alarms and graphs, and that the code keeps its shape: no function
// imports another, shared/ stands alone, and test support stays in tests.
// TestNewServiceChecklist follows docs/extending.md's checklist for a new
// service on a copy of the repository and runs these tests there;
// TestDocsSpeakToAnyReader keeps README.md and docs/ free of the author's
// "here" and of tracker references. Its tests run with plain go test.
package contract
