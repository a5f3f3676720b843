#!/usr/bin/env bash
# One command: set everything up, then run lint and the whole test suite (real models, real browser).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --dev
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
