#!/usr/bin/env bash
# The main job: set up what is missing, load the demo street once, serve API + map on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/onegrid demo
host="${ONEGRID_HOST:-127.0.0.1}"
port="${ONEGRID_PORT:-8000}"
# Signing in is the only way to act; the demo's accounts (one per role) and their passwords
# are in a file only this user can read.
if [[ -f var/demo-accounts.txt ]]; then
  echo "Sign in at http://${host}:${port}/ with an account from $(pwd)/var/demo-accounts.txt"
fi
exec .venv/bin/onegrid serve --host "$host" --port "$port"
