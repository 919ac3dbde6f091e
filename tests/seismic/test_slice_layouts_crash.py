"""A queued import whose worker is killed while VDSCopy adds the slice layouts: VDSCopy dies with it, the sweep
removes both partial volumes, and the retry imports the survey with its slice layouts. Real ``manage.py
qcluster`` processes on a SQLite file (the machinery of test_import_crash.py), killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

from seismic import services
from tests.seismic import test_import_crash as crash
from tests.seismic.test_import_crash import Cluster, _job, _queue, _running, _volumes, _wait

pytestmark = crash.pytestmark
site = crash.site  # its module's fixture: a migrated site on a SQLite file and a 375 MB SEG-Y


def _copying(data_dir: Path, job_id: int) -> dict | None:
    """The job once its VDSCopy runs and has written part of the copy with slice layouts."""
    job = _job(data_dir, job_id)
    if job["status"] != "running" or not job["tool_pid"]:
        return None
    try:
        command = Path(f"/proc/{job['tool_pid']}/cmdline").read_bytes()
    except OSError:
        return None
    copies = list((data_dir / "surveys").glob("*.vds.slices.partial"))
    if b"VDSCopy" in command and copies and copies[0].stat().st_size > 1 << 20:
        return job
    return None


def test_a_worker_killed_while_adding_slice_layouts_leaves_nothing_and_the_retry_succeeds(site, capsys):
    url, data_dir, big = site
    cluster = Cluster(url, data_dir)
    try:
        job_id = _queue(url, data_dir, big, "sliced")
        job = _wait("VDSCopy to run", lambda: _copying(data_dir, job_id), timeout=60)
        assert job["attempts"] == 1 and job["progress"] >= services.SEGYIMPORT_PROGRESS_SHARE  # SEGYImport's done
        assert _volumes(data_dir) == [f"sliced-import{job_id}-1.vds.partial",
                                      f"sliced-import{job_id}-1.vds.slices.partial"]
        tool = job["tool_pid"]
        started = time.monotonic()
        os.kill(job["worker_pid"], signal.SIGKILL)
        _wait("VDSCopy to die with its worker", lambda: not _running(tool), timeout=5)
        died_in = time.monotonic() - started
        done = _wait("the retry to finish", lambda: (j := _job(data_dir, job_id))["status"] in ("succeeded", "failed")
                     and j, timeout=90)
        with capsys.disabled():
            print(f"\n[kill test] VDSCopy died {died_in:.2f} s after its worker; the retry took "
                  f"{time.monotonic() - started:.1f} s")
    finally:
        cluster.kill()
    assert done["status"] == "succeeded" and done["attempts"] == 2, done
    assert "Attempt 1: the worker running this import" in done["log"] and "Slice layouts added in" in done["log"]
    assert _volumes(data_dir) == [f"sliced-import{job_id}-2.vds"]
    with sqlite3.connect(data_dir / "db.sqlite3", timeout=20) as db:
        assert db.execute("SELECT slice_layouts FROM seismic_survey WHERE id = ?", (done["survey_id"],)).fetchone() \
            == (1,)
