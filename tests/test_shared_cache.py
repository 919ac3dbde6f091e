"""Several web processes share one cache when REDIS_URL is set: an agent's rate limit holds across them
instead of multiplying by the number of processes. Each process keeps one pool of Redis connections for all
its requests (vifsite/cache.py), where Django's backend made a pool, and a connection, per request.

Needs VIFSITE_TEST_REDIS_URL (``.ci/run`` exports it); without it, or without a reachable server, the
test reports itself skipped and why.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests
from django.core.cache import CacheHandler

from tests.processes import free_port, manage, redis_or_skip, web_server

pytestmark = pytest.mark.slow

RATE = 6


@pytest.fixture
def redis_url():
    return redis_or_skip("the shared cache")


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


def test_cache_objects_of_one_process_share_one_connection_pool(redis_url):
    config = {"default": {"BACKEND": "vifsite.cache.RedisCache", "LOCATION": redis_url, "KEY_PREFIX": "pool-test"}}
    # What Django does for each request's context: a new handler state, a new cache object.
    first, second = CacheHandler(config)["default"], CacheHandler(config)["default"]
    assert first is not second
    first.set("shared", 41)
    assert second.incr("shared") == 42
    pools = {id(c._cache._get_connection_pool(write)) for c in (first, second) for write in (True, False)}
    assert len(pools) == 1
    other = CacheHandler({"default": {**config["default"], "OPTIONS": {"socket_timeout": 3}}})["default"]
    assert id(other._cache._get_connection_pool(True)) not in pools  # other options, another pool
    first.delete("shared")


def test_a_web_process_reuses_its_redis_connections_across_requests(redis_url, tmp_path):
    import redis

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage(url, tmp_path, "migrate", "--noinput", "-v", "0")
    key = manage(url, tmp_path, "create_agent_key", f"pooled-{uuid.uuid4().hex[:8]}", "--expires", "1"
                 ).stdout.strip().splitlines()[-1]
    env = {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(tmp_path), "REDIS_URL": redis_url,
           "VIFSITE_API_RATE": "1000/min", "DJANGO_SETTINGS_MODULE": "vifsite.settings",
           "VIFSITE_CACHE_PREFIX": f"pool-{uuid.uuid4().hex[:8]}"}
    port = free_port()
    server = web_server(env, port)
    admin = redis.Redis.from_url(redis_url)
    try:
        with requests.Session() as session:  # one client, one keep-alive connection, requests one at a time
            session.get(f"http://127.0.0.1:{port}/api/v1/surveys/", headers={"Authorization": f"Api-Key {key}"},
                        timeout=30)  # the process's first connections
            before = admin.info("stats")["total_connections_received"]
            codes = [session.get(f"http://127.0.0.1:{port}/api/v1/surveys/",
                                 headers={"Authorization": f"Api-Key {key}"}, timeout=30).status_code
                     for _ in range(40)]
            opened = admin.info("stats")["total_connections_received"] - before
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert codes == [200] * 40
    # Each request uses the cache (its rate limit); Django's backend opened a connection for every one of them.
    assert opened <= 4, f"{opened} Redis connections opened for 40 requests"
