"""The site's Redis cache backend: Django's, with one connection pool per process; and the sliding logs the API's
rate limits count requests in.

Django keeps a cache object per thread and per asynchronous context (``CacheHandler`` stores them in an
asgiref ``Local``), and its Redis client keeps its connection pool on that object. A request served under
ASGI runs in a fresh copy of the server's context, so each request made a new cache object, a new pool and a
new TCP connection to Redis, dropped at the end of the request (Django ticket #35651): under load the web
processes spent about 8 % of their time connecting to Redis. Here the pools live in the process, keyed by
the server and the pool's options, so every request of every thread borrows from the same pool.
redis-py's pools are thread-safe and start afresh in a forked child.

``rate_log_take`` is DRF's throttle history (the times of the requests allowed in the last ``window`` seconds)
made atomic and constant in size on the wire. DRF reads the whole list from the cache, appends, and writes it
back: two requests at once both read the old list and one of them goes uncounted (16 threads × 10 requests
on one key limited to 50: 91 got through), and each request moved and unpickled the whole list (10,000
timestamps at 150 requests a second under a high rate). In Redis the log is a sorted set trimmed, counted and
appended by one script (Redis 5 or later), timed by the Redis server's clock (one clock for every web host);
with the process's own cache (the default single-process mode) it is a deque under a lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

_POOLS: dict[tuple[Any, ...], Any] = {}
_POOLS_LOCK = threading.Lock()


class SharedPoolRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write: bool) -> Any:
        client: Any = self  # django-stubs leave out the client's private attributes
        index = client._get_connection_pool_index(write)
        server, pool_class, options = client._servers[index], client._pool_class, client._pool_options
        key = (pool_class, server, repr(sorted(options.items())))
        pool = _POOLS.get(key)
        if pool is None:
            with _POOLS_LOCK:
                pool = _POOLS.get(key)
                if pool is None:
                    pool = _POOLS[key] = pool_class.from_url(server, **options)
        return pool


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient

    def rate_log_take(self, key: str, limit: int, window: float) -> tuple[bool, int, float, float]:
        """See ``rate_log_take``; the log is the sorted set at ``key`` (prefixed as the cache's keys are)."""
        client = self._cache.get_client(key, write=True)
        allowed, count, oldest, now = _rate_script(client)(
            keys=[self.make_and_validate_key(key + LOG_SUFFIX)], args=[window, limit, uuid.uuid4().hex])
        return bool(allowed), int(count), float(oldest), float(now)


# Drop what left the window, count, append if under the limit; the server's clock in seconds. Scores and the
# times returned are strings: Redis would truncate a Lua number to an integer.
_RATE_LOG_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now - window))
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], string.format('%.6f', now), ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2] or string.format('%.6f', now)
return {allowed, count, oldest, string.format('%.6f', now)}
"""
_scripts: dict[int, Any] = {}


def _rate_script(client: Any) -> Any:
    pool_id = id(client.connection_pool)
    script = _scripts.get(pool_id)
    if script is None:
        script = _scripts[pool_id] = client.register_script(_RATE_LOG_LUA)
    return script


# The sorted set lives beside DRF's own history key (a pickled list), never in it: a process of an older
# version reading the other's value would fail on its type.
LOG_SUFFIX = ":log"

_logs: dict[str, deque[float]] = {}
_logs_lock = threading.Lock()
_calls = 0


def rate_log_take(key: str, limit: int, window: float, *,
                  timer: Callable[[], float] = time.time) -> tuple[bool, int, float, float]:
    """Count a request against the log at ``key``: at most ``limit`` requests in any ``window`` seconds.
    Returns (allowed, requests in the window now, the oldest one's time, now); a refused request is not
    logged (as DRF's throttle). In Redis when the cache is Redis, else in this process."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        return backend.rate_log_take(key, limit, window)
    global _calls
    with _logs_lock:
        now = timer()  # under the lock: the log stays in time order
        _calls += 1
        if _calls % 1000 == 0:  # forget the logs of principals gone quiet
            for quiet in [k for k, log in _logs.items() if not log or log[-1] <= now - window]:
                del _logs[quiet]
        log = _logs.setdefault(key, deque())
        while log and log[0] <= now - window:
            log.popleft()
        allowed = len(log) < limit
        if allowed:
            log.append(now)
        return allowed, len(log), (log[0] if log else now), now
