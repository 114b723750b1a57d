# Casework: `make run` to try it, `make test` to check it. Needs only Python 3.11+ and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PG_URL ?= postgres://postgres@127.0.0.1:5432/casework
PG_REACHABLE = $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null

.PHONY: run test lint types migrations-check test-sqlite test-postgres faults install demo bench audit clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	DEBUG=1 $(BIN)/python manage.py migrate --verbosity 0
	DEBUG=1 $(BIN)/python manage.py seed_demo --if-empty
	@echo "\nCasework is at http://127.0.0.1:8000  (Ctrl+C stops it and the background worker)\n"
	DEBUG=1 $(BIN)/python manage.py db_worker --interval 2 & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

demo: install
	rm -f casework.sqlite3
	DEBUG=1 $(BIN)/python manage.py migrate --verbosity 0
	DEBUG=1 $(BIN)/python manage.py seed_demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check casework e2e bench reliability

types: install
	CASEWORK_TESTING=1 $(BIN)/mypy casework

migrations-check: install
	CASEWORK_TESTING=1 $(BIN)/python manage.py makemigrations --check --dry-run

# The browser tests (e2e/) drive the pages, not the database: they run once, on PostgreSQL (the
# production engine) when it is reachable, else here on SQLite. Everything else runs on both.
test-sqlite: install
	@if $(PG_REACHABLE); then echo "SQLite run: the browser tests run in the PostgreSQL run"; \
		$(BIN)/pytest -q -n 2 --durations=15 -m "not e2e"; \
	else $(BIN)/pytest -q -n 2 --durations=15; fi

test-postgres: install
	@if $(PG_REACHABLE); then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -n 2 --durations=15 --create-db; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable at $(PG_URL); CI needs it." >&2; exit 1; \
	else echo "PostgreSQL not reachable at $(PG_URL): skipping the PostgreSQL run (set PG_URL to use another server)."; fi

test: lint types migrations-check test-sqlite test-postgres faults

# kill -9 of the app server and the worker mid-work, PostgreSQL restarted under load, on a private
# PostgreSQL cluster it makes itself (docs/RELIABILITY.md).
faults: install
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null; then \
		timeout -k 30 900 $(BIN)/python reliability/faults.py; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL's server programs (initdb) are missing; CI needs them." >&2; exit 1; \
	else echo "PostgreSQL's server programs (initdb) are not installed: skipping the fault scripts."; fi

# Known vulnerabilities in the installed packages (needs PyPI's JSON API). --strict fails when a
# package could not be checked, instead of passing silently. Not part of `make test` yet.
audit: install
	$(BIN)/pip-audit --skip-editable --strict

bench: install
	$(BIN)/python bench/pages.py --clients 2000

clean:
	rm -rf $(VENV) staticfiles casework.sqlite3 .mypy_cache .ruff_cache
