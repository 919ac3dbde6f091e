#!/usr/bin/env bash
# Serve the site: the web server (uvicorn, ASGI) and the django-q2 cluster, started and stopped together
# by vifsite/runner.py (Ctrl-C, or SIGTERM to this process or its group, stops both within 5 s).
# The local demo speaks plain http on 127.0.0.1, so the HTTPS-only defaults of DEBUG-off are lifted.
set -u
cd "$(dirname "$0")/.."
export VIFSITE_HTTPS="${VIFSITE_HTTPS:-false}"
exec .venv/bin/python -m vifsite.runner --port "${PORT:-8000}"
