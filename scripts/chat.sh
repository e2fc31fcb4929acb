#!/usr/bin/env bash
# Set everything up, then start the web chat on http://127.0.0.1:7860 (building the index if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python app.py "$@"
