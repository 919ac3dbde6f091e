"""What the benchmarks share: the environment (var/bench, SQLite), the 400x400x500 synthetic survey
(created once), an agent key, and the median timer."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
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


# An OpenVDS tool is started from a small Python of its own: a child's peak memory (ru_maxrss) never reads below
# what its parent held when it forked, and a benchmark's process holds Django, numpy and often a cube.
_LAUNCHER = ("import json, os, subprocess, sys, time\n"
             "started = time.perf_counter()\n"
             "process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
             "_, status, usage = os.wait4(process.pid, 0)\n"
             "print(json.dumps([os.waitstatus_to_exitcode(status), time.perf_counter() - started, usage.ru_maxrss]))")


def run_tool(command: list[str]) -> tuple[float, float]:
    """Seconds and peak resident memory (MB) of one run of an OpenVDS tool."""
    output = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, check=True)
    code, elapsed, peak_kb = json.loads(output.stdout)
    if code != 0:
        raise SystemExit(f"{Path(command[0]).name} failed with status {code}")
    return elapsed, peak_kb / 1024


def drop_survey(name: str) -> None:
    """Remove the surveys of ``name`` and their volumes."""
    from seismic import vds

    for survey in Survey.objects.filter(name=name):
        vds.close(survey.vds_url)
        Path(survey.vds_url).unlink(missing_ok=True)
        survey.delete()
