# Sourced by the local cloud scripts: paths, the emulator choice, and an AWS
# environment that points every SDK and CLI at the emulator, never at AWS.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$ROOT/.local"            # git-ignored: tools, venvs, state
STATE_DIR="$LOCAL_DIR/state"
VENV_DIR="$LOCAL_DIR/venv"
COMPAT_VENV="$LOCAL_DIR/localstack-compat" # LocalStack's source, for compat.sh
LOCAL_CLOUD="${LOCAL_CLOUD:-ministack}" # ministack (no Docker) or localstack (Docker)
EMULATOR_PORT="${EMULATOR_PORT:-4566}"
EMULATOR_BIND_HOST="${EMULATOR_BIND_HOST:-127.0.0.1}" # where it listens; only sam-local widens it
ENDPOINT="http://127.0.0.1:${EMULATOR_PORT}"
STACK_NAME="${STACK_NAME:-serverless-shop-local}"
ARTIFACT_BUCKET="${STACK_NAME}-artifacts"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL="$ENDPOINT"
unset AWS_PROFILE AWS_SESSION_TOKEN
export SAM_CLI_TELEMETRY=0

mkdir -p "$STATE_DIR"

# LAMBDA_ENDPOINT is where the deployed functions reach the local cloud:
# MiniStack runs them as processes of this machine, LocalStack in containers
# on its own network, where its host name resolves to it.
case "$LOCAL_CLOUD" in
  ministack) LAMBDA_ENDPOINT="$ENDPOINT" ;;
  localstack) LAMBDA_ENDPOINT="http://localhost.localstack.cloud:4566" ;;
  *) echo "LOCAL_CLOUD must be ministack or localstack, not '$LOCAL_CLOUD'" >&2; exit 2 ;;
esac

# deploy_params prints the template parameters of a local deploy for the
# Lambda architecture $1, on LOCAL_CLOUD: deploy.sh deploys with them, and
# the LocalStack compatibility check (compat.sh) evaluates the template's
# conditions with them. The local cloud runs production's limits: the
# local API takes the caller's address from the first X-Forwarded-For hop,
# so each simulated client of the tests sends its own. What differs from
# prod, and why:
#   Environment=local  no WAF (emulators have none), no X-Ray rule.
#   LocalCloud         which emulator: LocalStack's free edition lacks a few
#                      resource types (the template's NotLocalStack).
#   Source*, LoginAttemptsPerSource, CreateSenderIdentity  on LocalStack
#                      only (below).
#   OrdersPerHour=20   lowered so the order quota's test reaches it.
#   SesMaxSendRate=10  below the 14 the emulators' SES reports, because the
#                      launch-day test (e2e/launchday_test.go)
#                      checks from the mailbox's timestamps that no second
#                      carries more than 10 emails; NotificationConcurrency
#                      is the one derived from it (max(2, ceil(10 / 5)),
#                      template.yaml; internal/contract checks it): 5
#                      emails a second each.
# ACCESS_TOKEN_TTL lets a long test campaign (make schemathesis-long) hold
# one access token throughout; ORDERS_PER_HOUR lets it place its orders.
deploy_params() {
  local p="Environment=local LocalCloud=$LOCAL_CLOUD Architecture=$1 LocalEndpoint=$LAMBDA_ENDPOINT"
  p+=" SenderEmail=${SENDER_EMAIL:-orders@shop.test} AuthorizerCacheSeconds=${AUTHORIZER_CACHE_SECONDS:-300}"
  p+=" AccessTokenTTL=${ACCESS_TOKEN_TTL:-15m} OrdersPerHour=${ORDERS_PER_HOUR:-20}"
  p+=" SesMaxSendRate=10 NotificationConcurrency=2"
  if [[ "$LOCAL_CLOUD" == localstack ]]; then
    # LocalStack reports every caller as 127.0.0.1, so production's
    # per-address limits would meet every test's requests at once: lifted
    # there (the tests that check them need testcloud.SourceAddressFromHeader).
    p+=" SourceRequestsPerSecond=1000000 SourceRequestsPerHour=100000000 LoginAttemptsPerSource=100000000"
    # Its AWS::SES::EmailIdentity cannot be created: deploy.sh verifies the
    # sender instead (localstack/compat-deviations.yaml).
    p+=" CreateSenderIdentity=false"
  fi
  echo "$p"
}

# healthy succeeds when the local cloud answers its health check.
healthy() { python3 "$ROOT/localstack/proc.py" healthy "$ENDPOINT/_localstack/health"; }

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# host_arch prints the Lambda architecture matching this machine, so the
# emulator can run the bootstraps natively.
host_arch() {
  case "$(go env GOARCH)" in
    amd64) echo x86_64 ;;
    arm64) echo arm64 ;;
    *) echo "unsupported host architecture $(go env GOARCH)" >&2; return 1 ;;
  esac
}
