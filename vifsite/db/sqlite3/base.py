"""SQLite with connections kept for reuse in the process.

Django opens a database connection per thread and closes it when a request ends. Under ASGI every request
runs its synchronous part in a thread of its own, so every request opened a new SQLite connection: the
file, Django's thirty-odd SQL functions, the pragmas, about 2 ms, more than many views. Here a closed
connection goes back to a small pool of the process instead (rolled back first if a transaction was left
open), and the next thread to connect takes it. In-memory databases are never pooled (closing one destroys
it), nor are connections inherited from a parent process (SQLite's handles must not cross a fork)."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

POOL_SIZE = 8  # idle connections kept per database (a web process runs VIFSITE_WEB_CONCURRENCY requests at once)

_lock = threading.Lock()
_pools: dict[tuple[int, str], list[sqlite3.Connection]] = {}


class DatabaseWrapper(base.DatabaseWrapper):
    def _pool_key(self) -> tuple[int, str] | None:
        if self.is_in_memory_db():
            return None
        return os.getpid(), str(self.settings_dict["NAME"])

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        key = self._pool_key()
        if key is not None:
            with _lock:
                idle = _pools.get(key)
                if idle:
                    return idle.pop()
        return super().get_new_connection(conn_params)

    def _close(self) -> None:
        connection, key = self.connection, self._pool_key()
        if connection is None or key is None:
            return super()._close()  # type: ignore[misc]
        try:
            if connection.in_transaction:
                connection.rollback()
            reusable = not connection.in_transaction
        except sqlite3.Error:
            reusable = False
        if reusable:
            with _lock:
                idle = _pools.setdefault(key, [])
                if len(idle) < POOL_SIZE:
                    idle.append(connection)
                    return None
        return super()._close()  # type: ignore[misc]


def idle_connections(name: str) -> int:
    """How many connections to the database file ``name`` wait in this process's pool."""
    with _lock:
        return len(_pools.get((os.getpid(), str(name)), []))


def close_idle() -> None:
    """Close this process's idle connections (tests; a process about to exit)."""
    with _lock:
        pooled = [connection for key, idle in _pools.items() if key[0] == os.getpid() for connection in idle]
        for key in [key for key in _pools if key[0] == os.getpid()]:
            del _pools[key]
    for connection in pooled:
        connection.close()
