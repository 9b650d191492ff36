# Hub & Spoke — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
SIM_RATE ?= 6
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint bench install dev sysdeps db demo clean test-unit test-app test-browser run-postgres
.PHONY: run-roles test-fast run-cluster

## run: set everything up (virtualenv, install, database, demo data) and serve the app on SQLite
run: install db
	@echo "Serving on http://localhost:$(PORT) — the live simulator runs beside it; Ctrl-C stops both."
	@$(PY) -m loaders simulate --rate $(SIM_RATE) & sim=$$!; \
	trap 'kill $$sim 2>/dev/null; wait $$sim 2>/dev/null' EXIT INT TERM; \
	$(PY) -m dashboard.ui.serve --server.port $(PORT) --server.headless true

## run-postgres: the same on a local PostgreSQL server (installed, created in data/postgres and started on
## PG_PORT; stopped again on exit, its data kept). DEMO_ITEMS=10000000 loads a ten-million-item organisation.
PG_PORT ?= 5433
DEMO_ITEMS ?= 150000
run-postgres: install sysdeps
	@url=$$($(PY) -m loaders.localpg start --port $(PG_PORT)) || exit 2; \
	export DASHBOARD_DATABASE_URL=$$url; \
	trap '$(PY) -m loaders.localpg stop --port $(PG_PORT)' EXIT; \
	$(PY) -m loaders init && $(PY) -m loaders demo --work-items $(DEMO_ITEMS) || exit 2; \
	echo "Serving on http://localhost:$(PORT) against $$url — Ctrl-C stops the app, the simulator and PostgreSQL."; \
	$(PY) -m loaders simulate --rate $(SIM_RATE) & sim=$$!; \
	trap 'kill $$sim 2>/dev/null; wait $$sim 2>/dev/null; $(PY) -m loaders.localpg stop --port $(PG_PORT)' EXIT INT TERM; \
	$(PY) -m dashboard.ui.serve --server.port $(PORT) --server.headless true

## run-cluster: REPLICAS app processes (default 2) behind HAProxy on PORT, against the local PostgreSQL of
## run-postgres, with the live simulator once beside them; all on 127.0.0.1, all stopped together on Ctrl-C.
## HAProxy's configuration: deploy/haproxy.cfg.template; how it works: docs/deployment.md.
REPLICAS ?= 2
run-cluster: install sysdeps
	@url=$$($(PY) -m loaders.localpg start --port $(PG_PORT)) || exit 2; \
	export DASHBOARD_DATABASE_URL=$$url; \
	trap 'trap - EXIT; $(PY) -m loaders.localpg stop --port $(PG_PORT)' EXIT INT TERM; \
	$(PY) -m loaders init && $(PY) -m loaders demo --work-items $(DEMO_ITEMS) || exit 2; \
	$(PY) -m loaders.cluster --replicas $(REPLICAS) --port $(PORT) --simulate-rate $(SIM_RATE)

## run-roles: the same with real sign-in against a local mock identity provider (loopback only) that lists an admin,
## an executive, a hub lead and two spoke leads to sign in as; Ctrl-C stops the app, the provider and the simulator.
## Who sees what: docs/roles.md.
IDP_PORT ?= 9400
run-roles: dev db
	@$(PY) -m loaders.roles --port $(PORT) --idp-port $(IDP_PORT) --simulate-rate $(SIM_RATE)

install: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

dev: $(VENV)/.dev-installed
$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

## sysdeps: Debian packages the tests need (headless Chromium, PostgreSQL server, HAProxy for run-cluster)
sysdeps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
			|| ! { command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null; then \
		echo "Installing chromium, postgresql and haproxy (Debian packages)…"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium postgresql haproxy >/dev/null; \
	fi

## db: create or upgrade the schema and load the demo organisation (idempotent)
db: install
	$(PY) -m loaders init
	$(PY) -m loaders demo

demo: install
	$(PY) -m loaders demo

## test: install everything and run the whole suite (unit on SQLite + PostgreSQL, AppTest, browser), one test file
## per worker process (TEST_WORKERS, default: the machine's cores)
TEST_WORKERS ?= auto
test: dev sysdeps lint
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile tests

## test-fast: the edit-run loop: unit and AppTest tests on SQLite, without PostgreSQL, browser and slow ones
test-fast: dev
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) -m "not postgresql and not browser and not slow" tests

## lint: ruff on all Python code, the layer contract (import-linter), mypy on the typed core (pyproject.toml)
lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test-unit: dev sysdeps
	$(PY) -m pytest -q tests/unit
test-app: dev
	$(PY) -m pytest -q tests/app
test-browser: dev sysdeps
	$(PY) -m pytest -q tests/browser

## bench: run the benchmarks; prints each figure beside its floor and writes bench/results.json
bench: dev sysdeps
	$(PY) -m bench

clean:
	rm -rf $(VENV) data/*.db data/*.db-*
