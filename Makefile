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

run: $(STAMP) ## run the service on the embedded default (SQLite file, generated DEV master key)
	ABIS_DEV=true $(BIN)/abis serve

test: $(STAMP) ## lint, type-check and run the test suite (PostgreSQL too when ABIS_TEST_DATABASE_URL is set)
	$(BIN)/ruff check service matcher schemas tests
	$(BIN)/mypy
	$(BIN)/pytest

.PHONY: help install run test
