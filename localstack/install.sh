#!/usr/bin/env bash
# Installs the pinned Python tools into git-ignored virtual environments:
# MiniStack (the emulator), the AWS SAM CLI and Schemathesis (the e2e
# tests' property-based API testing), each in its own venv because they pin
# different versions of shared packages, and the source of LocalStack's free
# edition for the offline compatibility check (compat: localstack-core and
# moto without their dependencies, in .local/localstack-compat). Re-runs
# only when a requirements file changed. With arguments, installs only the
# named ones (`install.sh sam`: what `make deploy` needs, without the
# emulator).
set -euo pipefail
source "$(dirname "$0")/env.sh"

python="${PYTHON:-python3}"
install_venv() {
  local name=$1 req=$2 dir=$3
  shift 3 # the rest: pip options of this venv
  local stamp="$dir/.requirements.sha256"
  local want; want="$(python3 "$ROOT/localstack/proc.py" sha256 "$req")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return
  fi
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "$name needs Python 3.11 or later; $python is $("$python" --version 2>&1 || echo missing) (make doctor says what to install)" >&2
    exit 2
  fi
  log "installing $name into ${dir#"$ROOT/"} (pinned, once)"
  rm -rf "$dir"
  "$python" -m venv "$dir" || {
    echo "$python cannot make a virtual environment; on Debian and Ubuntu: sudo apt install python3-venv (make doctor)" >&2
    rm -rf "$dir"
    exit 2
  }
  "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input "$@" -r "$req"
  echo "$want" > "$stamp"
}

for name in "${@:-ministack sam schemathesis compat}"; do
  for one in $name; do
    case "$one" in
      compat) install_venv compat "$ROOT/localstack/requirements-compat.txt" "$COMPAT_VENV" --no-deps --no-compile ;;
      *) install_venv "$one" "$ROOT/localstack/requirements-$one.txt" "$VENV_DIR/$one" ;;
    esac
  done
done
