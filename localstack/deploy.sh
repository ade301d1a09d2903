#!/usr/bin/env bash
# Builds the functions for this machine's architecture and deploys the real
# template.yaml into the running local cloud with the SAM CLI, then writes the
# stack outputs to .local/state/outputs.json and the API base URL to
# .local/state/api-url, and prints the URL.
set -euo pipefail
source "$(dirname "$0")/env.sh"

"$ROOT/localstack/install.sh"
arch="$(host_arch)"
log "building functions for $arch"
make -s -C "$ROOT" build ARCH="$arch" >&2

py="$VENV_DIR/sam/bin/python"
"$py" "$ROOT/localstack/stack.py" ensure-bucket "$ARTIFACT_BUCKET"

log "deploying template.yaml as stack $STACK_NAME"
(
  cd "$ROOT"
  "$VENV_DIR/sam/bin/sam" deploy --config-env local \
    --stack-name "$STACK_NAME" --s3-bucket "$ARTIFACT_BUCKET" \
    --parameter-overrides "Environment=local Architecture=$arch SenderEmail=${SENDER_EMAIL:-orders@example.com} AuthorizerCacheSeconds=${AUTHORIZER_CACHE_SECONDS:-300}" \
    >"$STATE_DIR/deploy.log" 2>&1
) || { tail -n 40 "$STATE_DIR/deploy.log" >&2; echo "deploy failed; full log: .local/state/deploy.log" >&2; exit 1; }

"$py" "$ROOT/localstack/stack.py" outputs "$STACK_NAME" >"$STATE_DIR/outputs.json"
api_id="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["ApiId"])' "$STATE_DIR/outputs.json")"
# Both emulators route HTTP APIs by path on the gateway port.
echo "$ENDPOINT/_aws/execute-api/$api_id" >"$STATE_DIR/api-url"
cat "$STATE_DIR/api-url"
