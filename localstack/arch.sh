#!/usr/bin/env bash
# Prints the Lambda architecture of this machine (x86_64 or arm64).
set -euo pipefail
source "$(dirname "$0")/env.sh"
host_arch
