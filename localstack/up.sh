#!/usr/bin/env bash
# Starts the local cloud on 127.0.0.1:$EMULATOR_PORT and waits until it is
# healthy. MiniStack runs as a background process of this machine; LocalStack
# runs in Docker (docker compose). Does nothing if a local cloud of this
# checkout is up on that port already; fails at once, naming EMULATOR_PORT,
# if another process holds the port.
set -euo pipefail
source "$(dirname "$0")/env.sh"

if ours; then
  if healthy; then
    log "local cloud already running on $ENDPOINT"
    exit 0
  fi
  log "a local cloud of this checkout is starting on $ENDPOINT; waiting for it"
else
  if ! port_free; then
    port_held
  fi
  # Left by a cloud that is gone (the pid may be another process's now).
  rm -f "$STATE_DIR/emulator.pid" "$STATE_DIR/api-url" "$STATE_DIR/outputs.json" "$STATE_DIR/bind-host" "$STATE_DIR/cloud" "$STATE_DIR/owner"
  mkdir -p "$STATE_DIR"
  # Who started it (its pid, then its command line): make down leaves a
  # cloud alone while the script that started it (make test, make bench)
  # still runs and will stop it.
  printf '%s\n%s\n' "$PPID" "$(ps -p "$PPID" -o args= 2>/dev/null)" >"$STATE_DIR/owner"
  echo "$LOCAL_CLOUD" >"$STATE_DIR/cloud"
  case "$LOCAL_CLOUD" in
    ministack)
      "$ROOT/localstack/install.sh"
      log "starting MiniStack on $ENDPOINT (log: .local/state/$EMULATOR_PORT/ministack.log)"
      # BIND_HOST keeps it on loopback (sam-local.sh widens it so containers
      # reach it). The Lambda bootstraps it runs reach it through their own
      # AWS_ENDPOINT_URL (the template's LocalEndpoint), as on AWS: MiniStack
      # would override that variable with its own AWS_ENDPOINT_URL, so it does
      # not get one (docs/local-cloud.md; the fault campaign points functions
      # at its proxy this way). The IoT and SFTP listeners are not needed and
      # would open more ports. Its own files (STATE_DIR, S3_DATA_DIR; nothing
      # is persisted) go to this port's state, not to the /tmp directories
      # every MiniStack of the machine would share.
      env -u AWS_ENDPOINT_URL GATEWAY_PORT="$EMULATOR_PORT" BIND_HOST="$EMULATOR_BIND_HOST" \
        IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 LOG_LEVEL="${EMULATOR_LOG_LEVEL:-INFO}" \
        STATE_DIR="$STATE_DIR/ministack" S3_DATA_DIR="$STATE_DIR/ministack/s3" \
        python3 "$ROOT/localstack/proc.py" spawn "$STATE_DIR/emulator.pid" "$STATE_DIR/ministack.log" \
        "$VENV_DIR/ministack/bin/ministack"
      ;;
    localstack)
      log "starting LocalStack with docker compose (project $(compose_project))"
      EMULATOR_BIND_HOST="$EMULATOR_BIND_HOST" EMULATOR_PORT="$EMULATOR_PORT" \
        docker compose -p "$(compose_project)" -f "$ROOT/localstack/docker-compose.yml" up -d
      ;;
  esac
  echo "$EMULATOR_BIND_HOST" >"$STATE_DIR/bind-host"
fi

for _ in $(seq 1 120); do
  if healthy; then
    log "local cloud is healthy"
    exit 0
  fi
  if [[ "$LOCAL_CLOUD" == ministack ]] && ! kill -0 "$(cat "$STATE_DIR/emulator.pid")" 2>/dev/null; then
    echo "MiniStack exited during start-up:" >&2
    tail -n 30 "$STATE_DIR/ministack.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "local cloud did not become healthy on $ENDPOINT within 60 s" >&2
exit 1
