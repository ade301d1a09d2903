# Sourced by the local cloud scripts: paths, the emulator choice, and an AWS
# environment that points every SDK and CLI at the emulator, never at AWS.
# Only the scripts source it: in your own shell, its AWS_ENDPOINT_URL and
# test credentials would stay and send every later AWS command there too
# (make deploy refuses to run with it: scripts/aws-target.sh). The tests
# find the local cloud by EMULATOR_PORT alone (internal/testcloud).
# shellcheck shell=bash disable=SC2034 # variables for the scripts that source it

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL_DIR="$ROOT/.local"            # git-ignored: tools, venvs, state
STATE_ROOT="$LOCAL_DIR/state"       # .local/state/<port>/: one local cloud each
VENV_DIR="$LOCAL_DIR/venv"
COMPAT_VENV="$LOCAL_DIR/localstack-compat" # LocalStack's source, for compat.sh
LOCAL_CLOUD="${LOCAL_CLOUD:-ministack}" # ministack (no Docker) or localstack (Docker)
EMULATOR_BIND_HOST="${EMULATOR_BIND_HOST:-127.0.0.1}" # where it listens; only sam-local widens it
STACK_NAME="${STACK_NAME:-serverless-shop-local}"
ARTIFACT_BUCKET="${STACK_NAME}-artifacts"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
export SAM_CLI_TELEMETRY=0

case "$LOCAL_CLOUD" in
  ministack | localstack) ;;
  *) echo "LOCAL_CLOUD must be ministack or localstack, not '$LOCAL_CLOUD'" >&2; exit 2 ;;
esac

# use_port PORT points everything at the local cloud on PORT: its endpoint
# and its state directory, .local/state/PORT/, which holds what the scripts
# know of it (emulator.pid, api-url, outputs.json, its logs). Each port has
# its own, so clouds on two ports (make dev beside make test or make bench)
# never touch each other's. EMULATOR_PORT is exported for the tests, which
# read the state of that port (internal/testcloud).
use_port() {
  case "$1" in
    '' | *[!0-9]*) echo "EMULATOR_PORT must be a port number, not '$1'" >&2; exit 2 ;;
  esac
  EMULATOR_PORT="$1"
  STATE_DIR="$STATE_ROOT/$EMULATOR_PORT"
  ENDPOINT="http://127.0.0.1:${EMULATOR_PORT}"
  export EMULATOR_PORT AWS_ENDPOINT_URL="$ENDPOINT"
  # LAMBDA_ENDPOINT is where the deployed functions reach the local cloud:
  # MiniStack runs them as processes of this machine, LocalStack in
  # containers on its own network, where its host name resolves to it (on
  # the container's port, 4566, whatever port the host maps to it).
  case "$LOCAL_CLOUD" in
    ministack) LAMBDA_ENDPOINT="$ENDPOINT" ;;
    localstack) LAMBDA_ENDPOINT="http://localhost.localstack.cloud:4566" ;;
  esac
}
use_port "${EMULATOR_PORT:-4566}"

# healthy succeeds when the local cloud answers its health check.
healthy() { python3 "$ROOT/localstack/proc.py" healthy "$ENDPOINT/_localstack/health"; }

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# compose_project names LocalStack's docker compose project after the port,
# so that two ports are two containers.
compose_project() { echo "serverless-shop-${1:-$EMULATOR_PORT}"; }

# ours [PORT] succeeds when a local cloud this checkout started runs (or is
# starting) on PORT (default EMULATOR_PORT): MiniStack's pid file names a
# live MiniStack process; LocalStack's compose project has a container.
ours() {
  local port="${1:-$EMULATOR_PORT}" dir pid
  dir="$STATE_ROOT/$port"
  if [[ "$(cat "$dir/cloud" 2>/dev/null)" == localstack ]]; then
    [[ -n "$(docker compose -p "$(compose_project "$port")" ps -q 2>/dev/null)" ]]
    return
  fi
  pid="$(cat "$dir/emulator.pid" 2>/dev/null)" || return 1
  [[ "$(ps -p "$pid" -o args= 2>/dev/null)" == *ministack* ]]
}

# starter PORT prints the command that started the local cloud on PORT
# (up.sh wrote its pid and command line) while it still runs.
starter() {
  local pid args
  { read -r pid && read -r args; } <"$STATE_ROOT/$1/owner" 2>/dev/null || return 1
  [[ -n "$args" && "$(ps -p "$pid" -o args= 2>/dev/null)" == "$args" ]] || return 1
  echo "$args (pid $pid)"
}

# port_free [PORT] succeeds when nothing listens on PORT.
port_free() { python3 "$ROOT/localstack/proc.py" port-free "$EMULATOR_BIND_HOST" "${1:-$EMULATOR_PORT}"; }

# running_ports lists the ports of every local cloud this checkout runs.
running_ports() {
  local dir port
  for dir in "$STATE_ROOT"/[0-9]*/; do
    [[ -d "$dir" ]] || continue
    port="$(basename "$dir")"
    if ours "$port"; then echo "$port"; fi
  done
}

# next_free_port PORT prints the first port after PORT that is free and
# that no cloud of this checkout is starting on.
next_free_port() {
  local p="$1"
  for _ in $(seq 1 50); do
    p=$((p + 1))
    if ! ours "$p" && port_free "$p"; then
      echo "$p"
      return 0
    fi
  done
  echo "no free port among the 50 after $1" >&2
  return 1
}

# command_hint is how the user ran what is running now: make's goal, or
# this script.
command_hint() {
  if [[ -n "${MAKE_GOAL:-}" ]]; then echo "make $MAKE_GOAL"; else echo "localstack/$(basename "$0")"; fi
}

# port_held fails with the one line that names EMULATOR_PORT, when PORT is
# held by a process that is not a local cloud of this checkout.
port_held() {
  local hint legacy=""
  hint="$(next_free_port "$EMULATOR_PORT" 2>/dev/null || echo 4567)"
  # A cloud started before the state was kept per port has its pid file in
  # .local/state/ itself: make down stops it.
  if [[ "$(ps -p "$(cat "$STATE_ROOT/emulator.pid" 2>/dev/null)" -o args= 2>/dev/null)" == *ministack* ]]; then
    legacy=" (or make down: a local cloud this checkout started before it kept its state per port still runs)"
  fi
  echo "port $EMULATOR_PORT is in use by another process, not a local cloud of this checkout (a LocalStack? another checkout's?); use another port: EMULATOR_PORT=$hint $(command_hint)$legacy" >&2
  exit 2
}

# fresh_port WHAT moves to a port of its own when a local cloud of this
# checkout (make dev's, say) runs on EMULATOR_PORT, for WHAT (make test,
# make faults): a script that starts a fresh cloud and stops it when done,
# and leaves the running one alone. A port held by another process is an
# error.
fresh_port() {
  if ours; then
    local was="$EMULATOR_PORT" port
    port="$(next_free_port "$was")" || exit 2
    log "a local cloud of this checkout runs on port $was (make dev's?); $1 starts its own on $port and leaves that one running"
    use_port "$port"
  elif ! port_free; then
    port_held
  fi
}

# host_arch prints the Lambda architecture matching this machine, so the
# emulator can run the bootstraps natively.
host_arch() {
  if ! command -v go >/dev/null; then
    echo "Go is not installed (make doctor says what the local cloud needs)" >&2
    return 1
  fi
  case "$(go env GOARCH)" in
    amd64) echo x86_64 ;;
    arm64) echo arm64 ;;
    *) echo "unsupported host architecture $(go env GOARCH)" >&2; return 1 ;;
  esac
}
