# Two commands: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
# Open connections each gunicorn worker holds at once (each open app keeps one long poll).
GUANJIA_WORKER_CONNECTIONS ?= 2000
FLASK := $(BIN)/flask --app server

.PHONY: run test bench install install-test migrate clean

# The venv is rebuilt when pyproject.toml changes.
$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

install-test: $(BIN)/.installed-test

migrate: install
	$(FLASK) db upgrade

# The notification worker runs beside the web server and stops with it. Open apps wait on a long
# poll (GET /api/v1/notifications): gevent workers make each waiting request a greenlet (a socket,
# not a thread), so two processes hold thousands of open apps while phones sync beside them.
# gunicorn patches the worker with gevent before it loads the app (docs/notifications.md).
run: migrate
	$(FLASK) seed-demo --if-empty
	$(FLASK) vapid-keys
	@echo "睿管家 Guanjia: http://$(HOST):$(PORT)/"
	$(FLASK) notify-worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) -k gevent --workers 2 \
		--worker-connections $(GUANJIA_WORKER_CONNECTIONS) --access-logfile - \
		--access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms' 'server:create_app()'

test: install-test
	node --test tests/js/
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed and memory of sync against raw floors (docs/benchmarks.md); the last line printed is JSON.
# BENCH_QUICK=1 for a short run; PostgreSQL too when GUANJIA_TEST_POSTGRES_URL is set.
# PostgreSQL is where the sync goals are judged (the database a growing community moves to): with
# no GUANJIA_TEST_POSTGRES_URL given, a throwaway server is started for the run when one is installed.
bench: install-test
	@if [ -z "$$GUANJIA_TEST_POSTGRES_URL" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  eval "$$(scripts/throwaway-postgres start)" && \
	  trap 'scripts/throwaway-postgres stop "$$PG_TMPDIR"' EXIT && \
	  $(BIN)/python -m bench; \
	else \
	  $(BIN)/python -m bench; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
