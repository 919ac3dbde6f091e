"""Queued SEG-Y imports that survive their worker's death.

A run claims its job with one conditional UPDATE (PENDING to RUNNING, one more attempt, this worker's
host and pid) and holds it under a lease: a thread renews ``heartbeat_at`` every quarter of
``VIFSITE_IMPORT_LEASE_S``, whatever phase the import is in (SEGYImport's scan prints nothing for a long
time, and hashing the volume afterwards reports no progress). SEGYImport, and VDSCopy adding slice layouts
after it, die with the worker (``childproc``).

The sweep (a django-q2 schedule each minute, and each time a worker starts) takes back a RUNNING job
whose heartbeat is older than the lease, or whose worker process on this host is gone (no need to wait
for the lease then): it kills SEGYImport (or VDSCopy) if it somehow still runs, removes the attempt's volume
and its partial files (named from the job id and attempt, so the sweep knows them) unless a survey was
registered from it, and then retries the job once; a job whose second worker stopped too is failed with the
reason. Every step is a conditional UPDATE on the job as it was seen, so concurrent sweeps, or a worker that
was only slow and comes back, never both act on one job: a worker that finds its lease taken kills its
SEGYImport (or VDSCopy) and writes nothing more.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Self

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from seismic import vds
from seismic.models import Survey, SurveyImport
from vifsite import childproc
from vifsite.errors import InputError

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # the first run, and one retry after its worker stopped
RUNNING = SurveyImport.Status.RUNNING


def this_worker() -> tuple[str, int]:
    return socket.gethostname()[:255], os.getpid()


def import_volume_path(job: SurveyImport, attempt: int) -> Path:
    """Where attempt ``attempt`` of ``job`` writes its volume (``….partial`` until SEGYImport is done)."""
    return Path(settings.VIFSITE_SURVEY_DIR) / f"{slugify(job.name)[:60] or 'survey'}-import{job.pk}-{attempt}.vds"


def _partial(final: Path) -> Path:
    """SEGYImport's volume; VDSCopy, adding slice layouts, reads it, so either tool's command line names it."""
    return final.with_name(final.name + ".partial")


def _partials(final: Path) -> tuple[Path, ...]:
    from seismic import services

    return services.import_partials(final)


def _held(job_id: int, attempt: int, host: str, pid: int) -> QuerySet[SurveyImport]:
    """The job, only while this attempt of this worker still holds it."""
    return SurveyImport.objects.filter(pk=job_id, status=RUNNING, attempts=attempt, worker_host=host, worker_pid=pid)


def _enqueue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("seismic.tasks.survey_import_run", job_id, task_name=f"import survey {job_id}")


class Lease:
    """Renews a running job's heartbeat from a thread; calls ``on_lost`` once if the job was taken back."""

    def __init__(self, job_id: int, attempt: int, on_lost: Callable[[], None]) -> None:
        self.job_id, self.attempt, self.on_lost = job_id, attempt, on_lost
        self.host, self.pid = this_worker()
        self.interval = max(0.5, settings.VIFSITE_IMPORT_LEASE_S / 4)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease of import {job_id}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    renewed = _held(self.job_id, self.attempt, self.host, self.pid).update(heartbeat_at=timezone.now())
                except Exception:  # the database away for a moment: the lease has slack for a few beats
                    logger.warning("Could not renew the lease of import %s", self.job_id, exc_info=True)
                    connections.close_all()  # this thread's: the next beat reconnects
                    continue
                if not renewed:
                    self.lost.set()
                    logger.warning("Import %s was taken back by the sweep; stopping this attempt", self.job_id)
                    self.on_lost()
                    return
        finally:
            connections.close_all()  # this thread's connections only


