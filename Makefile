# Every command bootstraps .venv from requirements.txt first (a fresh machine needs only Python 3.11).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: venv run test bench clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py bootstrap_demo
	bash scripts/serve.sh

test: venv
	$(PY) -m pytest

bench: venv
	$(PY) -m bench.sections

clean:
	rm -rf $(VENV) .pytest_cache
