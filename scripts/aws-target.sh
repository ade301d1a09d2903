#!/usr/bin/env bash
# What make deploy, make smoke and make delete check before anything else
# (before the SAM CLI is installed):
#
#   scripts/aws-target.sh ENV
#
# ENV must be an AWS environment of samconfig.toml (a [<env>.deploy.parameters]
# table other than local), and no AWS_ENDPOINT_URL (nor a service's
# AWS_ENDPOINT_URL_<SERVICE>) may point at a local emulator: the SAM CLI
# would deploy there instead of to AWS.
set -euo pipefail
env="${1:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"

envs="$(sed -n 's/^\[\([a-z0-9_-]*\)\.deploy\.parameters\]$/\1/p' "$root/samconfig.toml" | grep -vx local | tr '\n' ' ')"
case " $envs" in
  *" $env "*) ;;
  *) echo "ENV must be one of: ${envs% } (not '$env'); the local cloud is make dev, make down" >&2; exit 2 ;;
esac

for var in $(compgen -e | grep '^AWS_ENDPOINT_URL' || true); do
  url="${!var}"
  host="${url#*://}"
  host="${host%%/*}"
  case "$host" in
    \[*\]*) host="${host%%]*}]" ;;
    *) host="${host%%:*}" ;;
  esac
  case "$host" in
    127.* | localhost | *.localhost | "[::1]" | 0.0.0.0 | host.docker.internal | localhost.localstack.cloud | *.localstack.cloud)
      echo "$var=$url points at a local emulator, so the SAM CLI would go there, not to AWS; unset it (unset $var, or open a new shell) and run make ${MAKE_GOAL:-deploy} ENV=$env again" >&2
      exit 2
      ;;
  esac
done
