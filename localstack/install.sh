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
#
# pip installs one thing: uv (pinned, requirements-uv.txt), into a venv of
# its own. uv makes the other venvs and installs their requirements, from
# its cache (~/.cache/uv) in seconds where pip took a minute and a half
# for the four.
set -euo pipefail
source "$(dirname "$0")/env.sh"

python="${PYTHON:-python3}"
uv="$VENV_DIR/uv/bin/uv"
export UV_PYTHON_DOWNLOADS=never # the Python make doctor checked, never one uv fetches
# install_venv NAME REQUIREMENTS DIR [OPTION...] makes DIR a venv of
# REQUIREMENTS (with uv's install OPTIONs), unless it already is one of
# that file's content.
install_venv() {
  local name=$1 req=$2 dir=$3
  shift 3 # the rest: install options of this venv
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
  if [[ "$name" == uv ]]; then
    "$python" -m venv "$dir" || {
      echo "$python cannot make a virtual environment; on Debian and Ubuntu: sudo apt install python3-venv (make doctor)" >&2
      rm -rf "$dir"
      exit 2
    }
    "$dir/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req"
  else
    "$uv" venv --quiet --python "$python" "$dir"
    "$uv" pip install --quiet --python "$dir/bin/python" "$@" -r "$req"
  fi
  echo "$want" > "$stamp"
}

install_venv uv "$ROOT/localstack/requirements-uv.txt" "$VENV_DIR/uv"

for name in "${@:-ministack sam schemathesis compat}"; do
  for one in $name; do
    case "$one" in
      compat) install_venv compat "$ROOT/localstack/requirements-compat.txt" "$COMPAT_VENV" --no-deps ;;
      *) install_venv "$one" "$ROOT/localstack/requirements-$one.txt" "$VENV_DIR/$one" ;;
    esac
  done
done
