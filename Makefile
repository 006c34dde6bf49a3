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

# Until the scripted demo lands (issue 4): a hub with the demo city on a fresh SQLite file in
# the background and a commander's console on it; quitting the console stops the hub and
# removes the files. The console reconnects by itself, so it may start before the hub listens.
DEMO_LISTEN ?= 127.0.0.1:8765
demo: $(STAMP)
	@d=$$(mktemp -d) && db="sqlite:///$$d/demo.db" && \
	$(BIN)/griddesk operator add 值班指挥长 --role commander --db "$$db" > "$$d/token" 2>/dev/null && \
	{ $(BIN)/griddesk hub --demo-city --db "$$db" --listen $(DEMO_LISTEN) 2> "$$d/hub.log" & hub=$$!; } && \
	trap 'kill $$hub 2>/dev/null; wait $$hub 2>/dev/null; rm -rf "$$d"' EXIT INT TERM && \
	$(BIN)/griddesk console --hub ws://$(DEMO_LISTEN) --token-file "$$d/token"

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
	$(BIN)/python -m bench.commands_sqlite
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.resync
	$(BIN)/python -m bench.console_list
	$(BIN)/python -m bench.console_start

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Compile the gettext catalogs (console/locale/*/LC_MESSAGES/griddesk.po → .mo).
i18n: $(STAMP)
	$(BIN)/python -m console.i18n
