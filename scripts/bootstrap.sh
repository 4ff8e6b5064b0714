# Set-up shared by ./run, ./test and .ci/run: a .venv made from requirements-dev.lock, remade
# or updated whenever it is missing, broken or older than the lock. Source it, or run it
# (`bash scripts/bootstrap.sh`) to set up without running anything.
# Needs only Python 3.11+ (with its venv module) and, for a first install, PyPI.

_bootstrap_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_bootstrap_python() {
  # PYTHON, else the newest python3.1x on PATH that is 3.11 or later.
  local candidate
  for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_venv() {
  local venv="$_bootstrap_root/.venv" lock="$_bootstrap_root/requirements-dev.lock"
  local stamp="$_bootstrap_root/.venv/.installed-lock" want python
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' 2>/dev/null &&
    [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    if ! python="$(_bootstrap_python)"; then
      echo "set-up: needs Python 3.11 or later (set PYTHON=/path/to/python3.11+)" >&2
      return 2
    fi
    echo "set-up: creating .venv with $python ($("$python" -V 2>&1))" >&2
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
      echo "set-up: '$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
      return 2
    fi
  fi
  echo "set-up: installing requirements-dev.lock into .venv (hash-checked)" >&2
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install --quiet \
    --require-hashes -r "$lock" || return 2
  echo "$want" >"$stamp"
}

# Headless Chromium drives the Web Pixel browser tests. Installs Debian's package when it
# can (root or password-less sudo, apt-get); otherwise says so once: those tests then skip.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
  fi
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; }; then
    echo "set-up: installing chromium (apt-get) for the Web Pixel browser tests" >&2
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null 2>&1 || true
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    echo "set-up: chromium is not installed and could not be installed here (needs apt-get" \
      "as root): the Web Pixel browser tests will be skipped" >&2
  fi
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_venv
  ensure_chromium
fi
