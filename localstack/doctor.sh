#!/usr/bin/env bash
# Checks what the local cloud and the tests need, each failure on one line
# with its remedy, in a second or two. Plain bash and POSIX tools: it runs
# before anything it checks is known to work (an old Python included).
#
#   doctor.sh        every check, one line each (make doctor)
#   doctor.sh dev    the first step of make dev: only what is wrong, then a
#                    one-line summary; a missing C compiler is a note (only
#                    the tests need one)
#   doctor.sh test   the first step of make test: the same, and which port
#                    the tests' own local cloud will use
#
# Exits 1 when something make dev (or make test) needs is missing.
# shellcheck disable=SC2031 # the port check's subshell sources env.sh on purpose
set -uo pipefail
mode="${1:-all}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCAL_CLOUD="${LOCAL_CLOUD:-ministack}"
EMULATOR_PORT="${EMULATOR_PORT:-4566}"
python="${PYTHON:-python3}"
failed=0
summary=()

say() { # say STATUS TEXT: a line of the report (dev and test: not the ok ones)
  if [[ "$mode" == all || "$1" != ok ]]; then
    printf '  %-5s %s\n' "$1" "$2"
  fi
}
ok() { say ok "$1"; summary+=("${2:-$1}"); }
fail() { say FAIL "$1"; failed=1; }
note() { say note "$1"; }

[[ "$mode" == all ]] && echo "doctor: what make dev and make test need (LOCAL_CLOUD=$LOCAL_CLOUD, EMULATOR_PORT=$EMULATOR_PORT)"

# The host: the local cloud runs Linux binaries as processes of the host.
os="$(uname -s)" arch="$(uname -m)"
case "$os/$LOCAL_CLOUD" in
  Linux/*)
    case "$arch" in
      x86_64 | aarch64 | arm64) ok "$os $arch" ;;
      *) fail "$os $arch: the functions build for x86_64 or arm64 only; use an x86_64 or arm64 machine" ;;
    esac
    ;;
  Darwin/ministack) fail "macOS: MiniStack would run the functions' Linux binaries on macOS, which cannot; with Docker Desktop running: LOCAL_CLOUD=localstack make $mode (docs/local-cloud.md)" ;;
  Darwin/localstack) ok "$os $arch (LocalStack in Docker runs the functions)" ;;
  *) fail "$os: the local cloud needs Linux (on Windows: inside WSL 2) or Docker (LOCAL_CLOUD=localstack)" ;;
esac

# Go, at least go.mod's version. Asked outside the module with
# GOTOOLCHAIN=local, so that an older Go reports itself instead of
# downloading the newer one first.
want_go="$(awk '$1 == "go" {print $2; exit}' "$ROOT/go.mod")"
if ! command -v go >/dev/null; then
  fail "Go: not installed; install Go $want_go or later: https://go.dev/dl/ (distribution packages are often older)"
else
  toolchain="$(cd / && go env GOTOOLCHAIN 2>/dev/null)"
  goenv="$(cd / && GOTOOLCHAIN=local go env GOVERSION CGO_ENABLED CC 2>/dev/null)"
  { read -r have_go; read -r cgo; read -r cc; } <<<"$goenv"
  have_go="${have_go#go}"
  have_go="${have_go%%[!0-9.]*}"
  if [[ "$(printf '%s\n%s\n' "$want_go" "$have_go" | sort -V | head -n 1)" == "$want_go" ]]; then
    ok "Go $have_go (go.mod: $want_go or later)" "Go $have_go"
  elif [[ "$toolchain" != local* && "$(printf '%s\n1.21\n' "$have_go" | sort -V | head -n 1)" == 1.21 ]]; then
    ok "Go $have_go: fetches go$want_go itself on first use (GOTOOLCHAIN=$toolchain)" "Go $have_go (+go$want_go)"
  else
    fail "Go $have_go is older than go.mod's $want_go; install Go $want_go or later: https://go.dev/dl/"
  fi
  # go test -race (make unit, make test) needs cgo, so a C compiler; Go
  # turns cgo off by itself when it finds none.
  if [[ "$cgo" == 1 ]] && command -v "${cc%% *}" >/dev/null; then
    ok "C compiler ${cc%% *} (go test -race needs cgo)" "${cc%% *}"
  else
    remedy="no C compiler (${cc%% *} not on PATH${CGO_ENABLED:+, CGO_ENABLED=$CGO_ENABLED}): go test -race (make test, make unit) needs cgo; install one: sudo apt install gcc (Debian, Ubuntu, WSL), sudo dnf install gcc (Fedora), xcode-select --install (macOS)"
    if [[ "$mode" == dev ]]; then note "$remedy"; else fail "$remedy"; fi
  fi
fi

# Python 3.11 or later, able to make virtual environments with pip (the
# emulator and the SAM CLI install into .local/venv); Debian and Ubuntu ship
# that part separately (python3-venv). Not checked again once installed.
if ! command -v "$python" >/dev/null; then
  fail "Python: $python not found; install Python 3.11 or later: sudo apt install python3 python3-venv (Ubuntu 24.04, Debian 12), brew install python@3.12 (macOS)"
else
  have_py="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null)"
  if [[ -z "$have_py" || "$(printf '%s\n3.11\n' "$have_py" | sort -V | head -n 1)" != 3.11 ]]; then
    fail "Python ${have_py:-?} ($(command -v "$python")) is older than 3.11; install 3.11 or later (Ubuntu 22.04: sudo apt install python3.11 python3.11-venv) and run with PYTHON=python3.11"
  elif ls "$ROOT"/.local/venv/*/.requirements.sha256 >/dev/null 2>&1 ||
    "$python" -c 'import venv, ensurepip; ensurepip.version()' >/dev/null 2>&1; then
    ok "Python $have_py ($python) with venv" "Python $have_py"
  else
    v="${have_py%.*}"
    fail "Python $have_py cannot make virtual environments with pip (no ensurepip); install them: sudo apt install python$v-venv (Debian, Ubuntu)"
  fi
  if [[ "$python" != python3 ]] && ! command -v python3 >/dev/null; then
    fail "python3: not found (the scripts' helpers run on it, any 3.6 or later); install python3"
  fi
