#!/usr/bin/env bash
# Integration and end-to-end tests on a fresh local cloud: start it, deploy
# the real template, run every test tagged "integration", stop it whatever
# happens. Run through `make test`.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# A fresh local cloud of its own: on another port if one of this checkout
# (make dev's) runs on EMULATOR_PORT, which it leaves alone.
fresh_port "make test"
trap '"$ROOT/localstack/down.sh"' EXIT
"$ROOT/localstack/up.sh"
url="$("$ROOT/localstack/deploy.sh")"
log "stack deployed; API at $url"
log "smoke test (what every deploy to AWS runs afterwards)"
"$ROOT/scripts/smoke.sh" "$url"
log "running integration and end-to-end tests"
cd "$ROOT"
if [[ -n "${TEST_RUN:-}" ]]; then
  LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -p 2 -timeout 15m -run "$TEST_RUN" ./... 2>&1 | tee "$STATE_DIR/test.log"
else
  LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -p 2 -timeout 15m -skip '^TestLaunchDay' ./... 2>&1 | tee "$STATE_DIR/test.log"
  # The launch-day checks (docs/capacity.md), after the other tests, so
  # that their load meets none of theirs: TestLaunchDay (e2e: 200 people
  # behind one address, 600 orders' mail paced to SES, a flood from one
  # address, replayed logouts, a user's revocation budget) and, beside it,
  # the revocation list at 50,000 entries (functions/users/api), which waits
  # for the quiet end of TestLaunchDay (LAUNCHDAY_QUIET).
  started=$SECONDS
  log "running the launch-day checks"
  rm -f "$STATE_DIR/launchday-quiet"
  LAUNCHDAY_QUIET="$STATE_DIR/launchday-quiet" LOCAL_CLOUD="$LOCAL_CLOUD" go test -tags integration -count=1 -p 2 -timeout 10m -run '^TestLaunchDay' ./e2e/ ./functions/users/api/ 2>&1 | tee -a "$STATE_DIR/test.log"
  log "launch-day checks took $((SECONDS - started)) s"
fi
# The bounded fault campaign (docs/faults.md), after the other tests so
# that its faults meet none of theirs: at least 1,000 faults, short outages.
# MiniStack only: the faults happen at a proxy on this machine's loopback,
# which the functions reach because MiniStack runs them as processes here;
# LocalStack runs them in containers, whose 127.0.0.1 is their own
# (testcloud.FunctionsReachHostLoopback).
if [[ -z "${TEST_RUN:-}" && "$LOCAL_CLOUD" == localstack ]]; then
  log "fault campaign skipped: it runs on MiniStack only (its proxy listens on this machine's loopback, which LocalStack's Lambda containers cannot reach; docs/faults.md)"
elif [[ -z "${TEST_RUN:-}" ]]; then
  started=$SECONDS
  FAULT_DUPLICATES="${FAULT_DUPLICATES:-10}" "$ROOT/localstack/campaign.sh" "${FAULT_DURATION:-60s}" "${FAULT_OUTAGE:-20s}" "${FAULT_DRAIN:-5m}" 15m
  log "bounded fault campaign took $((SECONDS - started)) s"
fi
