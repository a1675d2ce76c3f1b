# Pinboard: two commands on a fresh machine.
#   make run   set up, migrate, load demo data, serve at http://$(HOST):$(PORT)
#   make test  set up and run the whole suite (lint, unit, view and browser tests)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8000
UV_VERSION := 0.13.9
VENV := .venv
UV := .tools/bin/uv
PY := $(VENV)/bin/python
# Sets DATABASE_URL: the configured server if it answers, else a project-local one (see the script).
# A plain assignment (not `export X=$$(...)`) so a failure stops the recipe.
USE_DATABASE = DATABASE_URL=$$(.ci/ensure-postgres); export DATABASE_URL

.PHONY: help install browser run test lint format migrate clean

help:
	@echo "make run    - set up, migrate, load demo data and serve at http://$(HOST):$(PORT)"
	@echo "make test   - set up and run lint plus the whole test suite (browser tests included)"
	@echo "make format - apply ruff formatting and autofixes"

# The pinned uv lives in its own venv so `uv sync` never removes itself from .venv.
$(UV):
	@python_bin=$$(.ci/find-python); \
	  "$$python_bin" -m venv .tools && .tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python "$$(.ci/find-python)"
	@touch $@

install: $(VENV)/.synced

browser:
	@.ci/ensure-chromium

migrate: install
	@$(USE_DATABASE); \
	  $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py createcachetable

# The site and its task worker (notifications, emails, push, data downloads): Ctrl-C stops both.
run: migrate
	@$(USE_DATABASE); \
	  $(PY) manage.py seed_demo; \
	  $(PY) manage.py db_worker --reload --interval 0.25 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  echo "Pinboard at http://$(HOST):$(PORT)/ (task worker: pid $$worker)"; \
	  $(VENV)/bin/uvicorn pinboard.asgi:application --reload --host "$(HOST)" --port "$(PORT)" \
	    --reload-dir pinboard --reload-dir accounts --reload-dir messaging --reload-dir templates

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install browser lint
	@$(USE_DATABASE); \
	  REDIS_TEST_URL=$$(.ci/ensure-redis); export REDIS_TEST_URL; \
	  $(PY) manage.py makemigrations --check --dry-run > /dev/null && \
	  $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf .venv .tools media staticfiles .pytest_cache test-results