fi

missing=()
for tool in make curl git; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  fail "${missing[*]}: not installed; sudo apt install ${missing[*]} (Debian, Ubuntu, WSL), brew install ${missing[*]} (macOS)"
else
  ok "make, curl, git" "make curl git"
fi

if [[ "$LOCAL_CLOUD" == localstack ]]; then
  if docker info >/dev/null 2>&1; then
    ok "Docker (LOCAL_CLOUD=localstack)" "Docker"
  else
    fail "Docker: not running (LOCAL_CLOUD=localstack runs LocalStack in it); start Docker, or use MiniStack: unset LOCAL_CLOUD"
  fi
fi

# The emulator's port: free, or a local cloud of this checkout already
# (make dev deploys into it again; make test starts its own on another).
if command -v python3 >/dev/null && python3 -c 'import sys; sys.exit(sys.version_info < (3, 6))' 2>/dev/null; then
  port_report="$(
    # shellcheck source=localstack/env.sh
    source "$ROOT/localstack/env.sh" || exit 2
    if ours; then
      if [[ "$mode" == test ]]; then
        echo "ok port $EMULATOR_PORT: a local cloud of this checkout runs there (make dev's?); the tests start their own on $(next_free_port "$EMULATOR_PORT") and leave it running"
      else
        echo "ok port $EMULATOR_PORT: a local cloud of this checkout runs there (EMULATOR_PORT=$EMULATOR_PORT make down stops it)"
      fi
    elif port_free; then
      echo "ok port $EMULATOR_PORT free (EMULATOR_PORT)"
    else
      echo "fail $(MAKE_GOAL="${mode/all/dev}" port_held 2>&1)"
    fi
  )"
  case "$port_report" in
    "ok port $EMULATOR_PORT: "*) note "${port_report#ok }"; summary+=("port $EMULATOR_PORT (ours)") ;;
    ok*) ok "${port_report#ok }" "port $EMULATOR_PORT free" ;;
    fail*) fail "${port_report#fail }" ;;
    *) fail "port $EMULATOR_PORT: not checked (${port_report:-no answer})" ;;
  esac
fi

# Disk, measured on x86_64 (2026-12): the virtual environments of .local/
# take 472 MB (SAM CLI 179, MiniStack 157, uv 63, LocalStack's source
# 43, Schemathesis 30; uv installs them without bytecode); Go's
# build cache, started empty, 810 MB after go test -race and go vet of every
# package and the functions' builds; the modules about 110 MB; staticcheck's
# cache 96 MB; .aws-sam 71 MB. The integration tests' builds and uv's
# cache come on top (not measured): 3 GB the first time leaves room for
# them, 1.5 GB once the tools are installed.
need_mb=3072
if ls "$ROOT"/.local/venv/*/.requirements.sha256 >/dev/null 2>&1; then
  need_mb=1536
fi
free_mb="$(df -Pm "$ROOT" 2>/dev/null | awk 'NR == 2 {print $4}')"
if [[ -z "$free_mb" ]]; then
  note "disk: free space of $ROOT unknown (df)"
elif ((free_mb < need_mb)); then
  fail "disk: $((free_mb)) MB free in $ROOT, about $need_mb MB needed (tools, builds, caches); free some space (go clean -cache frees Go's build cache)"
else
  ok "disk: $((free_mb / 1024)) GB free in $ROOT (about $(awk "BEGIN {print $need_mb / 1024}") GB needed)" "$((free_mb / 1024)) GB free"
fi

if ((failed)); then
  [[ "$mode" == all ]] || echo "doctor: fix the above first (make doctor checks everything)" >&2
  exit 1
fi
if [[ "$mode" != all ]]; then
  printf 'doctor: ok (%s' "${summary[0]}"
  printf ', %s' "${summary[@]:1}"
  printf ')\n'
fi
