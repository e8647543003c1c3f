# The two commands: `make run` and `make test`. Everything else is a step they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
JS_STAMP := js/node_modules/.installed-stamp
BANNER := src/privacyops/web/static/consent/banner.js
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test setup js lint fmt test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# JavaScript: IAB's @iabgpp/cmpapi, pinned by js/package-lock.json (GPP cross-checks, banner).
$(JS_STAMP): js/package.json js/package-lock.json
	npm ci --prefix js --no-audit --no-fund
	touch $(JS_STAMP)

setup: $(STAMP)

# The consent banner: our script with IAB's CMP API bundled in, one static file.
$(BANNER): $(JS_STAMP) $(wildcard js/banner/*.js)
	npm run build --prefix js

js: $(JS_STAMP) $(BANNER)

## Serve the Privacy Center and admin console on the embedded default (SQLite, outbox mail).
run: setup js
	$(BIN)/privacyops setup
	$(BIN)/privacyops serve

## Lint, type-check, then the whole suite on SQLite and on PostgreSQL.
test: setup lint test-sqlite test-postgres

test-sqlite: setup js
	PRIVACYOPS_TEST_DATABASE_URL=sqlite $(BIN)/pytest -q -p no:cacheprovider

test-postgres: setup js
	PRIVACYOPS_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q -p no:cacheprovider

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: setup
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

## Benchmarks: each prints its ratio to a baseline measured in the same run.
bench: setup js
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var js/node_modules .mypy_cache .ruff_cache .pytest_cache
