# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## start the service on config/syndbot.toml (demo feed -> var/outbox.jsonl)
	$(BIN)/syndbot run

test: $(STAMP)  ## ruff, mypy on bot/, the whole suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot
	@# A real local Bluesky server for the Bluesky tests (cached; skipped without npm).
	@if command -v npm >/dev/null; then bash .ci/pds-setup.sh >/dev/null; fi
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/compose_speed.py
	$(BIN)/python bench/rouge.py
	$(BIN)/python bench/poll_cycle.py

clean:
	rm -rf $(VENV) var/*.db var/*.jsonl
