#!/usr/bin/env bash
# The fault campaign (make faults, docs/faults.md): start a fresh local
# cloud, deploy the real template, run TestFaultCampaign against it, print
# its account, and stop the cloud whatever happens.
#
#   FAULT_SEED       repeat an earlier campaign's random choices
#   FAULT_DURATION   traffic with faults (default 10m; longer until FAULT_MIN faults)
#   FAULT_OUTAGE     length of the relay outage and of the SES outage (default 4m)
#   FAULT_MIN        faults to inject at least (default 1000)
#   FAULT_DRAIN      deadline of the drain (default 15m)
#   FAULT_WORKERS    concurrent clients (default 4)
set -euo pipefail
source "$(dirname "$0")/env.sh"

if [[ "$LOCAL_CLOUD" == localstack ]]; then
  echo "the fault campaign runs on MiniStack only: its proxy listens on this machine's loopback, which LocalStack's Lambda containers cannot reach (docs/faults.md)" >&2
  exit 2
fi

# A fresh local cloud of its own: on another port if one of this checkout
# (make dev's) runs on EMULATOR_PORT, which it leaves alone.
fresh_port "make faults"
trap '"$ROOT/localstack/down.sh"' EXIT
"$ROOT/localstack/up.sh"
# Tokens outlive the campaign; the order quota is lifted (a few customers
# place every order).
url="$(ACCESS_TOKEN_TTL=120m ORDERS_PER_HOUR=100000 "$ROOT/localstack/deploy.sh")"
log "stack deployed; API at $url"
cd "$ROOT"
"$ROOT/localstack/campaign.sh" "${FAULT_DURATION:-10m}" "${FAULT_OUTAGE:-4m}" "${FAULT_DRAIN:-15m}" 120m
