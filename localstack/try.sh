#!/usr/bin/env bash
# The README's "Try the API" walk, on the local cloud this checkout runs
# (make try): register a new customer, verify the email with the token of
# the link the shop mailed, log in, order from the catalog, and show the
# order and its confirmation email. It waits on the mailbox with deadlines,
# never with fixed sleeps.
#
# The local cloud is EMULATOR_PORT's when it is set; otherwise the one this
# checkout runs (4566 first, if several do). Like every client, it sends its
# own address in X-Forwarded-For: the local API takes the caller's address
# from there and runs production's per-address limits.
set -euo pipefail
given="${EMULATOR_PORT:-}"
source "$(dirname "$0")/env.sh"

if [[ -z "$given" ]]; then
  read -r -a ports <<<"$(running_ports | tr '\n' ' ')"
  if ((${#ports[@]} == 0)); then
    echo "no local cloud of this checkout is running: make dev starts one" >&2
    exit 1
  fi
  port="${ports[0]}"
  if ((${#ports[@]} > 1)); then
    for p in "${ports[@]}"; do [[ "$p" == 4566 ]] && port=4566; done
    log "local clouds run on ports ${ports[*]}: trying the one on $port (EMULATOR_PORT=<port> make try picks)"
  fi
  use_port "$port"
fi
if ! ours; then
  echo "no local cloud of this checkout runs on port $EMULATOR_PORT: EMULATOR_PORT=$EMULATOR_PORT make dev starts one" >&2
  exit 1
fi
if [[ ! -s "$STATE_DIR/api-url" ]]; then
  echo "the local cloud on port $EMULATOR_PORT has no stack deployed (yet): make dev deploys it" >&2
  exit 1
fi
api="$(cat "$STATE_DIR/api-url")"
case "$(cat "$STATE_DIR/cloud" 2>/dev/null)" in
  localstack) mailbox="$ENDPOINT/_aws/ses" ;;
  *) mailbox="$ENDPOINT/_ministack/ses/messages" ;;
esac

body="$(mktemp)"
trap 'rm -f "$body"' EXIT
addr="2001:db8:7e57:$(printf '%x:%x' $((RANDOM)) $((RANDOM)))::1"
email="ada-$(date +%s)-$((RANDOM))@example.com"
password="correct horse battery staple"

step() { printf '\n\033[1m%s\033[0m\n' "$*"; }

# call METHOD PATH [JSON] [TOKEN] prints the request and the answer's status
# and body (its start), and fails on an answer it did not expect (4xx, 5xx).
call() {
  local method=$1 path=$2 data=${3:-} token=${4:-} status
  local args=(-sS -o "$body" -w '%{http_code}' -X "$method" --max-time 30 -H "X-Forwarded-For: $addr")
  [[ -n "$data" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
  [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
  [[ "$path" == /v1/orders && "$method" == POST ]] && args+=(-H "Idempotency-Key: try-$email")
  status="$(curl "${args[@]}" "$api$path" || echo 000)"
  printf '%s %s -> %s\n' "$method" "$path" "$status"
  if [[ "$status" != 2?? ]]; then
    head -c 600 "$body" >&2
    echo >&2
    echo "make try: $method $path answered $status" >&2
    exit 1
  fi
}

# json EXPR evaluates a Python expression on the last answer's body (d).
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$body"; }

# mail WHAT SECONDS PATTERN prints the newest email to $email whose text
# matches PATTERN (a Python regular expression), waiting up to SECONDS for
# it to arrive. MiniStack and LocalStack list sent mail in different shapes.
mail() {
  local what=$1 deadline=$((SECONDS + $2)) pattern=$3 found
  while :; do
    found="$(curl -sS --max-time 10 "$mailbox" | python3 -c '
import json, re, sys
to, pattern = sys.argv[1], sys.argv[2]
raw = json.load(sys.stdin)["messages"]
mails = []
for m in (raw if isinstance(raw, list) else [m for ms in raw.values() for m in ms]):
    if "Destination" in m:  # LocalStack
        mails.append((m["Destination"].get("ToAddresses", []), m.get("Subject", ""), m.get("Body", {}).get("text_part") or ""))
    else:  # MiniStack
        mails.append((m.get("To", []), m.get("Subject", ""), m.get("BodyText") or ""))
hits = [(s, t) for (tos, s, t) in mails if to in tos and re.search(pattern, s + "\n" + t)]
if hits:
    print("Subject: %s\n\n%s" % hits[-1])
' "$email" "$pattern" 2>/dev/null || true)"
    if [[ -n "$found" ]]; then
      echo "$found"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      echo "make try: no $what email to $email within $2 s (mailbox: $mailbox)" >&2
      exit 1
    fi
    sleep 0.5
  done
}

echo "make try: the local cloud on port $EMULATOR_PORT; API $api"
echo "          mailbox $mailbox; client address $addr"

step "1. health"
call GET /v1/health
json 'json.dumps(d)'

step "2. register $email"
call POST /v1/auth/register "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Ada\"}"
json 'json.dumps(d)'

step "3. verify the email with the token of the link the shop mailed"
verification="$(mail verification 60 '/verify-email\?token=\S+')"
token="$(grep -o 'verify-email?token=[^[:space:]]*' <<<"$verification" | head -n 1)"
echo "${verification%%$'\n'*} (link ...${token:0:40}...)"
call POST /v1/auth/verify-email "{\"token\":\"${token#verify-email?token=}\"}"

step "4. log in"
call POST /v1/auth/login "{\"email\":\"$email\",\"password\":\"$password\"}"
access="$(json 'd["accessToken"]')"
json '"tokenType %s, expires in %s s" % (d["tokenType"], d["expiresIn"])'

step "5. the catalog (prices come from it, never from the client)"
call GET /v1/products
sku="$(json '"COF-ESP-250" if any(p["sku"] == "COF-ESP-250" for p in d["items"]) else d["items"][0]["sku"]')"
json '"%d products, e.g. " % len(d["items"]) + ", ".join("%s %s %.2f %s" % (p["sku"], p["name"], p["unitPrice"] / 100, p["currency"]) for p in d["items"][:3])'

step "6. order 2 x $sku"
call POST /v1/orders "{\"items\":[{\"sku\":\"$sku\",\"quantity\":2}]}" "$access"
order="$(json 'd["id"]')"
python3 -m json.tool "$body"

step "7. the order's confirmation email"
mail "order confirmation" 60 "$order"
