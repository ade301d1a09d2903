# serverless-shop: build, lint, test and run the backend.
#
#   make doctor  check what make dev and make test need, one line each
#   make dev     bring the whole system up on the local cloud and print the API URL
#   make try     walk through the API on it: register, verify, log in, order, emails
#   make down    stop the local clouds of this checkout
#   make test    everything CI runs: lint, unit tests, then deploy to a fresh
#                local cloud, run the integration and end-to-end tests (with a
#                short Schemathesis campaign), stop it
#   make schemathesis-long   a long Schemathesis campaign on a fresh local cloud
#   make faults              the fault campaign on a fresh local cloud (docs/faults.md)
#   make deploy ENV=dev      deploy to AWS (ENV: dev, staging, prod; samconfig.toml)
#   make smoke ENV=dev       smoke-test a deployed stack (scripts/smoke.sh)
#   make capacity            the capacity model of prod (ENV=dev: of dev; docs/capacity.md)
#   make delete ENV=dev      delete a stack (what prod retains: docs/operations.md)
#   make staff ENV=dev EMAIL=<address>   make a verified account staff
#                            (ROLE=customer: a customer again; ENV=local: the
#                            local cloud on EMULATOR_PORT; docs/operations.md)
#
# Tools install themselves into .local/ (git-ignored) at pinned versions.
#
# The local cloud listens on EMULATOR_PORT (default 4566); its state is in
# .local/state/<port>/. make test, make faults and make schemathesis-long
# start their own on the next free port when make dev's runs on it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ARCH ?= arm64
ENV ?= dev
# Every Lambda function is a main package under functions/: a service's own
# (functions/orders) or another of the same service (functions/orders/catalogseed).
# Its directory name names its bootstrap (build/catalogseed/bootstrap).
MAINS := $(patsubst %/main.go,%,$(wildcard functions/*/main.go functions/*/*/main.go))
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOARCH_arm64 := arm64
GOARCH_x86_64 := amd64
LDFLAGS := -s -w -X github.com/serverless-shop/backend/shared/coldstart.Version=$(VERSION)

STATICCHECK_VERSION := v0.8.2
ACTIONLINT_VERSION := v1.7.12
LOCAL_BIN := $(CURDIR)/.local/bin
SAM := .local/venv/sam/bin/sam
CFN_LINT := .local/venv/sam/bin/cfn-lint

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# How every bootstrap is built, by make build and by sam build alike: static,
# for Lambda's provided.al2023 runtime, without the RPC mode only go1.x
# runtimes used, stripped, and with the version the health route reports.
GO_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(GOARCH_$(ARCH)) go build -tags lambda.norpc -trimpath -ldflags="$(LDFLAGS)"

