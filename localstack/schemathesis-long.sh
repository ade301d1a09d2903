#!/usr/bin/env bash
# The long Schemathesis campaign (make schemathesis-long): start a fresh
# local cloud, deploy the stack, run TestSchemathesis with a large budget,
# print how many requests it sent, and stop the cloud whatever happens.
#
#   SCHEMATHESIS_MAX_TIME      seconds of testing (default 600); fuzzing and
#                              stateful testing repeat until they are spent
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 100)
#   SCHEMATHESIS_WORKERS       concurrent workers (default 2)
#   SCHEMATHESIS_SEED          repeat an earlier campaign's generation
set -euo pipefail
source "$(dirname "$0")/env.sh"

max_time="${SCHEMATHESIS_MAX_TIME:-600}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
# A fresh local cloud of its own: on another port if one of this checkout
# (make dev's) runs on EMULATOR_PORT, which it leaves alone.
fresh_port "make schemathesis-long"
trap '"$ROOT/localstack/down.sh"' EXIT
"$ROOT/localstack/up.sh"
# One access token serves the whole campaign: it must outlive it. The
# per-customer order quota is lifted so that orders keep being placed, and
# the operations on them (get, cancel, reorder) keep meeting real ones.
url="$(ACCESS_TOKEN_TTL="$((max_time / 60 + 15))m" ORDERS_PER_HOUR=1000000 "$ROOT/localstack/deploy.sh")"
log "stack deployed; API at $url"
log "Schemathesis: ${max_time} s, ${max_examples} examples per operation and phase"
cd "$ROOT"
log_file="$STATE_DIR/schemathesis-long.log"
status=0
LOCAL_CLOUD="$LOCAL_CLOUD" SCHEMATHESIS_MAX_TIME="$max_time" SCHEMATHESIS_MAX_EXAMPLES="$max_examples" \
  go test -tags integration -count=1 -v -run '^TestSchemathesis$' -timeout "$((max_time / 60 + 20))m" ./e2e/ \
  2>&1 | tee "$log_file" || status=$?
# The test counts the requests at its proxy and reads Schemathesis' report.
# One line a run: the customer's and the staff member's.
sent="$(grep -o 'schemathesis sent [0-9]* requests.*' "$log_file" || true)"
echo
if [[ -n "$sent" ]]; then
  while IFS= read -r line; do log "long campaign: ${line#schemathesis }"; done <<<"$sent"
else
  log "long campaign: no request count (see $log_file)"
fi
exit "$status"
