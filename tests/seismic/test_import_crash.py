"""A worker killed during an import: real ``manage.py qcluster`` processes on a SQLite file, killed with SIGKILL.

django-q2's process tree: the ``qcluster`` process starts a sentinel, which starts the workers, a monitor and
a pusher, and starts a new worker in place of one that died. SEGYImport is a worker's child in its own
process group, so killing the cluster's group does not reach it: only its tie to the worker can.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
from django.conf import settings

from tests.processes import manage

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"),
                                                   reason="needs /proc and PR_SET_PDEATHSIG (Linux)")]

T = TypeVar("T")
COPIES = 100  # penobscot_xl1155's 601 traces of 1501 samples, 100 times: 375 MB, a few seconds of SEGYImport


def _env(url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "VIFSITE_DATA_DIR": str(data_dir),
            "DJANGO_SETTINGS_MODULE": "vifsite.settings", "VIFSITE_HTTPS": "false", "VIFSITE_Q_WORKERS": "1"}


def _tile(source: Path, target: Path, copies: int) -> None:
    """A 3D survey from a 2D line: copy k is inline k, the line's inline numbers become crosslines."""
    raw = source.read_bytes()
    traces = np.frombuffer(raw[3600:], dtype=np.uint8).reshape(601, 240 + 1501 * 4).copy()
    traces[:, 192:196] = traces[:, 188:192]
    with open(target, "wb") as out:
        out.write(raw[:3600])
        for inline in range(1, copies + 1):
            traces[:, 188:192] = np.frombuffer(inline.to_bytes(4, "big"), dtype=np.uint8)
            out.write(traces.tobytes())


@pytest.fixture(scope="module")
def site(tmp_path_factory, segy_dir) -> Iterator[tuple[str, Path, Path]]:
    """A migrated site on a SQLite file, and a big SEG-Y beside it (removed afterwards: a GB in all)."""
    data_dir = tmp_path_factory.mktemp("crash")
    url = f"sqlite:///{data_dir / 'db.sqlite3'}"
    manage(url, data_dir, "migrate", "--noinput")
    big = data_dir / "big.sgy"
    _tile(segy_dir / "penobscot_xl1155.sgy", big, COPIES)
    yield url, data_dir, big
    for path in [big, *data_dir.glob("*/*.sgy"), *data_dir.glob("surveys/*.vds*")]:
        path.unlink(missing_ok=True)


class Cluster:
    """``manage.py qcluster`` in its own process group, its output in a file (a pipe nobody reads fills up)."""

    def __init__(self, url: str, data_dir: Path) -> None:
        self.log = data_dir / f"cluster-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "qcluster"],
                                            env=_env(url, data_dir), stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self) -> None:
        """The crash: SIGKILL to every process of the cluster at once."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def _queue(url: str, data_dir: Path, big: Path, name: str) -> int:
    uploads = data_dir / "uploads"
    uploads.mkdir(exist_ok=True)
    source = uploads / f"{name}.sgy"
    os.link(big, source)  # the upload, as survey_import_queue stores it (no 375 MB copy)
    script = ("from django_q.tasks import async_task; from seismic.models import SurveyImport; "
              f"job = SurveyImport.objects.create(name={name!r}, source_path={str(source)!r}, "
              "original_filename='big survey.sgy'); "
              "async_task('seismic.tasks.survey_import_run', job.pk, task_name=f'import survey {job.pk}'); "
              "print(job.pk)")
    return int(manage(url, data_dir, "shell", "-v", "0", "-c", script).stdout.strip())


def _job(data_dir: Path, job_id: int) -> dict:
    with sqlite3.connect(data_dir / "db.sqlite3", timeout=20) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM seismic_surveyimport WHERE id = ?", (job_id,)).fetchone()
    return dict(row)


def _wait(what: str, check: Callable[[], T | None | bool], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _running(pid: int) -> bool:
    """Running, as /proc says: a zombie (killed, not reaped by an init that may never reap) is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except FileNotFoundError:
        return False
    return stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")


