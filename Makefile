# Two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

.PHONY: install run test lint messages demo-reset clean bench

$(INSTALLED): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(INSTALLED)

install: $(INSTALLED) messages

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po
	msgfmt --check-format -o $@ $<

messages: $(MO_FILES)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	@echo
	@echo "Public site:  http://127.0.0.1:8000/"
	@echo "Staff admin:  http://127.0.0.1:8000/admin/   (demo logins above)"
	@echo "Health:       http://127.0.0.1:8000/healthz"
	@echo "Emails are written to var/mail/. Ctrl-C stops the web server, the worker and beat."
	@echo
	$(VENV)/bin/honcho --procfile Procfile.dev start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports

# Uses PostgreSQL when DATABASE_URL names it, or when one answers on 127.0.0.1:5432; SQLite otherwise,
# skipping (and listing) the tests that need PostgreSQL.
# axe-core for the browser tests' accessibility checks (tests/browser/test_accessibility.py, test_dashboard.py), outside the
# repository.
AXE := var/npm/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix var/npm --no-save --no-audit --no-fund axe-core@4 </dev/null

test: lint $(AXE)
	@if [ -z "$$DATABASE_URL" ] && $(PY) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		export DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal; \
	fi; \
	echo "Database for the tests: $${DATABASE_URL:-SQLite (PostgreSQL-only tests are skipped)}"; \
	$(PY) -m pytest $(PYTEST_ARGS)

# Performance benchmark (docs/performance.md): its own database portal_bench (portal_bench_national with
# SCALE=national), generated once and reused. Load scenarios need wrk (apt-get install -y wrk). Not part of `make test`.
SCALE ?= regional
bench: install
	$(PY) -m bench --scale $(SCALE) $(BENCH_ARGS)

demo-reset: install
	$(PY) manage.py demo --reset

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
