# The two commands a fresh machine needs: `make run` and `make test` (both set up first).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
DATA := $(or $(MOVIEREC_DATA_DIR),data)
PORT ?= 8000

.PHONY: setup system-deps run lint test test-fast bench bench-api bench-refresh readme clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/movierec: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

setup: $(BIN)/movierec

run: setup
	@if [ ! -e "$(DATA)/current" ]; then $(BIN)/movierec pipeline --data "$(DATA)"; fi
	exec $(BIN)/movierec serve --data "$(DATA)" --host 0.0.0.0 --port $(PORT)

# What the tests need beyond Python: Debian's chromium (the browser tests) and a Java runtime 17+ (the
# Spark engine's tests), installed through apt when missing (as root), else one line and exit 1.
# `make run` needs neither.
system-deps:
	@$(SHELL) scripts/system_deps.sh

# The suite on TEST_WORKERS processes (pytest-xdist), a test module per worker at a time: a module's
# fixtures are built once, and the run's shared builds once for all (tests/conftest.py).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest --numprocesses $(TEST_WORKERS) --dist loadscope

# The code's habits, kept by CI: ruff (lint, import order, format) and mypy on src/, configured in
# pyproject.toml. A few seconds; `make test` runs it first.
lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

# Every test, nothing skipped (CI runs this).
test: system-deps setup lint
	$(PYTEST)

# The quick loop while working: everything but the tests marked slow (releases built, servers,
# Spark, the browser); neither chromium nor Java needed. Under a minute on 2 cores.
test-fast: setup
	$(PYTEST) -m "not slow"

bench: setup
	$(BIN)/python bench/etl.py --repeat 3 --scale-3x
	$(BIN)/python bench/train.py --repeat 3 --scale-3x

bench-api: setup
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/api.py

bench-refresh: setup
	command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python bench/refresh.py

# The README's evaluation tables, measured anew: a release from the real sample, then one evaluation (cold start too).
README_DATA ?= $(or $(TMPDIR),/tmp)/movierec-readme
readme: setup
	MOVIEREC_EVALUATE_ON_PUBLISH=false $(BIN)/movierec pipeline --data "$(README_DATA)" --raw ../shared/data/the-movies-dataset
	$(BIN)/movierec evaluate --data "$(README_DATA)" --raw ../shared/data/the-movies-dataset --cold --readme README.md

clean:
	rm -rf $(VENV) .tools .pytest_cache
