#!/usr/bin/env bash
# Stops the local cloud started by up.sh, with every Lambda process it ran.
set -euo pipefail
source "$(dirname "$0")/env.sh"

case "$LOCAL_CLOUD" in
  ministack)
    pidfile="$STATE_DIR/emulator.pid"
    if [[ ! -f "$pidfile" ]]; then
      log "local cloud is not running (no pid file)"
      exit 0
    fi
    pid="$(cat "$pidfile")"
    # proc.py started the emulator as a process group leader: signal the
    # group so the bootstraps it spawned stop too.
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile" "$STATE_DIR/api-url" "$STATE_DIR/outputs.json" "$STATE_DIR/bind-host"
    log "local cloud stopped"
    ;;
  localstack)
    docker compose -f "$ROOT/localstack/docker-compose.yml" down
    rm -f "$STATE_DIR/api-url" "$STATE_DIR/outputs.json" "$STATE_DIR/bind-host"
    ;;
esac
