# griddesk: `make demo` runs the product, `make test` runs the checks. Each sets up .venv itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo screenshot hub test lint typecheck pytest bench clean i18n

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The desktop extra too: the wallboard's tests draw the real wall (offscreen), none skipped.
	$(BIN)/python -m pip install --quiet -e '.[test,desktop]'
	touch $(STAMP)

# The scripted day on an embedded hub (fresh SQLite file, demo city) with the console on it,
# opening at the day's busy moment; q or Ctrl+C quits and removes what it wrote.
# E.g. make demo DEMO_ARGS="--scenario storm-night --speed 60", or DEMO_ARGS="--from start".
DEMO_ARGS ?=
demo: $(STAMP)
	$(BIN)/griddesk demo $(DEMO_ARGS)

# The README's picture: the first screen `make demo` shows (normal-day at its opening, in
# Chinese, at 200×50), drawn headless by the real console on the real demo hall.
SCREENSHOT := docs/demo-board.svg
screenshot: $(STAMP)
	$(BIN)/griddesk demo --lang zh_CN --size 200x50 --screenshot $(SCREENSHOT)

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
	$(BIN)/python -m bench.hall_seed --cache
	$(BIN)/python -m bench.commands_sqlite
	$(BIN)/python -m bench.intake_wire
	$(BIN)/python -m bench.restart
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.resync
	$(BIN)/python -m bench.ticker
	$(BIN)/python -m bench.console_start
	$(BIN)/python -m bench.ssh_bytes
	$(BIN)/python -m bench.console_board
	$(BIN)/python -m bench.console_soak
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.wall_frames --seconds 30
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m bench.wall_frames --seconds 30 --cases 100000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Compile the gettext catalogs (console/locale/*/LC_MESSAGES/griddesk.po → .mo).
i18n: $(STAMP)
	$(BIN)/python -m console.i18n
