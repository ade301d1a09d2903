#!/usr/bin/env bash
# Builds the functions for this machine's architecture with sam build and
# deploys the real template.yaml into the running local cloud with the SAM
# CLI, then writes the stack outputs to .local/state/<port>/outputs.json and
# the API base URL to .local/state/<port>/api-url, and prints the URL.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$ROOT/localstack/params.sh"

if ! ours; then
  echo "no local cloud of this checkout runs on port $EMULATOR_PORT: make dev starts one" >&2
  exit 1
fi
"$ROOT/localstack/install.sh"
arch="$(host_arch)"
mkdir -p "$STATE_DIR"
sam="$VENV_DIR/sam/bin/sam"
py="$VENV_DIR/sam/bin/python"
"$py" "$ROOT/localstack/stack.py" ensure-bucket "$ARTIFACT_BUCKET"

# The same sam build as for AWS, for this machine's architecture, so the
# emulator can run the bootstraps natively, with the local environment's
# parameters (params.sh says what differs from prod, and why).
params="$(local_params "$LAMBDA_ENDPOINT" "$arch")"
# LocalStack's free edition cannot create AWS::SES::EmailIdentity (its
# provider's create is not implemented), so its deploy does not ask for one
# (CreateSenderIdentity=false, params.sh) and the sender is verified
# here, as an operator would before such a deploy.
if [[ "$LOCAL_CLOUD" == localstack ]]; then
  "$py" "$ROOT/localstack/stack.py" verify-sender "${SENDER_EMAIL:-orders@shop.test}" >&2
fi
log "building functions for $arch and deploying template.yaml as stack $STACK_NAME"
(
  cd "$ROOT"
  ARCH="$arch" "$sam" build --config-env local --parameter-overrides "$params" &&
    "$sam" deploy --config-env local \
      --stack-name "$STACK_NAME" --s3-bucket "$ARTIFACT_BUCKET" --parameter-overrides "$params"
) >"$STATE_DIR/deploy.log" 2>&1 || { tail -n 40 "$STATE_DIR/deploy.log" >&2; echo "deploy failed; full log: .local/state/$EMULATOR_PORT/deploy.log" >&2; exit 1; }

# LocalStack's free edition deploys custom resources as placeholders
# (a Pro feature): run them as CloudFormation would and hand their
# attributes to the functions that use them (docs/local-cloud.md,
# localstack/compat-deviations.yaml).
if [[ "$LOCAL_CLOUD" == localstack ]]; then
  "$py" "$ROOT/localstack/stack.py" custom-resources "$STACK_NAME" "$LAMBDA_ENDPOINT" >&2
fi
"$py" "$ROOT/localstack/stack.py" outputs "$STACK_NAME" >"$STATE_DIR/outputs.json"
# The gateway's own answers: MiniStack leaves them out of the imported API
# definition (docs/local-cloud.md). A no-op where the gateway has them.
"$py" "$ROOT/localstack/stack.py" gateway-responses "$STACK_NAME" >&2
# Likewise the ANY methods that answer 405 for the methods a path does not
# have (docs/local-cloud.md).
"$py" "$ROOT/localstack/stack.py" any-methods "$STACK_NAME" >&2
# Both emulators serve a REST API stage by path on the gateway port.
"$py" -c 'import json,sys; o=json.load(open(sys.argv[1])); print(sys.argv[2] + "/_aws/execute-api/" + o["ApiId"] + "/" + o["ApiStage"])' \
  "$STATE_DIR/outputs.json" "$ENDPOINT" >"$STATE_DIR/api-url"
cat "$STATE_DIR/api-url"
