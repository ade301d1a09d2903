// Package e2e holds the end-to-end tests. They run against the stack that
// localstack/deploy.sh deployed from the real template.yaml into the local
// cloud, and talk to it only over HTTP and AWS APIs. Run them with
// `make test`; they carry the "integration" build tag.
package e2e
