"""Database plumbing: SQLite's writers in turn (sqlite3/), lookups and inserts compiled once (compiled.py), and
PostgreSQL's connection pools kept to the process that opened them (below)."""

from __future__ import annotations

import os
import sys

# What a forked child took from its parent and must neither use nor let go: releasing a pool runs its
# finaliser, which takes locks of the parent's pool threads (one may have been held at the fork). Kept for the
# child's life, so nothing of them runs there.
_inherited: list[object] = []


def _forget_inherited_pools() -> None:
    """In a forked child: set aside the PostgreSQL connection pools (and a pooled connection held) inherited
    from the parent, so the child opens its own. The task workers' cluster forks its pusher, monitor and
    workers after returning its connections to the pool (``connections.close_all()``): every child then held
    the parent's pool and its open connections, and two processes talking on one connection read each other's
    answers ("the last operation didn't produce records"), a task lost now and then. Nothing is closed or
    released: closing would end the parent's sessions, and this also runs in a child about to exec another
    program (``preexec_fn``), where it must take no lock. Only when Django's PostgreSQL backend is loaded."""
    backend = sys.modules.get("django.db.backends.postgresql.base")
    pools = getattr(getattr(backend, "DatabaseWrapper", None), "_connection_pools", None)
    if not pools:
        return
    _inherited.append(dict(pools))
    pools.clear()
    from django.db import connections

    for wrapper in connections.all(initialized_only=True):
        if wrapper.vendor == "postgresql" and wrapper.connection is not None:
            _inherited.append(wrapper.connection)
            wrapper.connection = None


os.register_at_fork(after_in_child=_forget_inherited_pools)
