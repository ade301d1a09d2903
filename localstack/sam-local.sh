#!/usr/bin/env bash
# sam local start-api against a local cloud: the functions run in Docker
# containers, reach the local cloud on the host as host.docker.internal
# (mapped on Linux with --add-host) on EMULATOR_PORT, and use the tables,
# queue and keys of a stack deployed there, with the local environment's
# parameters (params.sh). The local cloud then listens on every interface of
# this machine so that containers reach it: only while sam-local runs.
#
#   sam-local.sh           start it (make sam-local)
#   sam-local.sh --print   print the two commands it would run, one argument
#                          a line, a blank line after each, and do nothing
#                          else (internal/contract checks them; no Docker)
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/localstack/params.sh"

container_endpoint="http://host.docker.internal:$EMULATOR_PORT"
env_file="$STATE_DIR/sam-local-env.json"
env_cmd=("$VENV_DIR/sam/bin/python" "$ROOT/localstack/stack.py" sam-local-env "$STACK_NAME" "$container_endpoint")
params="$(local_params "$container_endpoint")"
sam_cmd=("$VENV_DIR/sam/bin/sam" local start-api --config-env local
  --env-vars "$env_file"
  --parameter-overrides "$params"
  --add-host host.docker.internal:host-gateway
  --port "${SAM_LOCAL_PORT:-3000}" --host 127.0.0.1)
if [[ "${1:-}" == --print ]]; then
  printf '%s\n' "${env_cmd[@]}" ""
  printf '%s\n' "${sam_cmd[@]}" ""
  exit 0
fi

if ours; then
  if [[ "$(cat "$STATE_DIR/bind-host" 2>/dev/null)" != "0.0.0.0" ]]; then
    echo "a local cloud is running on $ENDPOINT for this machine only; stop it (EMULATOR_PORT=$EMULATOR_PORT make down) and run make sam-local again" >&2
    exit 1
  fi
fi
EMULATOR_BIND_HOST=0.0.0.0 "$ROOT/localstack/up.sh"
"$ROOT/localstack/deploy.sh" >/dev/null
"${env_cmd[@]}" >"$env_file"
log "sam local start-api on http://127.0.0.1:${SAM_LOCAL_PORT:-3000} (the routes are under /v1; stop with Ctrl-C, then make down)"
cd "$ROOT"
exec "${sam_cmd[@]}"
