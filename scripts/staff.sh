#!/usr/bin/env bash
# What make staff runs: make an account staff, or a customer again, on one
# environment's stack. An operator's action, never the API's
# (docs/operations.md, Staff).
#
#   scripts/staff.sh ENV EMAIL [ROLE]      ROLE: staff (default) or customer
#   scripts/staff.sh ENV --queues          put the orders written before
#                                          staff's queues existed on them
#
# ENV local is the local cloud of this checkout on EMULATOR_PORT (default
# 4566), with its test credentials (localstack/env.sh). dev, staging and
# prod are samconfig.toml's stacks, in the region it names, with the
# caller's AWS credentials; like make deploy, it refuses an
# AWS_ENDPOINT_URL that points at a local emulator (scripts/aws-target.sh).
# cmd/staff reads the stack's outputs and changes the account.
set -euo pipefail
env="${1:-}"
email="${2:-}"
role="${3:-staff}"
root="$(cd "$(dirname "$0")/.." && pwd)"

if [[ -z "$env" ]]; then
  echo "ENV is required (no default: an operator names the stack): make staff ENV=<local|dev|staging|prod> EMAIL=<address> [ROLE=customer], or make staff-queues ENV=<...>" >&2
  exit 2
fi
if [[ -z "$email" ]]; then
  echo "EMAIL is required: make staff ENV=$env EMAIL=<the account's address> [ROLE=customer]" >&2
  exit 2
fi
args=(-email "$email" -role "$role")
if [[ "$email" == --queues ]]; then
  args=(-queues)
fi
case "$role" in
  staff | customer) ;;
  *) echo "ROLE must be staff or customer, not '$role'" >&2; exit 2 ;;
esac

if [[ "$env" == local ]]; then
  source "$root/localstack/env.sh"
  if ! ours; then
    echo "no local cloud of this checkout runs on port $EMULATOR_PORT: EMULATOR_PORT=$EMULATOR_PORT make dev starts one" >&2
    exit 1
  fi
  stack="$STACK_NAME"
else
  "$root/scripts/aws-target.sh" "$env"
  py="$root/.local/venv/sam/bin/python" # samconfig.py needs Python 3.11 (tomllib), as make deploy's
  [[ -x "$py" ]] || py="${PYTHON:-python3}"
  stack="$("$py" "$root/scripts/samconfig.py" "$env" stack_name)"
  AWS_REGION="$("$py" "$root/scripts/samconfig.py" "$env" region)"
  export AWS_REGION
fi
# Built apart from running (not go run), so that its exit code and its
# message are all a refusal shows.
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
(cd "$root" && go build -o "$dir/staff" ./cmd/staff)
"$dir/staff" -stack "$stack" "${args[@]}"
