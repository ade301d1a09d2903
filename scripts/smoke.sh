#!/usr/bin/env bash
# Smoke test of a deployed stack: what must work right after every deploy.
#
#   scripts/smoke.sh API_URL
#
# 1. GET /v1/health answers 200 {"status":"ok"} (and, with SMOKE_VERSION,
#    reports that version: the deploy really replaced the code);
# 2. GET /.well-known/jwks.json answers 200 with at least one EC P-256 key;
# 3. one authorized call: log in, GET /v1/users/me with the access token
#    (the authorizer, the users service, KMS-signed tokens and the
#    revocation check together), then log out so the session ends.
#
# Who logs in, which is what makes it safe in production:
#   - SMOKE_EMAIL and SMOKE_PASSWORD set: that account, created once per
#     environment (docs/operations.md, Smoke test). Nothing is written but
#     the session, which the logout revokes. Required when SMOKE_REGISTER=0.
#   - otherwise, with SMOKE_REGISTER=1 (the default): a new account at an SES
#     mailbox simulator address, success+smoke-<time>-<random>@simulator.amazonses.com,
#     which accepts the verification email without a real mailbox, a bounce
#     or a complaint (SES sandbox included). It stays, unverified, one per run:
#     fine for dev, staging and the local cloud; prod sets SMOKE_REGISTER=0.
#
# Exits 0 when every check passed; otherwise prints the failing request and
# exits 1. Retries transient answers (5xx, 429, connection errors) for up to
# SMOKE_DEADLINE seconds (default 90): a new deployment can take a moment to
# serve.
set -euo pipefail

api="${1:?usage: scripts/smoke.sh API_URL}"
api="${api%/}"
deadline=$(( $(date +%s) + ${SMOKE_DEADLINE:-90} ))
register="${SMOKE_REGISTER:-1}"
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

say() { printf 'smoke: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

# call METHOD PATH [JSON] [TOKEN]: the status in $status, the body in $body.
# Retries until the deadline while the answer is 5xx, 429 or no answer.
call() {
  local method=$1 path=$2 data=${3:-} token=${4:-}
  local args=(-sS -o "$body" -w '%{http_code}' -X "$method" --max-time 15 -H 'Accept: application/json')
  [[ -n "$data" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
  while :; do
    status="$(curl "${args[@]}" "$api$path" || echo 000)"
    case "$status" in
      000 | 429 | 5??) ;;
      *) return 0 ;;
    esac
    if (( $(date +%s) >= deadline )); then
      return 0
    fi
    say "$method $path answered $status; retrying"
    sleep 3
  done
}

# json EXPR: evaluates a Python expression on the last body (as "d").
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$body" "$1"; }

expect() {
  local want=$1 what=$2
  [[ "$status" == "$want" ]] || fail "$what answered $status, want $want: $(head -c 500 "$body")"
}

call GET /v1/health
expect 200 "GET /v1/health"
[[ "$(json 'd["status"]')" == ok ]] || fail "health status is not ok: $(cat "$body")"
version="$(json 'd["version"]')"
if [[ -n "${SMOKE_VERSION:-}" && "$version" != "$SMOKE_VERSION" ]]; then
  fail "health reports version $version, want $SMOKE_VERSION (the new code is not serving)"
fi
say "health ok, version $version"

call GET /.well-known/jwks.json
expect 200 "GET /.well-known/jwks.json"
keys="$(json 'sum(1 for k in d["keys"] if k.get("kty") == "EC" and k.get("crv") == "P-256" and k.get("kid"))')"
(( keys >= 1 )) || fail "JWKS has no EC P-256 key: $(cat "$body")"
say "jwks ok, $keys signing keys"

email="${SMOKE_EMAIL:-}"
password="${SMOKE_PASSWORD:-}"
if [[ -z "$email" || -z "$password" ]]; then
  [[ "$register" == 1 ]] || fail "SMOKE_EMAIL and SMOKE_PASSWORD are required when SMOKE_REGISTER=0 (prod)"
  email="success+smoke-$(date +%s)-$RANDOM@simulator.amazonses.com"
  password="smoke-$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
  call POST /v1/auth/register "$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2], "name": "Smoke Test"}))' "$email" "$password")"
  expect 201 "POST /v1/auth/register"
  say "registered $email"
fi
credentials="$(python3 -c 'import json,sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$email" "$password")"

call POST /v1/auth/login "$credentials"
expect 200 "POST /v1/auth/login"
access="$(json 'd["accessToken"]')"
refresh="$(json 'd["refreshToken"]')"

call GET /v1/users/me "" "$access"
expect 200 "GET /v1/users/me"
[[ "$(json 'd["email"].lower()')" == "$(tr '[:upper:]' '[:lower:]' <<<"$email")" ]] || fail "GET /v1/users/me is someone else: $(cat "$body")"
say "authorized call ok"

call POST /v1/auth/logout "$(python3 -c 'import json,sys; print(json.dumps({"refreshToken": sys.argv[1]}))' "$refresh")" "$access"
expect 204 "POST /v1/auth/logout"
say "passed"
