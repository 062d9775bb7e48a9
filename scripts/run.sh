#!/usr/bin/env bash
# The main job: set up what is missing, load the demo street once, serve API + map on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/onegrid demo
exec .venv/bin/onegrid serve --host "${ONEGRID_HOST:-127.0.0.1}" --port "${ONEGRID_PORT:-8000}"
