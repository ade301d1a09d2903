#!/usr/bin/env bash
# Integration and end-to-end tests on a fresh local cloud: start it, deploy
# the real template, run every test tagged "integration", then the bounded
# fault campaign on it and, on a second fresh cloud started while the
# campaign drains, the launch-day checks; stop both whatever happens. Run
# through `make test`.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# A fresh local cloud of its own: on another port if one of this checkout
# (make dev's) runs on EMULATOR_PORT, which it leaves alone.
fresh_port "make test"
main_port="$EMULATOR_PORT" launch_port="" campaign=""
cleanup() {
  if [[ -n "$campaign" ]]; then kill -TERM -- "-$campaign" 2>/dev/null || true; fi
  if [[ -n "$launch_port" ]]; then EMULATOR_PORT="$launch_port" "$ROOT/localstack/down.sh"; fi
  EMULATOR_PORT="$main_port" "$ROOT/localstack/down.sh"
}
trap cleanup EXIT
"$ROOT/localstack/up.sh"
url="$("$ROOT/localstack/deploy.sh")"
log "stack deployed; API at $url"
log "smoke test (what every deploy to AWS runs afterwards)"
"$ROOT/scripts/smoke.sh" "$url"
log "running integration and end-to-end tests"
cd "$ROOT"
if [[ -n "${TEST_RUN:-}" ]]; then
  LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -p 2 -timeout 15m -run "$TEST_RUN" ./... 2>&1 | tee "$STATE_DIR/test.log"
  exit
fi
LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -p 2 -timeout 15m -skip '^(TestLaunchDay|TestStaffQueue)' ./... 2>&1 | tee "$STATE_DIR/test.log"

# The launch-day checks (docs/testing.md), after the other tests, so that
# their load meets none of theirs: TestLaunchDay (e2e: 200 people behind
# one address, 600 orders' mail paced to SES, a flood from one address,
# replayed logouts, a user's revocation budget) and, beside it, the
# revocation list at 50,000 entries (functions/users/api), which waits for
# the quiet end of TestLaunchDay (LAUNCHDAY_QUIET); then staff's queue of
# 250 orders (TestStaffQueue*).
launch_day() {
  local started=$SECONDS rc=0
  log "running the launch-day checks on the local cloud on port $EMULATOR_PORT"
  rm -f "$STATE_DIR/launchday-quiet"
  LAUNCHDAY_QUIET="$STATE_DIR/launchday-quiet" LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -p 2 -timeout 10m -run '^TestLaunchDay' ./e2e/ ./functions/users/api/ 2>&1 | tee -a "$STATE_DIR/test.log" || rc=$?
  # Then staff's queue of 250 orders: their 500 emails, paced to SES's
  # rate, would hold up the other tests' mail by a minute.
  LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -timeout 5m -run '^TestStaffQueue' ./e2e/ 2>&1 | tee -a "$STATE_DIR/test.log" || rc=$?
  log "launch-day checks took $((SECONDS - started)) s"
  return "$rc"
}

# The bounded fault campaign (docs/faults.md) runs on this cloud, after the
# other tests so that its faults meet none of theirs: at least 1,000
# faults, short outages. MiniStack only: the faults happen at a proxy on
# this machine's loopback, which the functions reach because MiniStack runs
# them as processes here; LocalStack runs them in containers, whose
# 127.0.0.1 is their own (testcloud.FunctionsReachHostLoopback).
if [[ "$LOCAL_CLOUD" == localstack ]]; then
  log "fault campaign skipped: it runs on MiniStack only (its proxy listens on this machine's loopback, which LocalStack's Lambda containers cannot reach; docs/faults.md)"
  launch_day
  exit
fi
log "bounded fault campaign on port $main_port (its output: .local/state/$main_port/faults.log, printed when it ends)"
draining="$STATE_DIR/faults-draining"
rm -f "$draining"
started=$SECONDS
set -m # the campaign in a process group of its own, which cleanup can stop
FAULT_DRAINING="$draining" FAULT_DUPLICATES="${FAULT_DUPLICATES:-25}" \
  "$ROOT/localstack/campaign.sh" "${FAULT_DURATION:-60s}" "${FAULT_OUTAGE:-20s}" "${FAULT_DRAIN:-5m}" 15m >/dev/null 2>&1 &
campaign=$!
set +m
# Once its traffic has stopped, the campaign only waits, for the retries'
# backoff and the paced mail: the launch-day checks run meanwhile, on a
# fresh local cloud of their own, so that neither meets the other's load
# or metrics.
while [[ ! -e "$draining" ]] && kill -0 "$campaign" 2>/dev/null; do sleep 1; done
log "fault campaign draining after $((SECONDS - started)) s; a second local cloud for the launch-day checks"
use_port "$(next_free_port "$main_port")"
launch_port="$EMULATOR_PORT"
"$ROOT/localstack/up.sh"
"$ROOT/localstack/deploy.sh" >/dev/null
status=0
launch_day || status=$?
wait "$campaign" || status=$?
campaign=""
cat "$STATE_ROOT/$main_port/faults.log"
log "bounded fault campaign took $((SECONDS - started)) s"
exit "$status"
