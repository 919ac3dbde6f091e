"""Slice layouts added on request to an existing survey's volume (``manage.py add_slice_layouts``): in place,
the samples checked unchanged (witnesses still replay), nothing half-written when it fails or is stopped.

The failures are real: VDSCopy killed while it copies, the command itself sent SIGTERM or SIGKILL, a lock
held by another process, a survey whose recorded hash no longer matches its file.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from seismic import services, vds
from seismic.models import Survey
from tests.processes import manage
from tests.seismic.test_import_crash import _tile
from vifsite.errors import Conflict, InputError

COPIES = 100  # penobscot_xl1155 tiled 100 times: a 375 MB SEG-Y, a volume VDSCopy takes seconds over
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc (Linux)")


def _state(path: Path) -> tuple[int, int, int]:
    """What tells a file from its replacement: inode, size, modification time."""
    stat = path.stat()
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _beside(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name))


def _tool_writing(marker: str) -> int | None:
    """The pid of a running VDSCopy whose command line names ``marker``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if b"VDSCopy" in command and marker.encode() in command and state not in (b"Z", b"X"):
            return int(entry.name)
    return None


def _wait_for_copying(copy: Path, timeout: float = 60) -> int:
    """VDSCopy's pid once it has written part of ``copy``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _tool_writing(str(copy))
        if pid and copy.exists() and copy.stat().st_size > 1 << 20:
            return pid
        time.sleep(0.01)
    raise AssertionError(f"VDSCopy did not start writing {copy.name} within {timeout} s")


def _gone(pid: int, timeout: float = 10) -> bool:
    """Whether ``pid`` ends (or is a zombie) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X"):
                return True
        except OSError:
            return True
        time.sleep(0.02)
    return False


# --- Refusals and the plain case (small volumes, in process) ------------------------------------

@pytest.fixture
def plain_survey(small_synthetic, tmp_path, db) -> Survey:
    """A registered survey on its own copy of a volume without slice layouts."""
    _, _, source = small_synthetic
    path = tmp_path / "vol" / "syn.vds"
    path.parent.mkdir()
    shutil.copyfile(source, path)
    return services.survey_register_vds(url=str(path), name="syn", restrict_to_roots=False)


def test_it_adds_slice_layouts_in_place_with_the_same_samples(plain_survey, small_synthetic, capsys):
    volume, _, _ = small_synthetic
    path = Path(plain_survey.vds_url)
    before = plain_survey.data_sha256
    assert plain_survey.slice_layouts is False
    path.chmod(0o640)
    _, extraction = services.section_extract(survey=plain_survey, kind="crossline", number=2010, principal="t")
    call_command("add_slice_layouts", str(plain_survey.pk))
    assert "slice layouts added" in capsys.readouterr().out
    survey = Survey.objects.get(pk=plain_survey.pk)
    assert survey.slice_layouts is True and survey.data_sha256 == before
    assert "Slice layouts added in place" in survey.import_log
    assert vds.has_slice_layouts(str(path)) and _beside(path) == ["syn.vds"]
    assert path.stat().st_mode & 0o777 == 0o640  # the new file keeps the volume's permissions
    geometry = vds.read_geometry(str(path))
    assert vds.scan_volume(str(path), geometry) == (before, survey.live_traces)
    # The witnessed extraction made before replays against the new layout, bit for bit.
    section = services.section_read(survey=survey, kind="crossline", number=2010)
    assert services.array_sha256(section.data) == extraction.array_sha256
    assert np.array_equal(section.data, volume.data[:, 10, :])
    # A second run finds them there and changes nothing.
    state = _state(path)
    call_command("add_slice_layouts", survey.name)
    assert "had slice layouts already" in capsys.readouterr().out and _state(path) == state


def test_it_records_slice_layouts_a_volume_already_has(small_synthetic, tmp_path, db):
    _, _, source = small_synthetic
    path = tmp_path / "sliced.vds"
    vds.copy_with_slice_layouts(str(source), str(path))
    survey = services.survey_register_vds(url=str(path), name="sliced", restrict_to_roots=False)
    Survey.objects.filter(pk=survey.pk).update(slice_layouts=None)  # registered before this was recorded
    state = _state(path)
    assert services.survey_add_slice_layouts(survey=Survey.objects.get(pk=survey.pk)) is False
    assert Survey.objects.get(pk=survey.pk).slice_layouts is True and _state(path) == state


def test_it_refuses_a_remote_volume_with_a_clear_message(plain_survey, capsys):
    Survey.objects.filter(pk=plain_survey.pk).update(vds_url="s3://bucket/syn")
    with pytest.raises(CommandError, match="not added to 1 of 1"):
        call_command("add_slice_layouts", str(plain_survey.pk))
    error = capsys.readouterr().err
    assert "remote s3:// URL" in error and "local volumes only" in error and "VDSCopy -a 01 -a 02 -a 12" in error


def test_it_refuses_unknown_surveys_and_missing_volumes(plain_survey, capsys):
    with pytest.raises(CommandError, match="No survey with id or name 'nope'"):
        call_command("add_slice_layouts", "nope")
    Path(plain_survey.vds_url).unlink()
    with pytest.raises(CommandError):
        call_command("add_slice_layouts", str(plain_survey.pk))
    assert "is not on this server" in capsys.readouterr().err


