#!/usr/bin/env bash
# One command: set everything up (first run ~6 min), then start the chat on http://127.0.0.1:7860
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/python -m ui "$@"
