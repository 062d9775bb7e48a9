#!/usr/bin/env bash
# Install whatever is missing, idempotently: the Python venv and pinned packages, the map's
# npm packages, and (with --test, as root) Chromium for the browser tests. PostGIS itself is
# installed and started by `onegrid db up` (see backend/onegrid/db/embedded.py).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# 1. Python 3.11+ and the venv
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
[ -n "$PYTHON" ] || { echo "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)"; exit 1; }
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

# 2. Pinned packages: reinstall only when pyproject.toml or the lock file changed.
stamp=.venv/.onegrid-installed
digest=$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ]; then
  say "Installing Python packages (pinned by requirements.lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c requirements.lock -e '.[dev]'
  echo "$digest" > "$stamp"
fi

# 3. Leaflet and plugins from the npm registry (no bundler: served from node_modules).
if command -v npm >/dev/null 2>&1; then
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
    say "Installing the map's npm packages"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  fi
else
  echo "npm not found: the map page needs Node.js/npm to install Leaflet (the API works without)." >&2
fi

# 4. Chromium and a Chinese font for the browser tests.
if [ $want_test = 1 ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    say "Installing Chromium and fonts-wqy-microhei for the browser tests (about 45 s)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium fonts-wqy-microhei >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q chromium fonts-wqy-microhei >/dev/null; }
  else
    echo "Chromium is missing; browser tests will be skipped. As root: apt-get install -y chromium fonts-wqy-microhei" >&2
  fi
fi

# 5. The database: embedded PostGIS (installed if missing, as root) or ONEGRID_DATABASE_URL.
.venv/bin/onegrid db up
