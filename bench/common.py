"""What the benchmarks share: the environment (var/bench, SQLite), the 400x400x500 synthetic survey
(created once), an agent key, and the median timer."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("VIFSITE_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vifsite.settings")
os.environ.setdefault("VIFSITE_HTTPS", "false")  # in-process requests over plain http, as make run serves
os.environ.pop("DATABASE_URL", None)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from seismic.models import Survey  # noqa: E402
from vifsite.vif.models import AgentKey  # noqa: E402

SIZE = os.environ.get("BENCH_SIZE", "400x400x500")


def median_ms(fn, runs: int, *, warm: bool = False, before=None) -> float:
    """The median of ``runs`` timed calls of ``fn`` in ms; ``warm`` makes one untimed call first,
    ``before`` runs untimed before each call (to reopen a handle for a cold read, say)."""
    if warm:
        fn()
    timings = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def bench_survey() -> Survey:
    """The migrated bench database's synthetic survey of SIZE, made the first time."""
    setup_test_environment()
    call_command("migrate", verbosity=0)
    name = f"bench {SIZE}"
    survey = Survey.objects.filter(name=name).first()
    if survey is None:
        print(f"Creating the {SIZE} synthetic survey (once; kept in {os.environ['VIFSITE_DATA_DIR']})...")
        call_command("make_synthetic_survey", name=name, size=SIZE, seed=11)
        survey = Survey.objects.get(name=name)
    return survey


def agent_key(name: str) -> str:
    """A fresh agent key called ``name`` (the previous one of that name deleted)."""
    AgentKey.objects.filter(name=name).delete()
    return AgentKey.objects.create_key(name=name)[1]
