#!/usr/bin/env bash
# Set up, then run the linters, the type checker and the whole test suite (browser tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check pipeline tests bench
.venv/bin/ruff format --check pipeline tests bench
.venv/bin/mypy
.venv/bin/pytest "$@"
