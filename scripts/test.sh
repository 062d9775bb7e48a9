#!/usr/bin/env bash
# Set up what is missing, then lint, type-check and run the whole test suite on real PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check backend tests scripts
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
