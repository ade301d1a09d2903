#!/usr/bin/env bash
# The offline LocalStack compatibility check (make lint; docs/local-cloud.md,
# The LocalStack compatibility check): every AWS API operation the deployed
# code calls and every resource type the stack deploys on LocalStack is
# checked against what the free edition, localstack-core 4.14.0, serves.
# Fails on a gap that localstack/compat-deviations.yaml does not list with
# how it is handled. Needs neither Docker nor LocalStack.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$ROOT/localstack/install.sh" sam compat
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$ROOT"
# The operations, from the code (internal/sdkcalls).
go run ./internal/sdkcalls >"$work/ops.json"
# The template as CloudFormation receives it from a LocalStack deploy: the
# same parameters (params.sh), for an x86_64 host.
params="$(LOCAL_CLOUD=localstack bash -c 'source localstack/env.sh && source localstack/params.sh && local_params "$LAMBDA_ENDPOINT" x86_64')"
# shellcheck disable=SC2086 # one word per parameter
"$VENV_DIR/sam/bin/python" localstack/transform.py template.yaml $params >"$work/template.json"
# shellcheck disable=SC2086
"$COMPAT_VENV/bin/python" localstack/compat.py "$work/ops.json" "$work/template.json" localstack/compat-deviations.yaml $params
