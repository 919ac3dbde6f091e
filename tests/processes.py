"""Running the site in separate processes, on PostgreSQL (VIFSITE_TEST_POSTGRES_URL) or a SQLite file.

Without VIFSITE_TEST_POSTGRES_URL (``.ci/run`` exports it), or without a reachable server, the
PostgreSQL fixture reports its tests skipped and why.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


REDIS_URL = os.environ.get("VIFSITE_TEST_REDIS_URL", "")


def redis_or_skip(what: str) -> str:
    """VIFSITE_TEST_REDIS_URL once its server answers; otherwise the test is skipped, saying that ``what`` is
    not tested and why."""
    if not REDIS_URL:
        pytest.skip(f"VIFSITE_TEST_REDIS_URL is not set: {what} is not tested")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001  any failure to reach the server skips, with the reason
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


def manage(url: str, data_dir: Path, *args: str, check: bool = True, background: bool = False, timeout: int = 120):
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(data_dir),
           "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_HTTPS": "false"}
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args]
    if background:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_server(env: dict[str, str], port: int) -> subprocess.Popen:
    """The site's web server as ``make run`` starts it (``python -m vifsite.serve``), once it listens."""
    process = subprocess.Popen([sys.executable, "-m", "vifsite.serve", "--port", str(port), "--no-access-log"],
                               cwd=settings.BASE_DIR, env={"VIFSITE_HTTPS": "false", **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(150):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the web server did not start: {process.stderr.read().decode()[-2000:]}")


@contextmanager
def demo_site(data: Path) -> Iterator[dict]:
    """The site as ``make run`` makes it (migrate, bootstrap_demo, collectstatic) on a SQLite file in ``data``,
    served by ``web_server``: yields its base URL, database URL, data directory and the printed passwords."""
    url = f"sqlite:///{data / 'db.sqlite3'}"
    manage(url, data, "migrate", "--noinput", "-v", "0")
    printed = manage(url, data, "bootstrap_demo", timeout=600).stdout
    passwords = dict(re.findall(r"^\s+(admin|reviewer2?|senior)\s+(\S+)$", printed, re.MULTILINE))
    manage(url, data, "collectstatic", "--noinput", "-v", "0")
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(data), "VIFSITE_Q_SYNC": "true",
           "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_DEBUG": "false"}
    port = free_port()
    process = web_server(env, port)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "url": url, "data": data, "passwords": passwords}
    finally:
        process.terminate()
        process.wait(timeout=10)
