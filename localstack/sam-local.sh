#!/usr/bin/env bash
# sam local start-api against a local cloud: the functions run in Docker
# containers, reach the local cloud on the host as host.docker.internal
# (mapped on Linux with --add-host), and use the tables, queue and keys of a
# stack deployed there. The local cloud then listens on every interface of
# this machine so that containers reach it: only while sam-local runs.
set -euo pipefail
source "$(dirname "$0")/env.sh"

if healthy; then
  if [[ "$(cat "$STATE_DIR/bind-host" 2>/dev/null)" != "0.0.0.0" ]]; then
    echo "a local cloud is running on $ENDPOINT for this machine only; stop it (make down) and run make sam-local again" >&2
    exit 1
  fi
else
  EMULATOR_BIND_HOST=0.0.0.0 "$ROOT/localstack/up.sh"
fi
"$ROOT/localstack/deploy.sh" >/dev/null
py="$VENV_DIR/sam/bin/python"
"$py" "$ROOT/localstack/stack.py" sam-local-env "$STACK_NAME" >"$STATE_DIR/sam-local-env.json"
log "sam local start-api on http://127.0.0.1:3000 (the routes are under /v1; stop with Ctrl-C, then make down)"
cd "$ROOT"
exec "$VENV_DIR/sam/bin/sam" local start-api --config-env local \
  --env-vars "$STATE_DIR/sam-local-env.json" \
  --parameter-overrides "Architecture=$(host_arch)" \
  --add-host host.docker.internal:host-gateway \
  --port 3000 --host 127.0.0.1