def survey_import_run(*, survey_import_id: int) -> None:
    """Run a queued import. Safe to deliver twice: only the first delivery claims the job."""
    from seismic import services

    host, pid = this_worker()
    claimed = SurveyImport.objects.filter(pk=survey_import_id, status=SurveyImport.Status.PENDING).update(
        status=RUNNING, attempts=F("attempts") + 1, heartbeat_at=timezone.now(), worker_host=host, worker_pid=pid,
        tool_pid=None)
    if not claimed:
        return
    job = SurveyImport.objects.get(pk=survey_import_id)
    attempt = job.attempts
    volume = import_volume_path(job, attempt)
    tool: list[int] = []

    def held() -> QuerySet[SurveyImport]:
        return _held(job.pk, attempt, host, pid)

    def progress(percent: float) -> None:
        held().update(progress=percent)

    def started(tool_pid: int) -> None:
        tool.append(tool_pid)
        held().update(tool_pid=tool_pid)

    def stop_tool() -> None:  # the lease was taken back: this attempt's SEGYImport, if it still runs, must stop
        if tool:
            childproc.kill_group(tool[-1], command_contains=str(_partial(volume)), wait_s=0)

    failure: Exception | None = None
    with Lease(job.pk, attempt, on_lost=stop_tool):
        try:
            survey = services.survey_import_segy(
                path=job.source_path, name=job.name, description=job.description, created_by=job.created_by,
                progress=progress, volume_path=volume, display_name=job.original_filename or "the uploaded file",
                started=started, **job.options)
        except Exception as exc:  # noqa: BLE001  (whatever went wrong fails the job, with its words)
            failure = exc
    # The lease has ended: the outcome is written only if this attempt still holds the job.
    if failure is not None:
        message = failure.message if isinstance(failure, InputError) else f"{type(failure).__name__}: {failure}"
        log = failure.details.get("log", "") if isinstance(failure, InputError) else ""
        if held().update(status=SurveyImport.Status.FAILED, error=message, log=(job.log + "\n" + log).strip(),
                         finished_at=timezone.now(), tool_pid=None):
            Path(job.source_path).unlink(missing_ok=True)
        return
    if not held().update(status=SurveyImport.Status.SUCCEEDED, progress=100.0, survey=survey,
                         log=(job.log + "\n" + survey.import_log).strip(), finished_at=timezone.now(),
                         tool_pid=None):
        logger.warning("Import %s registered survey %s after its lease was taken back", job.pk, survey.pk)


# --- The sweep ---------------------------------------------------------------------------------

def survey_import_sweep() -> list[int]:
    """Take back running imports whose worker stopped; returns the ids of the jobs taken back."""
    host, pid = this_worker()
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.VIFSITE_IMPORT_LEASE_S)
    swept = []
    for job in list(SurveyImport.objects.filter(status=RUNNING)):
        gone = job.worker_host == host and job.worker_pid is not None and not childproc.alive(job.worker_pid)
        silent = job.heartbeat_at is None or job.heartbeat_at < cutoff
        if (gone or silent) and _take_back(job, gone=gone, host=host, pid=pid):
            swept.append(job.pk)
    return swept


def _remove(path: Path) -> None:
    vds.close(str(path))
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _take_back(job: SurveyImport, *, gone: bool, host: str, pid: int) -> bool:
    seen = {"attempts": job.attempts, "heartbeat_at": job.heartbeat_at, "worker_host": job.worker_host,
            "worker_pid": job.worker_pid}
    # Claim it first, as this sweeper's: another sweeper or the old worker (if only slow) then changes nothing.
    # If this sweeper dies halfway, its own pid is gone and the next sweep takes the job again.
    if not SurveyImport.objects.filter(pk=job.pk, status=RUNNING, **seen).update(
            heartbeat_at=timezone.now(), worker_host=host, worker_pid=pid):
        return False
    attempt = job.attempts
    final = import_volume_path(job, attempt)
    # SEGYImport dies with its worker (childproc); this is for where the kernel could not arrange that.
    if job.tool_pid and job.worker_host == host and childproc.kill_group(job.tool_pid,
                                                                         command_contains=str(_partial(final))):
        logger.warning("Killed SEGYImport (pid %s) of import %s, left running by its worker", job.tool_pid, job.pk)
    cause = ("its process ended: killed, out of memory, or past the task timeout" if gone else
             f"no heartbeat for over {settings.VIFSITE_IMPORT_LEASE_S} s")
    when = job.heartbeat_at.strftime("%Y-%m-%d %H:%M:%S UTC") if job.heartbeat_at else "never"
    note = (f"Attempt {attempt}: the worker running this import (pid {job.worker_pid} on {job.worker_host}) "
            f"stopped ({cause}); its last heartbeat: {when}.")
    logger.warning("Import %s: %s", job.pk, note)
    held = _held(job.pk, attempt, host, pid)
    for leftover in _partials(final):
        _remove(leftover)
    survey = Survey.objects.filter(vds_url=str(final)).first()
    if survey is not None:  # it stopped after registering the survey: the import is done
        held.update(status=SurveyImport.Status.SUCCEEDED, progress=100.0, survey=survey, tool_pid=None,
                    log=f"{job.log}\n{note} The survey was registered already.\n{survey.import_log}".strip(),
                    finished_at=timezone.now())
        return True
    _remove(final)
    if attempt < MAX_ATTEMPTS:
        with transaction.atomic():
            if held.update(status=SurveyImport.Status.PENDING, progress=0.0, heartbeat_at=None, worker_host="",
                           worker_pid=None, tool_pid=None, log=f"{job.log}\n{note} Retrying.".strip()):
                transaction.on_commit(lambda: _enqueue(job.pk))
        return True
    if held.update(status=SurveyImport.Status.FAILED, tool_pid=None, finished_at=timezone.now(),
                   error=f"The worker running this import stopped ({cause}); retried once.",
                   log=f"{job.log}\n{note} Not retried again.".strip()):
        Path(job.source_path).unlink(missing_ok=True)
    return True
