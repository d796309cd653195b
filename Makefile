# One command per task; `make help` lists them. Every target creates .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install abis with its dev tools

LOAD_STAMP := $(VENV)/.installed-load
GALLERY  ?= 10000
USERS    ?= 32
DURATION ?= 60s

$(LOAD_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,load]'
	touch $(LOAD_STAMP)

run: $(STAMP) ## run the service on the embedded default (SQLite file, generated DEV master key)
	ABIS_DEV=true $(BIN)/abis serve

test: $(STAMP) ## lint, type-check and run the test suite (PostgreSQL too when ABIS_TEST_DATABASE_URL is set)
	$(BIN)/ruff check service matcher schemas tests loadtests
	$(BIN)/mypy
	$(BIN)/pytest

loadtest: $(LOAD_STAMP) ## load test over a preloaded gallery: GALLERY=persons USERS=n DURATION=60s [LOADTEST_ARGS=...]; report in reports/
	$(BIN)/python -m loadtests.run --gallery $(GALLERY) --users $(USERS) --duration $(DURATION) $(LOADTEST_ARGS)

loadtest-smoke: $(LOAD_STAMP) ## CI: 30 s over a fresh 1,000-person gallery; fails on any failed request or 5xx
	$(BIN)/python -m loadtests.run --fresh --gallery 1000 --users 12 --duration 30s --out reports/loadtest-smoke

audit-deps: $(STAMP) ## known vulnerabilities of the installed dependencies (pip-audit, PyPI advisories)
	$(BIN)/python .ci/dependency_audit.py

.PHONY: help install run test loadtest loadtest-smoke audit-deps
