# Sourced by deploy.sh, sam-local.sh and compat.sh (after env.sh): the
# template's parameters on the local cloud, one definition for all three.
# shellcheck shell=bash

# local_params ENDPOINT [ARCH] prints the --parameter-overrides of the local
# environment on LOCAL_CLOUD, with ENDPOINT as where the functions reach the
# local cloud (LocalEndpoint): the local cloud's own port for MiniStack's
# processes, host.docker.internal's for sam local's containers. ARCH is the
# Lambda architecture, this machine's unless given (compat.sh evaluates the
# template's conditions for x86_64).
#
# The local cloud runs production's limits: the local API takes the
# caller's address from the first X-Forwarded-For hop, so each simulated
# client of the tests sends its own. What differs from prod, and why:
#   Environment=local  no WAF (emulators have none), no X-Ray rule.
#   LocalCloud         which emulator: LocalStack's free edition lacks a few
#                      resource types (the template's NotLocalStack).
#   Source*, LoginAttemptsPerSource, CreateSenderIdentity  on LocalStack
#                      only (below).
#   OrdersPerHour=20   lowered so the order quota's test reaches it.
#   CatalogFreshSeconds=15  the orders function's copy of the catalog, 5
#                      minutes in prod: e2e's price-change test waits it out.
#   StockShards=4      every product's stock over 4 items (8 in prod): few
#                      enough that e2e's buyers of a few units run shards
#                      short, so they exercise the last units' rule (ADR 9).
#   SesMaxSendRate=10  below the 14 the emulators' SES reports, because the
#                      launch-day test (e2e/launchday_test.go) checks from
#                      the mailbox's timestamps that no second carries more
#                      than 10 emails; NotificationConcurrency is the one
#                      derived from it (max(2, ceil(10 / 5)), template.yaml;
#                      internal/contract checks it): 5 emails a second each.
#   SesMax24HourSend=10000000  the emulators' SES has no quota, and make
#                      test (its Schemathesis campaign above all) registers
#                      thousands of accounts within an hour; prod's default
#                      (50,000: 1,041 registration and verification emails
#                      an hour for all clients) would refuse the rest. The
#                      cap's own test sets a low one
#                      (functions/users/app, TestAccountMailCap).
# ACCESS_TOKEN_TTL lets a long test campaign (make schemathesis-long) hold
# one access token throughout; ORDERS_PER_HOUR lets it place its orders.
local_params() {
  local arch="${2:-}" p
  [[ -n "$arch" ]] || arch="$(host_arch)" || return 1
  p="Environment=local LocalCloud=$LOCAL_CLOUD Architecture=$arch LocalEndpoint=$1"
  p+=" SenderEmail=${SENDER_EMAIL:-orders@shop.test} AuthorizerCacheSeconds=${AUTHORIZER_CACHE_SECONDS:-300}"
  p+=" AccessTokenTTL=${ACCESS_TOKEN_TTL:-15m} OrdersPerHour=${ORDERS_PER_HOUR:-20}"
  p+=" CatalogFreshSeconds=15 StockShards=4"
  p+=" SesMaxSendRate=10 NotificationConcurrency=2 SesMax24HourSend=10000000"
  if [[ "$LOCAL_CLOUD" == localstack ]]; then
    # LocalStack reports every caller as 127.0.0.1, so production's
    # per-address limits would meet every test's requests at once: lifted
    # there (the tests that check them need testcloud.SourceAddressFromHeader).
    p+=" SourceRequestsPerSecond=1000000 SourceRequestsPerHour=100000000 LoginAttemptsPerSource=100000000"
    # Its AWS::SES::EmailIdentity cannot be created: deploy.sh verifies the
    # sender instead (localstack/compat-deviations.yaml).
    p+=" CreateSenderIdentity=false"
  fi
  echo "$p"
}