.PHONY: build
build: ## build every function's bootstrap into build/<function>/ (ARCH=arm64|x86_64)
	@test -n "$(GOARCH_$(ARCH))" || { echo "ARCH must be arm64 or x86_64"; exit 2; }
	@for dir in $(MAINS); do $(GO_BUILD) -o build/$$(basename $$dir)/bootstrap ./$$dir || exit 1; done
	@ls -l build/*/bootstrap | awk '{printf "  %-32s %6.1f MiB\n", $$9, $$5/1048576}'

# sam build runs `make build-<LogicalId>` for every function of the template
# (Metadata BuildMethod: makefile) with ARTIFACTS_DIR set; UsersFunction is
# the main package in a directory named users. SAM does not pass the
# architecture: ARCH does, as above.
build-%Function:
	@test -n "$(GOARCH_$(ARCH))" || { echo "ARCH must be arm64 or x86_64"; exit 2; }
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 2; }
	$(GO_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./$(filter %/$(shell echo '$*' | tr '[:upper:]' '[:lower:]'),$(MAINS))

.PHONY: tools
tools: $(LOCAL_BIN)/staticcheck-$(STATICCHECK_VERSION) $(LOCAL_BIN)/actionlint-$(ACTIONLINT_VERSION) ## install the pinned tools into .local/
	@./localstack/install.sh

# The version is in the file name, so changing a pin installs the new one.
$(LOCAL_BIN)/staticcheck-$(STATICCHECK_VERSION):
	GOBIN=$(LOCAL_BIN) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(LOCAL_BIN)/staticcheck $@

$(LOCAL_BIN)/actionlint-$(ACTIONLINT_VERSION):
	GOBIN=$(LOCAL_BIN) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(LOCAL_BIN)/actionlint $@

# go vet and staticcheck see every file with the integration and faults
# tags, but for bench/sizes' test (!integration), checked on its own.
.PHONY: lint
lint: tools ## gofmt, go vet and staticcheck (every file: with the integration and faults tags, and the one file without), sam validate --lint, cfn-lint with informational rules (.cfnlintrc), SAM's route discovery against the OpenAPI document, the deploy role test's resource list current, the LocalStack compatibility check, actionlint
	@unformatted=$$(find . -name '*.go' -not -path './.*' -exec gofmt -l {} +); \
	  test -z "$$unformatted" || { echo "gofmt needed:"; echo "$$unformatted"; exit 1; }
	go vet -tags 'integration faults' ./...
	go vet ./bench/sizes/
	$(LOCAL_BIN)/staticcheck-$(STATICCHECK_VERSION) -tags 'integration faults' ./...
	$(LOCAL_BIN)/staticcheck-$(STATICCHECK_VERSION) ./bench/sizes/
	SAM_CLI_TELEMETRY=0 $(SAM) validate --lint
	$(CFN_LINT)
	SAM_CLI_TELEMETRY=0 .local/venv/sam/bin/python localstack/sam_routes.py template.yaml api/openapi.yaml
	SAM_CLI_TELEMETRY=0 .local/venv/sam/bin/python localstack/stack_resources.py internal/contract/testdata/stack-resources.json --check
	./localstack/compat.sh
	$(LOCAL_BIN)/actionlint-$(ACTIONLINT_VERSION)

.PHONY: compat
compat: ## the LocalStack compatibility check alone (part of make lint): what the deployed code and template need, against LocalStack's free edition
	@./localstack/compat.sh

.PHONY: unit
unit: ## unit tests (no cloud needed)
	go test -race -count=1 ./...

# The scripts name the command to run again in their hints
# ("use another port: EMULATOR_PORT=4567 make dev"): the goal's own name,
# also in its prerequisites' recipes (deploy's aws-target).
$(foreach goal,dev test faults schemathesis-long sam-local bench try doctor deploy smoke delete staff,$(eval $(goal): export MAKE_GOAL := $(goal)))

.PHONY: doctor
doctor: ## check what make dev and make test need (Go, Python 3.11+ with venv, a C compiler, make, curl, git, the emulator's port, disk), each with its remedy
	@./localstack/doctor.sh

.PHONY: dev
dev: ## run the whole system on the local cloud (EMULATOR_PORT, default 4566) and print the API URL
	@./localstack/doctor.sh dev
	@./localstack/up.sh
	@url=$$(./localstack/deploy.sh) && port=$${EMULATOR_PORT:-4566} && \
	  on=$$([ "$$port" = 4566 ] || echo "EMULATOR_PORT=$$port ") && \
	  printf '\nAPI: %s\n  try: %smake try   (or curl %s/v1/health)\n  stop: %smake down\n' "$$url" "$$on" "$$url" "$$on"

.PHONY: try
try: ## walk through the API on the running local cloud: register, verify from the mailbox, log in, order, show the emails
	@./localstack/try.sh

.PHONY: sam-local
sam-local: tools ## run the API with sam local start-api on port 3000 (needs Docker; starts its own local cloud)
	@docker info >/dev/null 2>&1 || { echo "sam local start-api runs functions in Docker containers; start Docker first"; exit 1; }
	@./localstack/sam-local.sh

# Without EMULATOR_PORT: every local cloud of this checkout (but those a
# running make test or make bench started and will stop).
.PHONY: down
down: ## stop the local clouds of this checkout (EMULATOR_PORT=<port>: only that one)
	@$(if $(filter undefined,$(origin EMULATOR_PORT)),DOWN_ALL=1 )./localstack/down.sh

# The doctor runs first, so that what would fail after minutes of lint
# (no C compiler, a port held by another process) fails at once; it says
# which port the tests' own local cloud will use.
.PHONY: test
test: ## doctor, lint, unit tests, then integration and end-to-end tests on a fresh local cloud of their own
	@./localstack/doctor.sh test
	@$(MAKE) --no-print-directory lint unit
	@./localstack/test.sh

# How long `make fuzz` runs each fuzz target, and with how many workers
# (go test -parallel). `make unit` runs every target's seeds.
FUZZTIME ?= 20s
FUZZPARALLEL ?= 1

.PHONY: fuzz
fuzz: ## run every fuzz target (func Fuzz* in *_test.go) for FUZZTIME each (default 20s), then list the inputs each tried
	@./scripts/fuzz.sh $(FUZZTIME) $(FUZZPARALLEL)

.PHONY: schemathesis-long
schemathesis-long: tools ## long Schemathesis campaign on a fresh local cloud (SCHEMATHESIS_MAX_TIME s, default 600); prints the requests it sent
	@./localstack/schemathesis-long.sh

.PHONY: faults
faults: ## fault campaign on a fresh local cloud: orders under >= 1,000 seeded faults, then a checked account (FAULT_SEED, FAULT_DURATION=10m, FAULT_OUTAGE=4m; docs/faults.md)
	@./localstack/faults.sh

# BENCH_RUNS cold starts of every function per mode; BENCH_BEFORE is the
# commit measured as "before" (empty: none). The AWS calls per route are
# measured on a local cloud the bench starts and stops on EMULATOR_PORT.
# See docs/performance.md.
BENCH_RUNS ?= 40
BENCH_BEFORE ?= fb8e7b2

.PHONY: bench
bench: ## measure sizes, cold starts, invokes, AWS calls per route (local cloud on EMULATOR_PORT), go test -bench and cost, before and after, and write bench/REPORT.md
	BENCH_BEFORE=$(BENCH_BEFORE) go run ./bench/report -runs $(BENCH_RUNS) -out bench/REPORT.md

# The capacity model of one environment of samconfig.toml (default prod,
# whatever ENV is for the other targets): every route's AWS calls, every
# limit and the total rate at which it binds, labelled template, design or
# AWS quota, and the cost per million requests (docs/capacity.md).
# go test ./internal/capacity (part of make unit) fails when a template or
# design ceiling of prod is below 10,000 requests a second.
CAPACITY_ENV = $(if $(filter command line environment environment override,$(origin ENV)),$(ENV),prod)

.PHONY: capacity
capacity: ## print the capacity model of ENV (default prod): ceilings in the order they bind, labelled template, design or AWS quota (docs/capacity.md)
	@go run ./bench/capacity -env $(CAPACITY_ENV)

# What deploying needs and nothing more: the pinned SAM CLI (no emulator,
# no linters), so the workflow's deploy jobs install only this.
.PHONY: sam-cli
sam-cli: ## install only the pinned SAM CLI into .local/venv/sam
	@./localstack/install.sh sam

# What deploy, smoke and delete check before installing anything: ENV is an
# AWS environment of samconfig.toml, and no AWS_ENDPOINT_URL points at a
# local emulator (scripts/aws-target.sh). Then the SAM CLI.
.PHONY: aws-target
aws-target:
	@./scripts/aws-target.sh "$(ENV)"
	@./localstack/install.sh sam

.PHONY: deploy
deploy: aws-target ## sam build and sam deploy with samconfig.toml's ENV (dev, staging or prod); needs AWS credentials
	@.local/venv/sam/bin/python scripts/samconfig.py $(ENV) check
	SAM_CLI_TELEMETRY=0 ARCH=arm64 $(SAM) build --config-env $(ENV)
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --config-env $(ENV) $(SAM_DEPLOY_FLAGS)

.PHONY: smoke
smoke: aws-target ## smoke-test ENV's deployed stack: health, JWKS, one authorized call (scripts/smoke.sh)
	@url=$$(SAM_CLI_TELEMETRY=0 $(SAM) list stack-outputs --config-env $(ENV) --output json | \
	  python3 -c 'import json,sys; print(next(o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == "ApiUrl"))') && \
	  ./scripts/smoke.sh "$$url"

.PHONY: delete
delete: aws-target ## delete ENV's stack (asks first); prod keeps its tables, keys, secret and queues (docs/operations.md)
	@if [ "$(ENV)" = prod ]; then echo "prod: the tables, KMS keys, secret and queues are retained (DeletionPolicy Retain) and keep costing; docs/operations.md, Clean up"; fi
	SAM_CLI_TELEMETRY=0 $(SAM) delete --config-env $(ENV)

# An operator's action, never the API's, on the stack ENV names; ENV has no
# default here (not make's dev): the command line or the environment must
# name it. scripts/staff.sh finds the stack and runs cmd/staff.
STAFF_ENV = $(if $(filter command line environment environment override,$(origin ENV)),$(ENV),)

.PHONY: staff
staff: ## make the verified account EMAIL staff on ENV's stack (local, dev, staging, prod), or a customer again with ROLE=customer; ends its sessions (docs/operations.md, Staff)
	@./scripts/staff.sh "$(STAFF_ENV)" "$(EMAIL)" "$(ROLE)"

.PHONY: staff-queues
staff-queues: ## once, after upgrading to the version with staff's order queues: put the orders written before on them, without mailing anyone (docs/operations.md, Staff)
	@./scripts/staff.sh "$(STAFF_ENV)" --queues

.PHONY: clean
clean: ## remove build output (keeps .local/)
	rm -rf build .aws-sam
