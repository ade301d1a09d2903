#!/usr/bin/env bash
# Every Go fuzz target of the module, each for the same time, one after
# another; then a table of how many inputs each one tried. Run through
# `make fuzz`.
#
#   scripts/fuzz.sh [fuzztime [workers]]     defaults: 20s, 1
#
# The targets are found, not listed: every line starting `func Fuzz` in a
# *_test.go file outside hidden directories (integration test files
# excluded: they build only with their tag). A target that fails leaves the
# input under its package's testdata/fuzz/ (commit it: `go test` then runs
# it as a seed); the others still run, and the script exits 1.
set -euo pipefail
fuzztime=${1:-20s}
workers=${2:-1}
cd "$(dirname "$0")/.."

# "<package dir> <target>" per line, e.g. "./shared/token FuzzVerify".
targets=$(find . -name '*_test.go' -not -name '*_integration_test.go' -not -path './.*' \
  -exec grep -Ho '^func Fuzz[A-Za-z0-9_]*' {} + |
  sed -E 's#^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)$#\1 \2#' | sort)
if [[ -z "$targets" ]]; then
  echo "no fuzz targets found" >&2
  exit 1
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
summary=()
failed=0
while read -r pkg name; do
  echo "fuzzing $name in $pkg for $fuzztime"
  result=ok
  if ! go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -parallel "$workers" "$pkg" >"$out" 2>&1 </dev/null; then
    result=FAIL
    failed=1
    tail -n 40 "$out"
  fi
  # go test's last progress line: "fuzz: elapsed: 20s, execs: 123456 (6172/sec), ..."
  execs=$(sed -nE 's/^fuzz: elapsed: .*, execs: ([0-9]+) .*/\1/p' "$out" | tail -n 1)
  summary+=("$(printf '%-48s %12s  %s' "${pkg#./}.$name" "${execs:--}" "$result")")
done <<<"$targets"

echo
printf '%-48s %12s  %s\n' target execs result
printf '%s\n' "${summary[@]}"
exit "$failed"
