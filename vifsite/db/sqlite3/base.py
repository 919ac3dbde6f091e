"""SQLite with its write lock handed over in turn.

SQLite lets one writer in at a time. A transaction that finds the database locked sleeps in SQLite's busy
handler (1, 2, 5, 10... ms) and tries again, so under load writers wait longer than the lock is held and a
late one may overtake an early one. The threads of one process queue on a lock of the process instead
before they begin a write transaction (the site's transactions begin IMMEDIATE), and each is woken as the
one before commits or rolls back; other processes (the task workers) still meet SQLite's busy handler.
In-memory databases (the tests') are left to SQLite."""

from __future__ import annotations

import os
import threading

from django.db.backends.sqlite3 import base

_lock = threading.Lock()
_writers: dict[tuple[int, str], threading.Lock] = {}


def _writer_lock(key: tuple[int, str]) -> threading.Lock:
    with _lock:
        return _writers.setdefault(key, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    _writing: threading.Lock | None = None  # the process's writer lock, while this connection's transaction runs

    def _writer_key(self) -> tuple[int, str] | None:
        if self.is_in_memory_db():
            return None
        return os.getpid(), str(self.settings_dict["NAME"])

    def _start_transaction_under_autocommit(self) -> None:
        key = self._writer_key()
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
            super()._close()  # type: ignore[misc]
        finally:
            self._end_writing()
