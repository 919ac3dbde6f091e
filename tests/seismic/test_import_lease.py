"""The lease of a running import and the sweep that takes back a job whose worker stopped.

The crash itself (real workers killed with SIGKILL) is in test_import_crash.py; these set up the rows and
files a crash leaves and run the sweep on them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from seismic import import_jobs, services
from seismic.models import Survey, SurveyImport
from vifsite import childproc


@pytest.fixture(autouse=True)
def survey_dir(tmp_path, settings) -> None:
    settings.VIFSITE_SURVEY_DIR = tmp_path / "surveys"  # job ids start again in each test: so do the volumes


@pytest.fixture
def upload(tmp_path, segy_dir) -> Path:
    path = tmp_path / "6f1c.sgy"
    path.write_bytes((segy_dir / "f3.sgy").read_bytes())
    return path


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def _stopped_job(upload: Path, *, attempts: int, silent_for_s: float = 0.0, host: str = "elsewhere",
                 pid: int = 4242) -> SurveyImport:
    """A running job as a dead worker leaves it, with its partial volume on disk."""
    job = SurveyImport.objects.create(name="f3 upload", source_path=str(upload), original_filename="f3.sgy",
                                      status="running", attempts=attempts, worker_host=host, worker_pid=pid,
                                      heartbeat_at=timezone.now() - timedelta(seconds=silent_for_s), progress=40)
    final = import_jobs.import_volume_path(job, attempts)
    final.parent.mkdir(parents=True, exist_ok=True)
    final.with_name(final.name + ".partial").write_bytes(b"half a volume")
    return job


def _volumes(job: SurveyImport) -> list[str]:
    return sorted(p.name for p in import_jobs.import_volume_path(job, 1).parent.iterdir())


@pytest.mark.django_db
def test_a_job_silent_past_its_lease_is_retried_once_and_succeeds(upload, settings,
                                                                  django_capture_on_commit_callbacks):
    job = _stopped_job(upload, attempts=1, silent_for_s=settings.VIFSITE_IMPORT_LEASE_S + 1)
    with django_capture_on_commit_callbacks(execute=True):  # the retry runs at once (synchronous django-q2)
        assert import_jobs.survey_import_sweep() == [job.pk]
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2 and job.survey.name == "f3 upload"
    assert "Attempt 1: the worker running this import (pid 4242 on elsewhere) stopped (no heartbeat for over" in job.log
    assert _volumes(job) == [f"f3-upload-import{job.pk}-2.vds"]
    assert job.survey.vds_url == str(import_jobs.import_volume_path(job, 2))


@pytest.mark.django_db
def test_a_job_with_a_fresh_heartbeat_is_left_alone(upload):
    job = _stopped_job(upload, attempts=1, silent_for_s=5)
    assert import_jobs.survey_import_sweep() == []
    job.refresh_from_db()
    assert job.status == "running" and job.worker_pid == 4242
    assert _volumes(job) == [f"f3-upload-import{job.pk}-1.vds.partial"]


@pytest.mark.django_db
def test_a_job_whose_worker_process_is_gone_is_failed_after_its_retry_without_waiting_for_the_lease(upload):
    host, _ = import_jobs.this_worker()
    job = _stopped_job(upload, attempts=2, host=host, pid=_dead_pid())
    final = import_jobs.import_volume_path(job, 2)
    final.write_bytes(b"a finished volume nobody registered")
    assert import_jobs.survey_import_sweep() == [job.pk]
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert job.error == ("The worker running this import stopped (its process ended: killed, out of memory, or past "
                         "the task timeout); retried once.")
    assert _volumes(job) == [] and not upload.exists()
    assert import_jobs.survey_import_sweep() == []  # done: nothing more to take back


@pytest.mark.django_db
def test_a_job_whose_worker_died_after_registering_the_survey_is_completed(upload, settings):
    job = _stopped_job(upload, attempts=1, silent_for_s=settings.VIFSITE_IMPORT_LEASE_S + 1)
    survey = services.survey_import_segy(path=upload, name=job.name, display_name="f3.sgy",
                                         volume_path=import_jobs.import_volume_path(job, 1))
    assert import_jobs.survey_import_sweep() == [job.pk]
    job.refresh_from_db()
    assert job.status == "succeeded" and job.survey == survey and job.attempts == 1
    assert _volumes(job) == [f"f3-upload-import{job.pk}-1.vds"] and Survey.objects.count() == 1


@pytest.mark.django_db(transaction=True)  # the lease's thread has its own connection: rows must be committed
def test_the_lease_is_renewed_and_a_worker_whose_job_was_taken_back_is_told(settings):
    settings.VIFSITE_IMPORT_LEASE_S = 2
    host, pid = import_jobs.this_worker()
    old = timezone.now() - timedelta(seconds=30)
    job = SurveyImport.objects.create(name="x", source_path="/nowhere", status="running", attempts=1,
                                      worker_host=host, worker_pid=pid, heartbeat_at=old)
    lost = threading.Event()
    with import_jobs.Lease(job.pk, 1, on_lost=lost.set) as lease:
        deadline = time.monotonic() + 5
        while SurveyImport.objects.get(pk=job.pk).heartbeat_at == old and time.monotonic() < deadline:
            time.sleep(0.05)
        assert SurveyImport.objects.get(pk=job.pk).heartbeat_at > old
        SurveyImport.objects.filter(pk=job.pk).update(worker_pid=pid + 1)  # what a sweep's claim does
        assert lost.wait(5) and lease.lost.is_set()


def test_a_child_dies_with_the_process_that_started_it(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    script = ("import sys, time; from vifsite import childproc; "
              "child = childproc.spawn(['sleep', '60']); print(child.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    child = int(parent.stdout.readline())
    try:
        assert childproc.alive(child) and os.getpgid(child) == child  # its own process group
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 3
        while childproc.alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not childproc.alive(child)
    finally:
        if childproc.alive(child):
            os.kill(child, signal.SIGKILL)
