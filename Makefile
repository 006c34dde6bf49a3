# griddesk: `make demo` runs the product, `make test` runs the checks. Each sets up .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo hub test lint typecheck pytest bench clean i18n

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Until the demo mode lands (issue 4), the demo is the hub with the demo city loaded.
demo: $(STAMP)
	@echo "griddesk demo: hub with the demo city on a fresh SQLite file (console arrives with issue 3)"
	$(BIN)/griddesk hub --demo-city --db "sqlite+aiosqlite:///$$(mktemp -d)/demo.db"

hub: $(STAMP)
	$(BIN)/griddesk hub

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check dispatch hub backend_client
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/commands_sqlite.py
	$(BIN)/python bench/fanout.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Compile the gettext catalogs (console/locale/*/LC_MESSAGES/griddesk.po → .mo).
i18n: $(STAMP)
	$(BIN)/python -m console.i18n
