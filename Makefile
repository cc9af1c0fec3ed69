# Kindred: `make run` serves the demo forum, `make test` runs every test on both engines.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
E2E := tests/e2e
NODE_STAMP := $(E2E)/node_modules/.installed
export PICCOLO_CONF := forum.piccolo_conf
CODE := $(wildcard forum moderation search) tests bench

.PHONY: run test test-sqlite test-postgres test-browser lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when a package is added too: editable installs map packages at install time.
$(STAMP): pyproject.toml $(wildcard */__init__.py) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# axe-core for the accessibility tests, exactly as package-lock.json pins it.
$(NODE_STAMP): $(E2E)/package.json $(E2E)/package-lock.json
	npm ci --prefix $(E2E) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

run: $(STAMP)
	$(BIN)/kindred init
	$(BIN)/kindred demo --if-empty
	$(BIN)/kindred serve --host 127.0.0.1 --port 8000

# Both passes run side by side (two cores); each prints its own summary.
test: $(STAMP) $(NODE_STAMP)
	@$(BIN)/ruff check $(CODE)
	@$(BIN)/ruff format --check $(CODE)
	@bash scripts/test-both.sh

test-sqlite: $(STAMP) $(NODE_STAMP)
	KINDRED_TEST_DB=sqlite $(BIN)/python -m pytest $(ARGS)

test-postgres: $(STAMP) $(NODE_STAMP)
	KINDRED_TEST_DB=postgres $(BIN)/python -m pytest $(ARGS)

test-browser: $(STAMP) $(NODE_STAMP)
	KINDRED_TEST_DB=sqlite $(BIN)/python -m pytest -m browser $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check $(CODE)

format: $(STAMP)
	$(BIN)/ruff format $(CODE)
	$(BIN)/ruff check --fix $(CODE)

bench: $(STAMP)
	$(BIN)/python bench/thread_page.py

clean:
	rm -rf $(VENV) var .pytest_cache $(E2E)/node_modules
