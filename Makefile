# Two commands: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app server

.PHONY: run test bench load install install-test migrate clean

# The venv is installed from the hashed lock files (requirements/, written by scripts/lock from
# pyproject.toml), so every machine runs the same, verified packages; it is brought up to date when
# they change.
$(BIN)/.installed: pyproject.toml requirements/app.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/app.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# The test and load extras too: pytest, Playwright, Locust (make load), uv (scripts/lock).
$(BIN)/.installed-test: $(BIN)/.installed requirements/dev.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test

migrate: install
	$(FLASK) db upgrade

# The notification workers run beside the web server and stop with it. How gunicorn serves (gevent
# workers: an open app's long poll is a greenlet, a socket and not a thread; workers, access log) is
# in gunicorn.conf.py, which the load test reads too (docs/notifications.md).
# Plain http on this machine: the console's session cookie may not be Secure there (a browser would
# not send it back). Served on any other address, the cookie stays Secure: serve that over HTTPS.
LOOPBACK_HOST := $(filter 127.% localhost ::1,$(HOST))
# Notification workers: one per core (an emergency to every home of a community is their busiest
# moment: docs/benchmarks.md, "Emergencies"); they share the deliveries through their claims.
NOTIFY_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
run: export GUANJIA_SESSION_COOKIE_SECURE ?= $(if $(LOOPBACK_HOST),0,1)
run: migrate
	$(FLASK) seed-demo --if-empty
	$(FLASK) vapid-keys
	@echo "睿管家 Guanjia: http://$(HOST):$(PORT)/"
	workers=; for n in $$(seq $(NOTIFY_WORKERS)); do $(FLASK) notify-worker & workers="$$workers $$!"; done; \
	trap 'kill $$workers 2>/dev/null; wait $$workers' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) 'server:create_app()'

# The load harness's smoke test (tests/server/test_load_smoke.py) needs Locust, from the test install.
test: install-test
	node --test tests/js/
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed and memory of sync against raw floors (docs/benchmarks.md); the last line printed is JSON.
# BENCH_QUICK=1 for a short run; PostgreSQL too when GUANJIA_TEST_POSTGRES_URL is set.
# PostgreSQL is where the sync goals are judged (the database a growing community moves to): with
# no GUANJIA_TEST_POSTGRES_URL given, a throwaway server is started for the run when one is installed.
# The wire part (bench/wire.py; BENCH_ONLY=wire for it alone) times sync over HTTP against gunicorn as
# `make run` starts it, on a durable throwaway PostgreSQL of its own, beside the PouchDB peer benchmark
# (bench/pouchdb-peer, or BENCH_PEER; run with node after `npm ci`); without node, npm or the peer it fails.
# The photos part (bench/photos.py; BENCH_ONLY=photos) uploads photos to gunicorn the same way, on a durable
# throwaway PostgreSQL of its own: server CPU ÷ the bytes' time at 1 Mbit/s, a first sync with photos ÷ without.
bench: install-test
	@if [ -z "$$GUANJIA_TEST_POSTGRES_URL" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  eval "$$(scripts/throwaway-postgres start)" && \
	  trap 'scripts/throwaway-postgres stop "$$PG_TMPDIR"' EXIT && \
	  $(BIN)/python -m bench; \
	else \
	  $(BIN)/python -m bench; \
	fi

# Many phones at once against real gunicorn servers on a throwaway durable PostgreSQL (bench/load,
# docs/benchmarks.md#load). Traffic only to 127.0.0.1; bounded by LOAD_SECONDS and LOAD_MAX_REQUESTS.
# LOAD_SERVERS=2 for two app servers, LOAD_COMPARE=1 for one then two; the last line printed is JSON.
load: install-test
	$(BIN)/python -m bench.load

clean:
	rm -rf $(VENV) .pytest_cache
