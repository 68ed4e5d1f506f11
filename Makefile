# newswatch — see README.md. Everything installs into .venv with uv, pinned by constraints.txt.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3)
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
# uv from PATH when there is one, else a private copy bootstrapped with pip into .tools/
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
PYTEST_ARGS ?=

.PHONY: install run demo lint test test-celery chaos eval bench screenshots up down db-stop clean help

help:
	@echo "make install   create .venv (idempotent)"
	@echo "make run       one pipeline run through Airflow, real feeds, embedded PostgreSQL unless configured"
	@echo "make demo      the same, offline, on the bundled sample feeds"
	@echo "make lint      ruff (lint and format check) and mypy (config in pyproject.toml)"
	@echo "make test      the whole test suite"
	@echo "make chaos     the chaos suite: poison entries, killed merges, restarted PostgreSQL, runs at once"
	@echo "make eval      precision/recall of relevance and story clustering"
	@echo "make up        Airflow standalone on :8080 with the DAGs unpaused (make down stops it; DEMO=1: the demo's data, DAGs paused)"
	@echo "make bench     benchmark vs reader, a naive loader and COPY; growth to 1M articles"
	@echo "make screenshots  regenerate docs/*.png (the analyst's pages on the demo data; needs chromium)"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt | $(UV)
	$(UV) venv --allow-existing --python "$(PYTHON)" $(VENV)
	$(UV) pip install --python $(BIN)/python -c constraints.txt -e '.[dev,cluster]'
	$(COMPILE)
	@touch $@

# Bytecode written once at install, as pip does by default and uv does not. An interpreter writes
# it itself only where it may (PYTHONDONTWRITEBYTECODE unset, a writable folder); where it may
# not, every Airflow task, poll process and CLI run compiled what it imports again: 0.75 s of CPU
# to import the pipeline, 0.38 s with bytecode.
# A file that does not compile (none does today) is listed and the install goes on: it would be
# read from source anyway.
COMPILE = $(BIN)/python -m compileall -q -j 0 $(VENV)/lib plugins dags || echo "compileall: the files above were left uncompiled"

.tools/bin/uv:
	"$(PYTHON)" -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

run: install
	$(BIN)/newswatch local run

demo: install
	$(BIN)/newswatch local demo

# Lint: ruff's rules and formatting (check only: `$(BIN)/ruff format $(LINT_PATHS)` fixes it) and
# mypy over the plugins; each tool's configuration is in pyproject.toml.
LINT_PATHS := plugins dags tests bench
lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The multi-process Celery path (Redis broker, PostgreSQL metadata, separate scheduler,
# dag-processor, api-server and worker): slow, so not part of `make test`; CI runs both.
test-celery: install
	$(BIN)/pytest tests/cluster $(PYTEST_ARGS)

# The chaos suite (tests/chaos): poison entries, the merge killed at each step, PostgreSQL
# restarted mid-poll and mid-merge, a CLI run and a DAG run at once. Prints a table of cases.
chaos: install
	$(BIN)/pytest tests/chaos -p no:cacheprovider $(PYTEST_ARGS)

eval: install
	$(BIN)/newswatch eval

# Benchmark (bench/README.md): newswatch vs reader, a naive loader and COPY on two corpus shapes
# (standard, with growth to 1M articles; syndicated), then both side by side.
# BENCH_ARGS / BENCH_SYNDICATED_ARGS="--feeds 20 --entries 20 --growth-sizes 1000,5000" for a quick look.
BENCH_ARGS ?=
BENCH_SYNDICATED_ARGS ?= --feeds 300 --entries 100
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench --out bench/out/standard $(BENCH_ARGS)
	$(BIN)/python -m bench --scenario syndicated --out bench/out/syndicated --skip-growth --skip-airflow $(BENCH_SYNDICATED_ARGS)
	$(BIN)/python -m bench.compare bench/out/standard bench/out/syndicated

$(VENV)/.bench-installed: $(VENV)/.installed
	$(UV) pip install --python $(BIN)/python -c constraints.txt -e '.[dev,cluster,bench]'
	$(COMPILE)
	@touch $@

# The README's screenshots: a throwaway embedded PostgreSQL, the demo feeds and airflow standalone
# set up as `make up` sets it, photographed with Debian's chromium (about 2 minutes).
screenshots: install
	$(BIN)/python -m newswatch.dev.screenshots --out docs

# DEMO=1: the UI shows the warehouse make demo filled (newswatch_demo)
up: install
	$(BIN)/newswatch local up $(if $(filter-out 0 false no,$(DEMO)),--demo,)

down:
	-$(BIN)/newswatch local down

db-stop:
	-$(BIN)/newswatch local db-stop

clean: db-stop
	rm -rf .newswatch .pytest_cache .mypy_cache .ruff_cache
