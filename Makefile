# Visio: `make run` starts the app with demo data, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 3000
export PATH := $(CURDIR)/$(BIN):$(PATH)
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_TELEMETRY_ENABLED := false

.PHONY: run test bench lint migrate demo user admin chromium wrk clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.installed
	mkdir -p data
	$(BIN)/alembic upgrade head

# Demo data into an empty database; in production only with VISIO_ALLOW_DEMO=true.
demo: migrate
	$(BIN)/python -m visio.demo

# The first teacher (or any account) of a real deployment: make user ROLE=teacher EMAIL=... NAME=...
user: migrate
	$(BIN)/python -m visio.users create --role "$(ROLE)" --email "$(EMAIL)" --name "$(NAME)"

# An admin account (the console at /admin): make admin EMAIL=... [NAME=...]
admin: migrate
	$(BIN)/python -m visio.admin create --email "$(EMAIL)" --name "$(NAME)"

# With REFLEX_REDIS_URL set, Reflex runs several workers sharing state in Redis
# (VISIO_WORKERS of them; Reflex's default is 2 per core + 1).
run: migrate
	$(BIN)/python -m visio.demo --auto
	@echo "Visio on http://localhost:$(PORT)"
	$(if $(VISIO_WORKERS),GRANIAN_WORKERS=$(VISIO_WORKERS)) $(BIN)/reflex run --env prod --single-port --backend-port $(PORT)

# A consistent copy of the database and the uploaded materials, taken while the app runs,
# under data/backups/ (VISIO_BACKUP_DIR); restore only into an empty database (not migrated).
.PHONY: backup restore
backup: $(VENV)/.installed
	$(BIN)/python -m visio.backup create

restore: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "usage: make restore FILE=data/backups/visio-<date>.tar.gz"; exit 2; }
	$(BIN)/python -m visio.backup restore "$(FILE)"

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@test -x /usr/bin/chromium || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Every test on the embedded default; then the HTTP and browser tests again in scale-out mode
# (PostgreSQL + Redis + 2 workers), which skip with the reason where those servers are missing.
test: $(VENV)/.installed chromium
	$(BIN)/pytest
	VISIO_TEST_BACKEND=scale $(BIN)/pytest tests/api tests/e2e

# wrk, the load generator of the API benchmark (without it bench falls back to a slower Python one).
wrk:
	@command -v wrk >/dev/null || { \
		echo "Installing wrk for the API load benchmark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

# Benchmarks against their floors (never part of `make test`): writes bench/results.md.
bench: $(VENV)/.installed chromium wrk
	$(BIN)/python -m bench

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check visio tests

clean:
	rm -rf .web .states data/visio.db*
