# Sourced by the local cloud scripts: paths, the emulator choice, and an AWS
# environment that points every SDK and CLI at the emulator, never at AWS.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$ROOT/.local"            # git-ignored: tools, venvs, state
STATE_DIR="$LOCAL_DIR/state"
VENV_DIR="$LOCAL_DIR/venv"
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
