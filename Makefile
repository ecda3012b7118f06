# Visio: `make run` starts the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
export PATH := $(CURDIR)/$(BIN):$(PATH)
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_TELEMETRY_ENABLED := false

.PHONY: run test lint migrate demo chromium clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	mkdir -p data
	$(BIN)/alembic upgrade head

demo: migrate
	$(BIN)/python -m visio.demo

run: demo
	@echo "Visio on http://localhost:$(PORT)"
	$(BIN)/reflex run --env prod --single-port --backend-port $(PORT)

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: $(VENV)/.installed chromium
	$(BIN)/pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check visio tests

clean:
	rm -rf .web .states data/visio.db*
