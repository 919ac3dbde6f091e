"""The API's rate limit (vifsite.vif.auth.PrincipalRateThrottle over vifsite.cache.rate_log_take): DRF's
sliding window, counted atomically, in the process or in Redis (VIFSITE_TEST_REDIS_URL)."""

from __future__ import annotations

import threading
import uuid

import pytest

from tests.processes import redis_or_skip
from vifsite import cache as site_cache
from vifsite.vif.auth import PrincipalRateThrottle


def _use_redis(settings) -> None:
    location = redis_or_skip("the Redis rate log")
    settings.CACHES = {"default": {"BACKEND": "vifsite.cache.RedisCache", "LOCATION": location,
                                   "KEY_PREFIX": f"rate-{uuid.uuid4().hex[:8]}"}}


@pytest.fixture(params=["process", "redis"])
def backend(request, settings):
    if request.param == "redis":
        _use_redis(settings)
    return request.param


def test_concurrent_requests_are_each_counted_once(backend):
    key, allowed = f"throttle_test_{uuid.uuid4().hex}", []
    start = threading.Barrier(16)

    def client() -> None:
        start.wait()
        for _ in range(10):
            allowed.append(site_cache.rate_log_take(key, 50, 60)[0])

    threads = [threading.Thread(target=client) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Reading the log, appending and writing it back (DRF's way) lets racing requests overwrite each other's.
    assert allowed.count(True) == 50 and len(allowed) == 160
    assert site_cache.rate_log_take(key, 50, 60)[:2] == (False, 50)


def test_the_window_slides_and_refused_requests_are_not_logged():
    clock = [1000.0]
    key = f"throttle_test_{uuid.uuid4().hex}"

    def take() -> tuple[bool, int, float, float]:
        return site_cache.rate_log_take(key, 3, 60, timer=lambda: clock[0])

    for t in (0, 1, 2):
        clock[0] = 1000.0 + t
        assert take() == (True, t + 1, 1000.0, 1000.0 + t)
    clock[0] = 1030.0
    assert take() == (False, 3, 1000.0, 1030.0)  # refused, and not counted
    clock[0] = 1060.0  # the first request is exactly a window old: it no longer counts
    assert take() == (True, 3, 1001.0, 1060.0)
    clock[0] = 1200.0
    assert take() == (True, 1, 1200.0, 1200.0)


def test_the_redis_log_follows_the_servers_clock_and_expires(settings):
    from django.core.cache import caches

    _use_redis(settings)
    key = f"throttle_test_{uuid.uuid4().hex}"
    allowed, count, oldest, now = site_cache.rate_log_take(key, 2, 60)
    assert (allowed, count) == (True, 1) and oldest == now
    assert site_cache.rate_log_take(key, 2, 60)[:2] == (True, 2)
    refused = site_cache.rate_log_take(key, 2, 60)
    assert refused[:3] == (False, 2, oldest) and 0 <= refused[3] - oldest < 5
    client = caches["default"]._cache.get_client(write=True)
    full_key = caches["default"].make_and_validate_key(key + site_cache.LOG_SUFFIX)
    assert client.zcard(full_key) == 2 and 0 < client.ttl(full_key) <= 61


def test_the_redis_log_never_meets_a_history_drf_left_under_the_throttles_key(settings):
    from django.core.cache import caches

    _use_redis(settings)
    key = f"throttle_principal_{uuid.uuid4().hex}"
    caches["default"].set(key, [1.0, 2.0], 60)  # DRF's history, from a process of the version before
    assert site_cache.rate_log_take(key, 5, 60)[:2] == (True, 1)
    assert caches["default"].get(key) == [1.0, 2.0]  # and that process still reads its own


def test_the_api_answers_429_with_retry_after_once_the_rate_is_spent(backend, db, monkeypatch):
    from rest_framework.test import APIClient

    from vifsite.vif.models import AgentKey

    _, key = AgentKey.objects.create_key(name=f"limited-{uuid.uuid4().hex[:8]}")  # a log of its own
    agent = APIClient()
    agent.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    monkeypatch.setattr(PrincipalRateThrottle, "rate", "2/min", raising=False)
    assert [agent.get("/api/v1/surveys/").status_code for _ in range(2)] == [200, 200]
    refused = agent.get("/api/v1/surveys/")
    assert refused.status_code == 429 and "throttled" in refused.json()["detail"].lower()
    assert 55 <= int(refused["Retry-After"]) <= 60
