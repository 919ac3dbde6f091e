#!/usr/bin/env bash
# Serve the site (uvicorn, ASGI) with the django-q2 cluster beside it; Ctrl-C stops both.
# The local demo speaks plain http on 127.0.0.1, so the HTTPS-only defaults of DEBUG-off are lifted.
set -u
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
export VIFSITE_HTTPS="${VIFSITE_HTTPS:-false}"
.venv/bin/python manage.py qcluster &
cluster=$!
trap 'kill "$cluster" 2>/dev/null; wait "$cluster" 2>/dev/null' EXIT INT TERM
echo "Serving on http://127.0.0.1:${PORT}/ (Ctrl-C to stop)"
.venv/bin/python -m vifsite.serve --port "$PORT"
