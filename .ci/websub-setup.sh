#!/usr/bin/env bash
# flask-websub's hub (and celery, which it queues its work through) for
# tests/test_push_websub_hub.py, installed apart from the project's environment: its wheel
# ships a top-level "tests" package that would shadow this repository's tests.
# Prints the export line for .ci/run to eval.
set -euo pipefail
dir="${SYNDBOT_WEBSUB_HUB_DIR:-$HOME/.cache/syndbot-websub-hub}"
python="${PYTHON:-python3}"
if [ ! -f "$dir/.installed" ]; then
  # pip from a throwaway venv (the system Python may have none), installing into $dir.
  tools=$(mktemp -d)
  "$python" -m venv "$tools"
  "$tools/bin/pip" install --quiet --target "$dir" "flask-websub>=0.4.1" "celery>=5.4" >&2
  rm -rf "$tools"
  touch "$dir/.installed"
fi
echo "export SYNDBOT_WEBSUB_HUB_DIR=$dir"
