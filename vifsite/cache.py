"""The site's Redis cache backend: Django's, with one connection pool per process.

Django keeps a cache object per thread and per asynchronous context (``CacheHandler`` stores them in an
asgiref ``Local``), and its Redis client keeps its connection pool on that object. A request served under
ASGI runs in a fresh copy of the server's context, so each request made a new cache object, a new pool and a
new TCP connection to Redis, dropped at the end of the request (Django ticket #35651): under load the web
processes spent about 8 % of their time connecting to Redis. Here the pools live in the process, keyed by
the server and the pool's options, so every request of every thread borrows from the same pool.
redis-py's pools are thread-safe and start afresh in a forked child.
"""

from __future__ import annotations

import threading
from typing import Any

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
