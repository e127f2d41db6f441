# uprtrax developer commands (GNU make). `make` alone lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
PORT ?= 8000
PYTEST_ARGS ?=
# Defaults for `make test` and `make bench` only (never for `make run`): the environment overrides them.
TEST_DATABASE_URL := postgres://postgres@127.0.0.1:5432/uprtrax
TEST_REDIS_URL := redis://127.0.0.1:6379/15

.PHONY: help run test lint format lock bench clean

help: ## List the commands
	@echo "uprtrax: make <command>"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-7s %s\n", $$1, $$2}'

# --- Environment -------------------------------------------------------------------------------------------

# The first Python that runs of: python3.13 on PATH, pyenv's 3.13, python3.12 on PATH, pyenv's 3.12.
# (A pyenv shim is on PATH even where its version is not selected, hence the check that it runs.)
$(PY):
	@py=""; \
	for candidate in python3.13 /root/.pyenv/versions/3.13*/bin/python3.13 \
	                 python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do \
	    if command -v "$$candidate" >/dev/null 2>&1 \
	       && "$$candidate" -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 13), (3, 12)))' 2>/dev/null; \
	    then py="$$candidate"; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	    echo "error: no Python 3.13 (nor 3.12) found: install python3.13 (or put it on PATH) and run make again." >&2; \
	    exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
	"$$py" -m venv $(VENV)

# Stamp files: dependencies are installed again only when a lock file (or pyproject.toml) changed.
$(VENV)/.installed-run: $(LOCK) pyproject.toml | $(PY)
	$(PIP) install --quiet --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) pyproject.toml | $(PY)
	$(PIP) install --quiet --require-hashes -r $(DEV_LOCK)
	$(PIP) install --quiet --no-deps -e .
	@touch $@

# --- Commands ----------------------------------------------------------------------------------------------

# SQLite unless DATABASE_URL is set; no broker, so Celery tasks run in the web process (there is no worker here).
run: $(VENV)/.installed-run ## Serve a demo site on http://127.0.0.1:PORT/ (PORT=8000; SQLite, demo data, admin login printed)
	@export DJANGO_DEBUG=1; \
	unset REDIS_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND; \
	echo "Database: $${DATABASE_URL:-SQLite, db.sqlite3}"; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py demo_setup --port $(PORT); \
	exec $(PY) manage.py runserver 127.0.0.1:$(PORT)

define CHECK_SERVICES
import os, sys, urllib.parse
import psycopg, redis
failed = False
db = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
if db.scheme.startswith(("postgres", "pgsql")):
    where = f"{db.hostname}:{db.port or 5432}"
    try:
        psycopg.connect(host=db.hostname, port=db.port or 5432, user=db.username, password=db.password,
                        dbname="postgres", connect_timeout=3).close()
    except psycopg.Error as exc:
        failed = True
        print(f"error: PostgreSQL at {where} does not answer ({str(exc).strip()}).\n"
              f"  Start it, or point DATABASE_URL at one.", file=sys.stderr)
url = os.environ["REDIS_URL"]
where = urllib.parse.urlsplit(url).netloc.rpartition("@")[2]
try:
    redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
except redis.RedisError as exc:
    failed = True
    print(f"error: Redis at {where} does not answer ({exc}).\n  Start it, or point REDIS_URL at one.", file=sys.stderr)
sys.exit(1 if failed else 0)
endef
export CHECK_SERVICES

# Browser tests need /usr/bin/chromium: without it they skip, except under CI where they must fail.
test: $(VENV)/.installed-dev ## Run the whole test suite on PostgreSQL and Redis (DATABASE_URL, REDIS_URL)
	@export DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}"; \
	case "$${CI:-}" in ""|0|false|no) ;; *) export UPRTRAX_REQUIRE_BROWSER=1 ;; esac; \
	$(PY) -c "$$CHECK_SERVICES"; \
	[ -x /usr/bin/chromium ] || echo "note: /usr/bin/chromium is missing: browser tests will not run."; \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev ## ruff check, ruff format --check, and no missing migration
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.installed-dev ## Fix what ruff can fix, then format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: | $(PY) ## Regenerate requirements.lock and requirements-dev.lock from pyproject.toml (uv)
	@uv="$$(command -v uv || true)"; \
	if [ -z "$$uv" ]; then \
	    tmp="$${TMPDIR:-/tmp}/uprtrax-uv"; \
	    if [ ! -x "$$tmp/bin/uv" ]; then $(PY) -m venv "$$tmp" && "$$tmp/bin/pip" install --quiet uv; fi; \
	    uv="$$tmp/bin/uv"; \
	fi; \
	set -x; \
	"$$uv" pip compile pyproject.toml --python-version 3.13 --generate-hashes --quiet -o $(LOCK); \
	"$$uv" pip compile pyproject.toml --extra dev --python-version 3.13 --generate-hashes --quiet -o $(DEV_LOCK)

# Every bench/*.py but helpers (_*.py); each prints its own figures. Same database and Redis as the tests.
bench: $(VENV)/.installed-dev ## Run the benchmarks in bench/
	@shopt -s nullglob; files=(bench/[!_]*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "No benchmark in bench/."; exit 0; fi; \
	export DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
	       DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-bench-only-not-a-secret}" DJANGO_HTTPS=0 DJANGO_STATIC_MANIFEST=0 \
	       PYTHONPATH="$(CURDIR)"; \
	$(PY) -c "$$CHECK_SERVICES"; \
	for f in "$${files[@]}"; do echo "=== $$f"; $(PY) "$$f"; done

clean: ## Remove caches and build output (keeps .venv, db.sqlite3 and bench results)
	rm -rf staticfiles build .pytest_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
