# serverless-shop: build, lint, test and run the backend.
#
#   make dev     bring the whole system up on the local cloud and print the API URL
#   make down    stop the local cloud
#   make test    everything CI runs: lint, unit tests, then deploy to a fresh
#                local cloud, run the integration and end-to-end tests, stop it
#
# Tools install themselves into .local/ (git-ignored) at pinned versions.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ARCH ?= arm64
ENV ?= dev
FUNCTIONS := $(notdir $(patsubst %/main.go,%,$(wildcard functions/*/main.go)))
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOARCH_arm64 := arm64
GOARCH_x86_64 := amd64
LDFLAGS := -s -w -X github.com/serverless-shop/backend/shared/coldstart.Version=$(VERSION)

STATICCHECK_VERSION := v0.8.2
LOCAL_BIN := $(CURDIR)/.local/bin
SAM := .local/venv/sam/bin/sam

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: ## build every function's bootstrap into build/<function>/ (ARCH=arm64|x86_64)
	@test -n "$(GOARCH_$(ARCH))" || { echo "ARCH must be arm64 or x86_64"; exit 2; }
	@for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_$(ARCH)) go build -tags lambda.norpc -trimpath \
	    -ldflags="$(LDFLAGS)" -o build/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done
	@ls -l build/*/bootstrap | awk '{printf "  %-32s %6.1f MiB\n", $$9, $$5/1048576}'

.PHONY: tools
tools: $(LOCAL_BIN)/staticcheck ## install the pinned tools into .local/
	@./localstack/install.sh

$(LOCAL_BIN)/staticcheck:
	GOBIN=$(LOCAL_BIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

.PHONY: lint
lint: tools ## gofmt, go vet, staticcheck (with and without the integration tag), sam validate --lint
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	go vet ./...
	go vet -tags integration ./...
	$(LOCAL_BIN)/staticcheck ./...
	$(LOCAL_BIN)/staticcheck -tags integration ./...
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint

.PHONY: unit
unit: ## unit tests (no cloud needed)
	go test -race -count=1 ./...

.PHONY: dev
dev: ## run the whole system on the local cloud and print the API URL
	@./localstack/up.sh
	@url=$$(./localstack/deploy.sh) && \
	  printf '\nAPI: %s\n  try: curl %s/v1/health\n  stop: make down\n' "$$url" "$$url"

.PHONY: sam-local
sam-local: ## run the API with sam local start-api (needs Docker and a running make dev)
	@docker info >/dev/null 2>&1 || { echo "sam local start-api runs functions in Docker containers; start Docker first"; exit 1; }
	@test -f .local/state/outputs.json || { echo "run make dev first: the functions use its tables, keys and queue"; exit 1; }
	.local/venv/sam/bin/python localstack/stack.py sam-local-env .local/state/outputs.json > .local/state/sam-local-env.json
	$(MAKE) build ARCH=$$(./localstack/arch.sh)
	SAM_CLI_TELEMETRY=0 $(SAM) local start-api --env-vars .local/state/sam-local-env.json \
	  --parameter-overrides Architecture=$$(./localstack/arch.sh) --port 3000 --host 127.0.0.1

.PHONY: down
down: ## stop the local cloud
	@./localstack/down.sh

.PHONY: test
test: lint unit ## lint, unit tests, then integration and end-to-end tests on a fresh local cloud
	@./localstack/test.sh

.PHONY: bench
bench: ## run the benchmarks
	go test -run '^$$' -bench . -benchmem ./...

.PHONY: deploy
deploy: tools ## deploy to AWS with samconfig.toml's ENV (dev or prod); needs AWS credentials
	$(MAKE) build ARCH=arm64
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-env $(ENV) $(SAM_DEPLOY_FLAGS)

.PHONY: clean
clean: ## remove build output (keeps .local/)
	rm -rf build .aws-sam
