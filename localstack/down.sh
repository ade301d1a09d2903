#!/usr/bin/env bash
# Stops the local cloud of this checkout on EMULATOR_PORT, with every Lambda
# process it ran. With DOWN_ALL=1 (make down without EMULATOR_PORT), stops
# every local cloud of this checkout, except one whose starter still runs
# (make test, make bench, which stop theirs when done): it says which.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# stop_pid PIDFILE stops the process group the pid file names: proc.py
# started the emulator as a group leader, so the bootstraps it spawned
# stop too.
stop_pid() {
  local pid
  pid="$(cat "$1")"
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do
    kill -0 -- "-$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
}

# stop PORT stops the local cloud of this checkout on PORT and forgets it
# (its logs stay in .local/state/PORT/).
stop() {
  local port=$1 dir="$STATE_ROOT/$1"
  if [[ "$(cat "$dir/cloud" 2>/dev/null)" == localstack ]]; then
    EMULATOR_PORT="$port" docker compose -p "$(compose_project "$port")" -f "$ROOT/localstack/docker-compose.yml" down
  else
    stop_pid "$dir/emulator.pid"
  fi
  rm -f "$dir/emulator.pid" "$dir/api-url" "$dir/outputs.json" "$dir/bind-host" "$dir/cloud" "$dir/owner"
  log "local cloud on port $port stopped"
}

if [[ "${DOWN_ALL:-}" != 1 ]]; then
  if ours; then
    stop "$EMULATOR_PORT"
    exit 0
  fi
  rm -f "$STATE_DIR/emulator.pid" "$STATE_DIR/api-url" "$STATE_DIR/outputs.json" "$STATE_DIR/bind-host" "$STATE_DIR/cloud" "$STATE_DIR/owner" 2>/dev/null || true
  if ! port_free; then
    log "no local cloud of this checkout on port $EMULATOR_PORT; another process holds the port: left alone"
  else
    log "no local cloud of this checkout on port $EMULATOR_PORT"
  fi
  others="$(running_ports | tr '\n' ' ')"
  if [[ -n "$others" ]]; then
    log "running on: ${others% } (make down stops them all)"
  fi
  exit 0
fi

stopped=0 left=0
for port in $(running_ports); do
  if by="$(starter "$port")"; then
    log "port $port: left running: its starter still runs ($by; make test and make bench stop theirs when done); EMULATOR_PORT=$port make down stops it now"
    left=$((left + 1))
    continue
  fi
  stop "$port"
  stopped=$((stopped + 1))
done
# A cloud started before the state was kept per port.
legacy="$STATE_ROOT/emulator.pid"
if [[ -f "$legacy" ]]; then
  if [[ "$(ps -p "$(cat "$legacy")" -o args= 2>/dev/null)" == *ministack* ]]; then
    stop_pid "$legacy"
    log "local cloud started before the state was kept per port stopped"
    stopped=$((stopped + 1))
  fi
  rm -f "$legacy" "$STATE_ROOT/api-url" "$STATE_ROOT/outputs.json" "$STATE_ROOT/bind-host"
fi
if ((stopped + left == 0)); then
  log "no local cloud of this checkout is running"
  if ! port_free; then
    log "port $EMULATOR_PORT is held by another process, not a local cloud of this checkout: left alone"
  fi
fi
