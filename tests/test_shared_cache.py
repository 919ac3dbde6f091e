"""Several web processes share one cache when REDIS_URL is set: an agent's rate limit holds across them
instead of multiplying by the number of processes.

Needs VIFSITE_TEST_REDIS_URL (``.ci/run`` exports it); without it, or without a reachable server, the
test reports itself skipped and why.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests

from tests.processes import free_port, manage, web_server

pytestmark = pytest.mark.slow

REDIS_URL = os.environ.get("VIFSITE_TEST_REDIS_URL", "")
RATE = 6


@pytest.fixture
def redis_url():
    if not REDIS_URL:
        pytest.skip("VIFSITE_TEST_REDIS_URL is not set: the shared-cache test is not run")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001  any failure to reach the server skips, with the reason
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


def test_an_agents_rate_limit_holds_across_two_web_processes(redis_url, tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage(url, tmp_path, "migrate", "--noinput", "-v", "0")
    key = manage(url, tmp_path, "create_agent_key", f"limited-{uuid.uuid4().hex[:8]}", "--expires", "1"
                 ).stdout.strip().splitlines()[-1]
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url,
           "VIFSITE_API_RATE": f"{RATE}/min", "DJANGO_SETTINGS_MODULE": "vifsite.settings"}
    ports = [free_port(), free_port()]
    servers = [web_server(env, port) for port in ports]
    try:
        answers = [requests.get(f"http://127.0.0.1:{ports[i % 2]}/api/v1/surveys/",
                                headers={"Authorization": f"Api-Key {key}"}, timeout=30)
                   for i in range(2 * RATE)]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    codes = [a.status_code for a in answers]
    # Each process alone would allow RATE requests (2 × RATE in all); together they allow RATE.
    assert codes[:RATE] == [200] * RATE and set(codes[RATE:]) == {429}, codes
    assert "detail" in answers[-1].json()
