# Every command bootstraps .venv from requirements.txt first (a fresh machine needs only Python 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: venv browser run test typecheck bench clean

$(STAMP): requirements.txt package-lock.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@# The section plot's plotly.js partial bundle (pinned in package-lock.json); without npm the site serves
	@# the full plotly.js of the plotly wheel instead.
	@if command -v npm >/dev/null 2>&1; then npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	  else echo "npm not found: the section plot uses the full plotly.js bundle"; fi
	@touch $(STAMP)

venv: $(STAMP)

# Browser tests drive Debian's Chromium with Playwright (no browser download of Playwright's own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	      echo "Could not install chromium: the browser tests will report themselves skipped."; \
	  else \
	    echo "chromium is not installed (needs root and apt): the browser tests will report themselves skipped."; \
	  fi; }

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py bootstrap_demo
	bash scripts/serve.sh

# Lint first (under a second), then the type check, then the suite.
test: venv browser
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

typecheck: venv
	$(PY) -m mypy

bench: venv
	$(PY) -m bench.sections
	$(PY) -m bench.cloud
	$(PY) -m bench.layouts
	$(PY) -m bench.growth
	$(PY) -m bench.witnesses
	$(PY) -m bench.tools
	$(PY) -m bench.mcp
	$(PY) -m bench.item_page
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || true
	$(PY) -m bench.load

clean:
	rm -rf $(VENV) .pytest_cache
