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
# `make test` builds the docs where they cannot be mistaken for a published site.
DOCS_CHECK_DIR ?= $(VENV)/docs-check
# Quiets the banners some mkdocs plugins print about mkdocs 2 (pinned below 2 in pyproject).
export NO_MKDOCS_2_WARNING := 1
export DISABLE_MKDOCS_2_WARNING := true
GALLERY  ?= 10000
USERS    ?= 32
DURATION ?= 60s
# pytest workers for `make test` (pytest-xdist): test modules spread over the cores, each module
# whole on one worker so its server and database fixtures are built once. TEST_WORKERS=0 runs
# the suite in one process.
TEST_WORKERS ?= auto

$(LOAD_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,load]'
	touch $(LOAD_STAMP)

run: $(STAMP) ## run the service on the embedded default (SQLite file, generated DEV master key)
	ABIS_DEV=true $(BIN)/abis serve

test: $(STAMP) ## lint, type-check, import rules, docs build (strict), test suite (PostgreSQL too when ABIS_TEST_DATABASE_URL is set)
	$(BIN)/ruff check service tooling matcher schemas tests loadtests docgen docs/examples
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/mkdocs build --strict --quiet --site-dir $(DOCS_CHECK_DIR)
	$(BIN)/python -m docgen.check_offline $(DOCS_CHECK_DIR)
	$(BIN)/pytest --numprocesses $(TEST_WORKERS) --dist loadfile

docs: $(STAMP) ## build the docs site into site/ (strict: a broken link or a page that cannot be generated fails)
	$(BIN)/mkdocs build --strict
	$(BIN)/python -m docgen.check_offline site

docs-serve: $(STAMP) ## serve the docs site on http://127.0.0.1:8001 while editing
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

console-screenshots: $(STAMP) ## refresh docs/console/*.png from the console's browser tests (needs /usr/bin/chromium)
	ABIS_CONSOLE_DOCS=1 $(BIN)/pytest tests/console/test_console_browser.py -q

loadtest: $(LOAD_STAMP) ## load test over a preloaded gallery: GALLERY=persons USERS=n DURATION=60s [LOADTEST_ARGS=...]; report in reports/
	$(BIN)/python -m loadtests.run --gallery $(GALLERY) --users $(USERS) --duration $(DURATION) $(LOADTEST_ARGS)

loadtest-smoke: $(LOAD_STAMP) ## CI: 30 s over a fresh 1,000-person gallery; fails on any failed request or 5xx
	ABIS_REQUIRE_LOCUST=1 $(BIN)/pytest -q -p no:cacheprovider tests/unit/test_loadtest_mix.py
	$(BIN)/python -m loadtests.run --fresh --gallery 1000 --users 12 --duration 30s --out reports/loadtest-smoke

audit-deps: $(STAMP) ## known vulnerabilities of the installed dependencies (pip-audit, PyPI advisories)
	$(BIN)/python .ci/dependency_audit.py

.PHONY: help install run test docs docs-serve console-screenshots proto loadtest loadtest-smoke audit-deps

proto: $(STAMP) ## regenerate the shard and writer protocols' messages from their .proto files
	$(BIN)/python -m grpc_tools.protoc -Iservice/shard/protocol --python_out=service/shard/protocol --pyi_out=service/shard/protocol service/shard/protocol/shard.proto
	$(BIN)/python -m grpc_tools.protoc -Iservice/writer/protocol --python_out=service/writer/protocol --pyi_out=service/writer/protocol service/writer/protocol/writer.proto
