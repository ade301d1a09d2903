// Package contract checks that the three descriptions of the API agree: the
// OpenAPI document (api/openapi.yaml), the routes of the SAM template, and
// the routes the services register. Its tests run with plain go test.
package contract
