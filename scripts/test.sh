#!/usr/bin/env bash
# Set everything up, then run the whole test suite (real embedder, FAISS, model, Gradio and Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
.venv/bin/ruff check src tests app.py benchmarks
.venv/bin/python -m pytest "$@"
