"""Running the site in separate processes, on PostgreSQL (VIFSITE_TEST_POSTGRES_URL) or a SQLite file.

Without VIFSITE_TEST_POSTGRES_URL (``.ci/run`` exports it), or without a reachable server, the
PostgreSQL fixture reports its tests skipped and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

POSTGRES_URL = os.environ.get("VIFSITE_TEST_POSTGRES_URL", "")


@pytest.fixture
def pg_url():
    if not POSTGRES_URL:
        pytest.skip("VIFSITE_TEST_POSTGRES_URL is not set: PostgreSQL tests not run")
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
    name = f"vifsite_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def manage(url: str, data_dir: Path, *args: str, check: bool = True, background: bool = False, timeout: int = 120):
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(data_dir),
           "DJANGO_SETTINGS_MODULE": "vifsite.settings"}
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
    if background:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stderr
    return result