def test_a_copy_whose_samples_differ_from_the_survey_is_not_swapped_in(plain_survey):
    """The recorded hash no longer matches the file (it was replaced since it was registered): the copy cannot
    be shown to hold the survey's samples, so the volume stays as it is and the copy goes."""
    path = Path(plain_survey.vds_url)
    Survey.objects.filter(pk=plain_survey.pk).update(data_sha256="0" * 64)
    state = _state(path)
    with pytest.raises(InputError, match="does not hold the samples of survey"):
        services.survey_add_slice_layouts(survey=Survey.objects.get(pk=plain_survey.pk))
    assert _state(path) == state and _beside(path) == ["syn.vds"] and not vds.has_slice_layouts(str(path))
    assert Survey.objects.get(pk=plain_survey.pk).slice_layouts is False


def test_a_second_run_on_the_same_volume_is_refused_while_one_runs(plain_survey):
    path = Path(plain_survey.vds_url)
    with open(path, "rb") as other:  # what a run in another process holds
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(Conflict, match="by another process"):
            services.survey_add_slice_layouts(survey=plain_survey)
    assert _beside(path) == ["syn.vds"] and not vds.has_slice_layouts(str(path))


# --- Real failures on a volume large enough to catch VDSCopy at work ----------------------------

@pytest.fixture(scope="module")
def big_volume(tmp_path_factory, segy_dir) -> Iterator[Path]:
    """A 3D volume of about 400 MB without slice layouts (removed afterwards)."""
    directory = tmp_path_factory.mktemp("big-layouts")
    segy = directory / "big.sgy"
    _tile(segy_dir / "penobscot_xl1155.sgy", segy, COPIES)
    volume = directory / "big.vds"
    vds.segy_import(str(segy), str(volume))
    segy.unlink()
    yield volume
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def big_copy(big_volume, tmp_path) -> Iterator[Path]:
    path = tmp_path / "survey" / "big.vds"
    path.parent.mkdir()
    shutil.copyfile(big_volume, path)
    yield path
    shutil.rmtree(path.parent, ignore_errors=True)


@pytest.mark.slow
@linux_only
@pytest.mark.django_db
def test_a_copy_that_fails_leaves_the_volume_and_the_survey_as_they_were(big_copy):
    survey = services.survey_register_vds(url=str(big_copy), name="big", restrict_to_roots=False)
    copy = Path(vds.slice_copy_path(str(big_copy)))
    state = _state(big_copy)
    killed: list[int] = []

    def kill_vdscopy() -> None:  # VDSCopy dies halfway through, as if out of memory
        pid = _wait_for_copying(copy)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    killer = threading.Thread(target=kill_vdscopy)
    killer.start()
    try:
        with pytest.raises(InputError, match="VDSCopy could not add slice layouts: VDSCopy exited with "
                                                      "status -9. The volume is left as it was."):
            services.survey_add_slice_layouts(survey=survey)
    finally:
        killer.join()
    assert killed and _state(big_copy) == state and _beside(big_copy) == ["big.vds"]
    assert not vds.has_slice_layouts(str(big_copy))
    assert Survey.objects.get(pk=survey.pk).slice_layouts is False


def _sqlite_slice_layouts(data_dir: Path) -> int | None:
    with sqlite3.connect(data_dir / "db.sqlite3", timeout=20) as db:
        return db.execute("SELECT slice_layouts FROM seismic_survey").fetchone()[0]


@pytest.mark.slow
@linux_only
def test_a_stopped_run_leaves_nothing_a_killed_one_leaves_only_a_copy_the_next_run_removes(big_copy, tmp_path):
    """The command in its own process on a SQLite file: SIGTERM while VDSCopy copies (cleaned up at once),
    then SIGKILL (VDSCopy dies with it; its copy stays beside the untouched volume), then a run to the end."""
    data_dir = tmp_path / "site"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'db.sqlite3'}"
    manage(url, data_dir, "migrate", "--noinput")
    manage(url, data_dir, "register_vds", str(big_copy), "--name", "big")
    copy = Path(vds.slice_copy_path(str(big_copy)))
    state = _state(big_copy)

    for signum in (signal.SIGTERM, signal.SIGKILL):
        run = manage(url, data_dir, "add_slice_layouts", "big", background=True)
        try:
            tool = _wait_for_copying(copy)
            run.send_signal(signum)
            run.communicate(timeout=30)
        finally:
            run.kill()
        assert run.returncode != 0
        assert _gone(tool), "VDSCopy outlived the command"
        assert _state(big_copy) == state and _sqlite_slice_layouts(data_dir) == 0
        expected = ["big.vds"] if signum == signal.SIGTERM else ["big.vds", copy.name]
        assert _beside(big_copy) == expected, signum

    done = manage(url, data_dir, "add_slice_layouts", "big", timeout=300)
    assert "slice layouts added" in done.stdout
    assert _beside(big_copy) == ["big.vds"] and _state(big_copy)[0] != state[0]
    assert vds.has_slice_layouts(str(big_copy)) and _sqlite_slice_layouts(data_dir) == 1
    with sqlite3.connect(data_dir / "db.sqlite3") as db:
        recorded, live = db.execute("SELECT data_sha256, live_traces FROM seismic_survey").fetchone()
    assert vds.scan_volume(str(big_copy), vds.read_geometry(str(big_copy))) == (recorded, live)
    vds.close(str(big_copy))
