# Sourced by deploy.sh and sam-local.sh (after env.sh): the template's
# parameters on the local cloud, one definition for both.
# shellcheck shell=bash

# local_params ENDPOINT prints the --parameter-overrides of the local
# environment, with ENDPOINT as where the functions reach the local cloud
# (LocalEndpoint): the local cloud's own port for MiniStack's processes,
# host.docker.internal's for sam local's containers.
#
# The local cloud runs production's limits: the local API takes the
# caller's address from the first X-Forwarded-For hop, so each simulated
# client of the tests sends its own. What differs from prod, and why:
#   Environment=local  no WAF (emulators have none), no X-Ray rule.
#   OrdersPerHour=20   lowered so the order quota's test reaches it.
# ACCESS_TOKEN_TTL lets a long test campaign (make schemathesis-long) hold
# one access token throughout; ORDERS_PER_HOUR lets it place its orders.
local_params() {
  local arch params
  arch="$(host_arch)" || return 1
  params="Environment=local Architecture=$arch LocalEndpoint=$1 SenderEmail=${SENDER_EMAIL:-orders@shop.test} AuthorizerCacheSeconds=${AUTHORIZER_CACHE_SECONDS:-300} AccessTokenTTL=${ACCESS_TOKEN_TTL:-15m}"
  params+=" OrdersPerHour=${ORDERS_PER_HOUR:-20}"
  # The SES sending rate is 10 a second, below the 14 the emulator's SES
  # reports, because the launch-day burst test (e2e/launchday_mail_test.go)
  # checks from the mailbox's timestamps that no second carries more than 10
  # emails. The concurrency is the one derived from it (max(2, ceil(10 / 5)),
  # template.yaml; internal/contract checks it): 5 emails a second each.
  params+=" SesMaxSendRate=10 NotificationConcurrency=2"
  echo "$params"
}
