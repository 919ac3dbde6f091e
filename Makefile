# Every command bootstraps .venv from requirements.txt first (a fresh machine needs only Python 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: venv browser run test bench clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
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

test: venv browser
	$(PY) -m pytest

bench: venv
	$(PY) -m bench.sections
	$(PY) -m bench.witnesses
	$(PY) -m bench.tools
	$(PY) -m bench.mcp

clean:
	rm -rf $(VENV) .pytest_cache
