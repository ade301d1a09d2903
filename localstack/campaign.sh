#!/usr/bin/env bash
# Runs the fault campaign (internal/faults, TestFaultCampaign) against the
# stack deployed on the running local cloud and keeps its output in
# .local/state/<port>/faults.log. Arguments: traffic duration, outage length,
# drain deadline, go test timeout. Used by faults.sh (make faults) and,
# bounded, by test.sh (make test).
set -euo pipefail
source "$(dirname "$0")/env.sh"

cd "$ROOT"
log "fault campaign: traffic $1, outages $2, drain deadline $3"
LOCAL_CLOUD="$LOCAL_CLOUD" FAULT_DURATION="$1" FAULT_OUTAGE="$2" FAULT_DRAIN="$3" \
  go test -tags 'integration faults' -count=1 -v -run '^TestFaultCampaign$' -timeout "$4" ./internal/faults/ \
  2>&1 | tee "$STATE_DIR/faults.log"
