"""SQLite with connections kept for reuse in the process, and its write lock handed over in turn.

Django opens a database connection per thread and closes it when a request ends. Under ASGI every request
runs its synchronous part in a thread of its own, so every request opened a new SQLite connection: the
file, Django's thirty-odd SQL functions, the pragmas, about 2 ms, more than many views. Here a closed
connection goes back to a small pool of the process instead (rolled back first if a transaction was left
open), and the next thread to connect takes it. In-memory databases are never pooled (closing one destroys
it), nor are connections inherited from a parent process (SQLite's handles must not cross a fork).

SQLite lets one writer in at a time. A transaction that finds the database locked sleeps in SQLite's busy
handler (1, 2, 5, 10... ms) and tries again, so under load writers wait longer than the lock is held and a
late one may overtake an early one. The threads of one process queue on a lock of the process instead
before they begin a write transaction (the site's transactions begin IMMEDIATE), and each is woken as the
one before commits or rolls back; other processes (the task workers) still meet SQLite's busy handler."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from django.db.backends.sqlite3 import base

POOL_SIZE = 8  # idle connections kept per database (a web process runs VIFSITE_WEB_CONCURRENCY requests at once)

_lock = threading.Lock()
_pools: dict[tuple[int, str], list[sqlite3.Connection]] = {}
_writers: dict[tuple[int, str], threading.Lock] = {}


def _writer_lock(key: tuple[int, str]) -> threading.Lock:
    with _lock:
        return _writers.setdefault(key, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _writing: threading.Lock | None = None  # the process's writer lock, while this connection's transaction runs

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

    def _start_transaction_under_autocommit(self) -> None:
        key = self._pool_key()
        if key is not None and self._writing is None:
            lock = _writer_lock(key)
            # No longer than SQLite itself would wait; past that, SQLite's busy handler decides as before.
            if lock.acquire(timeout=float(self.settings_dict.get("OPTIONS", {}).get("timeout", 5))):
                self._writing = lock
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._end_writing()
            raise

    def _end_writing(self) -> None:
        lock, self._writing = self._writing, None
        if lock is not None:
            lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._end_writing()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._end_writing()

    def _close(self) -> None:
        try:
            self._close_or_keep()
        finally:
            self._end_writing()

    def _close_or_keep(self) -> None:
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
