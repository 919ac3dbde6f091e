"""Database plumbing: SQLite's writers in turn (sqlite3/), lookups and inserts compiled once (compiled.py), and
PostgreSQL's connection pools kept to the process that opened them (below)."""

from __future__ import annotations

import os


def _forget_inherited_pools() -> None:
    """In a forked child: drop the PostgreSQL connection pools (and a pooled connection held) inherited from
    the parent, so the child opens its own. The task workers' cluster forks its pusher, monitor and workers
    after returning its connections to the pool (``connections.close_all()``): every child then held the
    parent's pool and its open connections, and two processes talking on one connection read each other's
    answers ("the last operation didn't produce records"), a task lost now and then. Nothing is closed here:
    closing would end the parent's sessions, and psycopg never closes a connection from a process other
    than the one that opened it."""
    try:
        from django.db import connections
        from django.db.backends.postgresql.base import DatabaseWrapper
    except Exception:  # noqa: BLE001  before Django is set up, or without psycopg: nothing was pooled
        return
    pools = getattr(DatabaseWrapper, "_connection_pools", None)  # Django's, per process (but for forks)
    if pools:
        pools.clear()
    for wrapper in connections.all(initialized_only=True):
        if wrapper.vendor == "postgresql" and wrapper.settings_dict.get("OPTIONS", {}).get("pool"):
            wrapper.connection = None


os.register_at_fork(after_in_child=_forget_inherited_pools)
