# The two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Python 3.13 (3.12 accepted): pyenv's shim honours .python-version.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$p; break; }; done)

.PHONY: run test install install-dev lint format messages bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.13 (or 3.12) is required."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed

# axe-core for the accessibility checks of the browser tests (npm registry).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev node_modules/.package-lock.json

# Serve the demo on http://$(HOST):$(PORT) with the embedded SQLite database;
# with no broker configured, Celery runs tasks in-process.
run: export DJANGO_DEBUG ?= 1
# Links in e-mails and calendars point where the demo is served.
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/"
	$(BIN)/python manage.py serve $(HOST):$(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed is measured here (never by timers in tests): benchmarks/results.md, then the README.
# Scratch databases of 10 and 1,000 engagements (seed_bench): PostgreSQL at
# BENCH_DATABASE_URL, else a local one at 127.0.0.1:5432, else SQLite under var/.
# The measures run with DEBUG off. BENCH_ARGS=--quick for a smoke run.
bench: export DJANGO_DEBUG = 1
bench: install
	$(BIN)/python manage.py bench $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the French catalogue after changing user-facing text, translate the
# new entries in engagements/locale/fr/LC_MESSAGES/django.po, then compile.
messages: install-dev
	DJANGO_DEBUG=1 $(BIN)/python manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=tests --ignore=node_modules
	DJANGO_DEBUG=1 $(BIN)/python manage.py compilemessages -l fr --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles node_modules
