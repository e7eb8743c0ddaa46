# The two commands a fresh machine needs: `make run` and `make test` (both set up first).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
DATA := $(or $(MOVIEREC_DATA_DIR),data)
PORT ?= 8000

.PHONY: setup system-deps run test bench bench-api bench-refresh readme clean

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

test: system-deps setup
	$(BIN)/python -m pytest

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
