#!/usr/bin/env bash
# Serve the site (daphne, ASGI) with the django-q2 cluster beside it; Ctrl-C stops both.
set -u
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
.venv/bin/python manage.py qcluster &
cluster=$!
trap 'kill "$cluster" 2>/dev/null; wait "$cluster" 2>/dev/null' EXIT INT TERM
echo "Serving on http://127.0.0.1:${PORT}/ (Ctrl-C to stop)"
.venv/bin/daphne -b 127.0.0.1 -p "$PORT" vifsite.asgi:application