def _importing(data_dir: Path, job_id: int, attempt: int) -> dict | None:
    """The job once SEGYImport runs for this attempt and has written part of the volume."""
    job = _job(data_dir, job_id)
    if job["status"] == "running" and job["attempts"] == attempt and job["tool_pid"] and job["progress"] > 0:
        return job
    return None


def _kill_and_time_tool(job: dict, kill: Callable[[], None]) -> float:
    tool = job["tool_pid"]
    assert b"SEGYImport" in Path(f"/proc/{tool}/cmdline").read_bytes() and _running(tool)
    assert _running(job["worker_pid"])
    started = time.monotonic()
    kill()
    _wait("SEGYImport to die with its worker", lambda: not _running(tool), timeout=5)
    return time.monotonic() - started


def _volumes(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "surveys").glob("*.vds*"))


def test_a_killed_worker_takes_segyimport_with_it_and_its_import_is_retried(site, capsys):
    url, data_dir, big = site
    cluster = Cluster(url, data_dir)
    try:
        job_id = _queue(url, data_dir, big, "retried")
        job = _wait("the import to run", lambda: _importing(data_dir, job_id, 1), timeout=30)
        assert f"retried-import{job_id}-1.vds.partial" in _volumes(data_dir)
        died_in = _kill_and_time_tool(job, lambda: os.kill(job["worker_pid"], signal.SIGKILL))
        # The sentinel starts a worker in place of the dead one; starting, it sweeps: the worker's process is
        # gone, so the job is taken back at once and retried.
        started = time.monotonic()
        done = _wait("the retry to finish", lambda: (j := _job(data_dir, job_id))["status"] in ("succeeded", "failed")
                     and j, timeout=40)
        with capsys.disabled():
            print(f"\n[kill test] SEGYImport died {died_in:.2f} s after its worker; "
                  f"retry succeeded {time.monotonic() - started:.1f} s later")
    finally:
        cluster.kill()
    assert done["status"] == "succeeded" and done["attempts"] == 2, done
    assert "Attempt 1: the worker running this import" in done["log"] and "Retrying." in done["log"]
    assert "Source big survey.sgy:" in done["log"] and str(data_dir) not in done["log"]
    assert _volumes(data_dir) == [f"retried-import{job_id}-2.vds"]


def test_a_crashed_cluster_leaves_no_orphan_and_its_import_fails_after_one_retry(site, capsys):
    url, data_dir, big = site
    for leftover in (data_dir / "surveys").glob("*.vds*"):
        leftover.unlink()
    first = Cluster(url, data_dir)
    try:
        job_id = _queue(url, data_dir, big, "crashed")
        job = _wait("the import to run", lambda: _importing(data_dir, job_id, 1), timeout=30)
        first_death = _kill_and_time_tool(job, first.kill)
    finally:
        first.kill()
    # Nothing ran to notice: the job still says running, the partial volume is on disk.
    assert _job(data_dir, job_id)["status"] == "running"
    assert _volumes(data_dir) == [f"crashed-import{job_id}-1.vds.partial"]

    second = Cluster(url, data_dir)  # its worker sweeps as it starts: retry
    try:
        job = _wait("the retry to run", lambda: _importing(data_dir, job_id, 2), timeout=30)
        assert _volumes(data_dir) == [f"crashed-import{job_id}-2.vds.partial"]
        second_death = _kill_and_time_tool(job, second.kill)
    finally:
        second.kill()

    started = time.monotonic()
    out = manage(url, data_dir, "sweep_imports").stdout
    with capsys.disabled():
        print(f"\n[kill test] SEGYImport died {first_death:.2f} s and {second_death:.2f} s after its cluster; "
              f"sweep command took {time.monotonic() - started:.1f} s")
    assert f"Took back 1 import(s): {job_id}" in out
    job = _job(data_dir, job_id)
    assert job["status"] == "failed" and job["attempts"] == 2
    assert job["error"].startswith("The worker running this import stopped (its process ended")
    assert job["error"].endswith("retried once.")
    assert _volumes(data_dir) == []
    assert not Path(job["source_path"]).exists()  # a failed import's upload is removed, as on any failure
