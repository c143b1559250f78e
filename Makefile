# 村治 Cunzhi — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Python dependencies come pinned, with hashes, from the lock files (regenerate them with `make lock`)
LOCK := requirements.lock
TEST_LOCK := requirements-test.lock
FRONTEND := frontend
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public $(FRONTEND)/scripts $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/package.json $(FRONTEND)/tsconfig*.json -type f 2>/dev/null)
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

.PHONY: run test install test-install frontend chromium postgres-client lint test-backend test-frontend test-e2e bench lock clean

run: install frontend ## install, build the PWA if its sources changed, migrate, load the demo, serve on :8000
	CUNZHI_DEMO=$${CUNZHI_DEMO:-1} $(VENV)/bin/cunzhi serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: test-install frontend chromium lint test-backend test-frontend test-e2e ## the whole suite

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml $(LOCK) | $(PY)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(TEST_LOCK) $(VENV)/.installed
	$(PY) -m pip install -q --require-hashes -r $(TEST_LOCK)
	touch $@

lock: | $(PY) ## pin pyproject.toml's dependencies (with hashes) into the lock files, with uv
	$(PY) -m pip install -q 'uv>=0.4'
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes \
		--no-header --quiet -o $(TEST_LOCK)
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
		--no-header --quiet -c $(TEST_LOCK) -o $(LOCK)

install: $(VENV)/.installed
test-install: $(VENV)/.test-installed

$(FRONTEND)/node_modules/.package-lock.json: $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(FRONTEND)/dist/index.html: $(FRONTEND_SOURCES) $(FRONTEND)/node_modules/.package-lock.json
	cd $(FRONTEND) && npm run build
	touch $@

frontend: $(FRONTEND)/dist/index.html

chromium: ## the browser tests need Chromium: install Debian's when we are root, else say how
	@if [ -x "$(CHROMIUM_PATH)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Chromium not found at $(CHROMIUM_PATH): install it (sudo apt-get install chromium) or set CHROMIUM_PATH." >&2; exit 1; fi

lint: test-install $(FRONTEND)/node_modules/.package-lock.json ## ruff + mypy (backend), eslint (frontend)
	$(VENV)/bin/ruff check backend tests bench migrations
	$(VENV)/bin/mypy
	cd $(FRONTEND) && npm run lint

postgres-client: ## with CUNZHI_TEST_POSTGRES_URL the backup/restore tests need pg_dump: install Debian's when root
	@if [ -z "$$CUNZHI_TEST_POSTGRES_URL" ] || command -v pg_dump >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; \
	else echo "pg_dump not found: install the PostgreSQL client (sudo apt-get install postgresql-client)." >&2; exit 1; fi

test-backend: test-install postgres-client ## backend on SQLite, and on PostgreSQL when CUNZHI_TEST_POSTGRES_URL is set
	$(PY) -m pytest tests --ignore=tests/e2e -q -p no:cacheprovider -n $${CUNZHI_TEST_WORKERS:-auto} --durations=10

test-frontend: $(FRONTEND)/node_modules/.package-lock.json ## type-check (incl. the API contract) and vitest
	cd $(FRONTEND) && npm run type-check && npm test

test-e2e: test-install frontend chromium
	$(PY) -m pytest tests/e2e -q -p no:cacheprovider

bench: test-install frontend chromium ## server and phone benchmarks (see bench/README.md)
	bash bench/run_all.sh
	$(PY) bench/frontend/run.py --cases 5000 --runs 5

clean:
	rm -rf $(VENV) $(FRONTEND)/node_modules $(FRONTEND)/dist
