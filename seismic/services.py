"""Workflows of the seismic app: registering surveys and extracting sections with provenance."""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from seismic import imaging, segy, stats, vds
from seismic.models import Extraction, Survey, SurveyImport
from vifsite import netguard
from vifsite.db.compiled import CompiledInsert, CompiledQuery
from vifsite.errors import Conflict, InputError, NotFound, Unavailable
from vifsite.version import APP_VERSION
from vifsite.vif import ledger, replay, signing
from vifsite.vif import services as vif_services

logger = logging.getLogger(__name__)

SAMPLE_UNITS = ("ms", "m", "ft")
SECTION_KINDS = ("inline", "crossline", "timeslice")
# The axes a section of each kind returns, in array order: (traces or rows, samples or columns).
SECTION_AXES = {"inline": ("crossline", "sample"), "crossline": ("inline", "sample"),
                "timeslice": ("inline", "crossline")}
FIXED_AXIS = {"inline": "inline", "crossline": "crossline", "timeslice": "sample"}

ProgressCallback = Callable[[float], None]


# --- Surveys ----------------------------------------------------------------------------------

def volume_unavailable(survey: Survey, exc: BaseException) -> Unavailable:
    """The answer when a survey's volume cannot be read: OpenVDS's own words (paths, addresses, curl
    errors) go to the operator's log, not to the caller."""
    logger.warning("The volume of survey %s could not be read: %s", survey.pk, exc)
    return Unavailable(f"The volume of survey {survey.pk} cannot be read now; the site's log says why.")


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InputError("A survey needs a name.")
    if len(name) > 200:
        raise InputError("A survey name is at most 200 characters.")
    if Survey.objects.filter(name=name).exists():
        raise Conflict(f"A survey named {name!r} already exists; choose another name.")
    return name


def _check_import_options(*, sample_unit: str = "ms", **header_bytes: int) -> None:
    """Refuse import options SEGYImport would misread: the sample unit and trace-header byte positions."""
    if sample_unit not in SAMPLE_UNITS:
        raise InputError(f"sample_unit must be one of {', '.join(SAMPLE_UNITS)}, not {sample_unit!r}.")
    for label, value in header_bytes.items():
        if not 1 <= int(value) <= 237:
            raise InputError(f"{label} must be a trace-header byte position between 1 and 237, not {value}.")


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SourceSamples:
    """What the SEG-Y file says of the volume SEGYImport made of it (``segy.digest``): the hash of its samples in
    file order, which is the volume's order when its traces fill ``grid``."""

    path: Path
    info: segy.SegyInfo
    samples_sha256: str
    grid: segy.Grid


MASK_INLINES_PER_READ = 256  # the live-trace mask, read this many inlines at a time


def _content_from_source(url: str, geometry: vds.Geometry, source: SourceSamples) -> tuple[str, int] | None:
    """The volume's ``(data_sha256, live traces)`` without reading its samples, when the volume is what SEGYImport
    makes of a file whose traces fill a grid: float32 samples stored as they are (no lossy compression), on the
    file's grid, every cell live, and its first, middle and last inlines equal to the file's traces. SEGYImport
    writes each trace of a 4-byte IEEE file into its cell unchanged, so the samples, read inline after inline,
    are the file's samples in file order and their hash is the file's samples hash. None when anything differs:
    the caller reads the volume then (``vds.scan_volume``)."""
    grid = source.grid
    axes = ((geometry.inline, grid.inline_first, grid.inline_step, grid.inlines),
            (geometry.crossline, grid.crossline_first, grid.crossline_step, grid.crosslines))
    if (geometry.dimensionality != 3 or geometry.storage_format != "Format_R32" or geometry.lossy
            or not geometry.has_trace_channel or geometry.sample.count != source.info.samples_per_trace):
        return None
    for axis, first, step, count in axes:
        if axis.count != count or axis.first != first or (count > 1 and not math.isclose(axis.step, step)):
            return None
    nil, nxl, ns = grid.inlines, grid.crosslines, geometry.sample.count
    live = 0
    for start in range(0, nil, MASK_INLINES_PER_READ):
        stop = min(nil, start + MASK_INLINES_PER_READ)
        live += int(vds.read_trace_mask(url, geometry, (start, 0), (stop, nxl)).sum())
    if live != grid.cells:
        return None
    for index in sorted({0, nil // 2, nil - 1}):  # compared bit for bit (NaNs and -0.0 included)
        volume = vds.read_subset(url, geometry, (index, 0, 0), (index + 1, nxl, ns))[0]
        file = segy.read_traces(source.path, source.info, index * nxl, nxl)
        if not np.array_equal(volume.view(np.uint32), file.view(np.uint32)):
            logger.warning("The volume %s differs from its SEG-Y file on inline index %s: hashing the volume", url,
                           index)
            return None
    return source.samples_sha256, live


def _survey_create(*, url: str, name: str, description: str, created_by: str, imported: bool,
                   source_segy: str = "", source_sha256: str = "", import_log: str = "",
                   ground_truth: dict[str, Any] | None = None, source: SourceSamples | None = None) -> Survey:
    """Register the volume at ``url``: its geometry, the hash of its samples and its live traces, read from the
    volume (``vds.scan_volume``), or for an import whose file vouches for them, from ``source``; an import's log
    says which."""
    try:
        geometry = vds.read_geometry(url)
        content = _content_from_source(url, geometry, source) if source is not None else None
        data_sha256, live = content if content is not None else vds.scan_volume(url, geometry)
        slice_layouts = vds.has_slice_layouts(url)
        if imported:
            import_log += ("\nData hash: the file's samples, hashed as the file was read (the volume's grid, live "
                           "traces and first, middle and last inlines checked against the file)." if content else
                           "\nData hash: every sample read back from the volume.")
    except vds.VolumeError as exc:
        if "://" in url:  # OpenVDS's words about a remote volume (addresses, curl errors) go to the log only
            raise netguard.volume_error(url, exc) from exc
        raise InputError(str(exc)) from exc
    if live == 0:
        raise InputError("The volume has no live trace: its geometry could not be worked out from the headers "
                         "(check the inline/crossline header bytes).")
    try:
        with transaction.atomic():
            return Survey.objects.create(
                name=name, description=description, vds_url=url, imported=imported, source_segy=source_segy,
                source_sha256=source_sha256, ground_truth=ground_truth, live_traces=live,
                data_sha256=data_sha256, import_log=import_log, created_by=created_by,
                slice_layouts=slice_layouts, **Survey.geometry_fields(geometry),
            )
    except IntegrityError:
        raise Conflict(f"A survey named {name!r} already exists; choose another name.") from None


# Slice layouts (2D bricks for inlines, crosslines and timeslices beside the 3D bricks) at import: on a
# 400x400x500 float32 volume a cold section reads in about 1 ms instead of 7-25 ms, as fast as any reader
# measured beside it, for 3.7 times the volume's storage and a VDSCopy two to three times as long as SEGYImport
# (bench/layouts.py). On unless the importer turns them off (a large volume), or the disk has no room for them
# (then the import log says so).
SLICE_LAYOUTS_DEFAULT = True
# The share of an import's progress SEGYImport stands for when VDSCopy follows it (their measured times).
SEGYIMPORT_PROGRESS_SHARE = 25.0


def import_partials(final: Path) -> tuple[Path, Path]:
    """What an import writes before its volume is complete: SEGYImport's volume, and VDSCopy's copy of it with
    slice layouts. Both tools' command lines name the first (a sweep finds the tool to kill by it)."""
    return final.with_name(final.name + ".partial"), final.with_name(final.name + ".slices.partial")


def _progress_part(progress: ProgressCallback | None, start: float, end: float) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda percent: progress(start + (end - start) * percent / 100.0)


def _import_slice_layouts(plain: Path, copy: Path, *, progress: ProgressCallback | None,
                          started: Callable[[int], None] | None) -> tuple[Path, str]:
    """Copy SEGYImport's volume with slice layouts; the volume to keep, and lines for the import log."""
    room, sizes = vds.room_for_slice_layouts(str(plain))
    if not room:
        if progress is not None:
            progress(100.0)
        return plain, (f"Slice layouts not added: not enough free disk ({sizes}); add them later with "
                       "`manage.py add_slice_layouts`.")
    started_at = time.perf_counter()
    log = vds.copy_with_slice_layouts(str(plain), str(copy), progress=progress, started=started)
    seconds, ratio = time.perf_counter() - started_at, copy.stat().st_size / plain.stat().st_size
    return copy, f"{log}\nSlice layouts added in {seconds:.1f} s ({ratio:.1f} times the storage)."


def survey_import_segy(
    *,
    path: str | os.PathLike[str],
    name: str,
    description: str = "",
    inline_byte: int = 189,
    crossline_byte: int = 193,
    two_d: bool = False,
    cdp_byte: int = 21,
    sample_unit: str = "ms",
    slice_layouts: bool = SLICE_LAYOUTS_DEFAULT,
    created_by: str = "",
    progress: ProgressCallback | None = None,
    ground_truth: dict[str, Any] | None = None,
    volume_path: str | os.PathLike[str] | None = None,
    display_name: str = "",
    started: Callable[[int], None] | None = None,
) -> Survey:
    """Import a SEG-Y file with OpenVDS's SEGYImport and register it. On any failure nothing is
    registered and no volume is left behind.

    ``volume_path`` names the volume (a queued import names it from its job, so that a sweep after a
    crash finds it); SEGYImport writes it as ``<volume_path>.partial`` first, and with ``slice_layouts``
    VDSCopy copies that, adding 2D slice bricks, to the second of ``import_partials`` before the final rename.
    Messages and the import log name the file ``display_name`` (an upload's own name), never its path on the
    server.

    While SEGYImport runs, a thread reads the file once (``segy.digest``): its hash, and for a 4-byte IEEE file
    whose traces fill the grid, the hash of its samples, which then stands for the volume's (``_survey_create``
    checks the volume agrees) instead of a second read of every sample from the volume.
    """
    name = _check_name(name)
    _check_import_options(sample_unit=sample_unit, inline_byte=inline_byte, crossline_byte=crossline_byte,
                          cdp_byte=cdp_byte)
    path = Path(path)
    label = display_name or path.name
    if not path.is_file():
        raise InputError(f"The file {label} is no longer on the server." if display_name else f"No file at {path}.")
    try:
        info = segy.inspect(path, inline_byte=inline_byte, crossline_byte=crossline_byte, two_d=two_d,
                            cdp_byte=cdp_byte)
    except segy.SegyError as exc:
        raise InputError(str(exc)) from exc
    directory = Path(settings.VIFSITE_SURVEY_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    final = Path(volume_path or directory / f"{slugify(name) or 'survey'}-{uuid.uuid4().hex[:10]}.vds")
    partial, with_slices = import_partials(final)
    slice_layouts = slice_layouts and not two_d  # a 2D line is one plane: its bricks are its slices
    cancel = threading.Event()
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segy-digest")
    try:
        try:
            digest = reader.submit(segy.digest, path, info, inline_byte=inline_byte, crossline_byte=crossline_byte,
                                   two_d=two_d, cancel=cancel)
            log = vds.segy_import(str(path), str(partial), inline_byte=inline_byte, crossline_byte=crossline_byte,
                                  two_d=two_d, cdp_byte=cdp_byte, sample_unit=sample_unit,
                                  little_endian=info.little_endian, started=started, source_label=label,
                                  progress=_progress_part(progress, 0.0, SEGYIMPORT_PROGRESS_SHARE if slice_layouts
                                                          else 100.0))
            ready = partial
            if slice_layouts:
                ready, copied = _import_slice_layouts(
                    partial, with_slices, progress=_progress_part(progress, SEGYIMPORT_PROGRESS_SHARE, 100.0),
                    started=started)
                log += "\n" + copied
        except vds.ImportFailed as exc:
            raise InputError(str(exc), log=exc.log) from exc
        try:
            read = digest.result()
        except OSError as exc:
            raise InputError(f"The file {label} could not be read to the end: {exc.strerror or exc}.") from exc
        os.replace(ready, final)
        partial.unlink(missing_ok=True)
        header = (f"Source {label}: {info.traces} traces of {info.samples_per_trace} samples "
                  f"({info.sample_format_name}, {info.byte_order}), interval {info.sample_interval_us} µs.")
        source = (SourceSamples(path=path, info=info, samples_sha256=read.samples_sha256, grid=read.grid)
                  if read.samples_sha256 is not None and read.grid is not None else None)
        survey = _survey_create(url=str(final), name=name, description=description, created_by=created_by,
                                imported=True, source_segy=str(path), source_sha256=read.sha256,
                                import_log=header + "\n" + log, ground_truth=ground_truth, source=source)
    except BaseException as exc:
        cancel.set()
        reader.shutdown(wait=True)  # the reader stops at its next block: nothing of this import outlives it
        vds.close(str(final))
        for leftover in (partial, with_slices, final):
            if leftover.exists():
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        if isinstance(exc, InputError):  # OpenVDS's words may name the server's paths
            for server_path, shown in ((str(partial), partial.name), (str(with_slices), with_slices.name),
                                       (str(final), final.name), (str(path), label)):
                exc.message = exc.message.replace(server_path, shown)
            exc.args = (exc.message,)
        raise
    reader.shutdown(wait=False)
    if survey.live_traces != info.traces:
        survey.import_log += (f"\nNote: the file holds {info.traces} traces but {survey.live_traces} cells of the "
                              "grid are live (duplicate inline/crossline pairs?).")
        survey.save(update_fields=["import_log"])
    return survey


def _open_in_store(url: str) -> None:
    """Open a volume in one of the operator's stores (``netguard.volume_store``), saying plainly why not: the
    operator configured the store, so there is no network to hide. The answer names the caller's URL only;
    OpenVDS's own words (the endpoint) go to the log, and the connection string nowhere. Other URLs are left
    to ``_survey_create`` (one answer for every failure)."""
    store = netguard.volume_store(url)
    if store is None:
        return
    try:
        vds.read_geometry(url)  # the handle stays open for the registration that follows
    except vds.VolumeError as exc:
        reason = str(exc)
        if not reason.startswith("OpenVDS cannot open"):  # opened, but not a volume this site reads
            raise InputError(reason) from None
        logger.warning("Volume %r in the configured store %r could not be opened: %s", url, store[0], reason)
        if "Http error response: 404" in reason:  # OpenVDS's words for the store's answer
            raise InputError(f"No volume at {url}: the store {store[0]} has no such bucket or object (a VDS in an "
                             "object store is a folder of objects: give the folder's URL).") from None
        if "Http error response: 403" in reason or "Http error response: 401" in reason:
            raise InputError(f"The store {store[0]} refused to let the site read {url}: the credentials configured "
                             "for it do not allow it.") from None
        raise InputError(f"The volume at {url} could not be opened from the store {store[0]}; the site's log "
                         "says why.") from None


def survey_register_vds(*, url: str, name: str, description: str = "", created_by: str = "",
                        restrict_to_roots: bool = True) -> Survey:
    """Register an existing VDS (a local file, or a cloud URL OpenVDS opens) without importing."""
    name = _check_name(name)
    url = (url or "").strip()
    if not url:
        raise InputError("Give the path or URL of a VDS.")
    if "://" in url:
        if not url.startswith(vds.CLOUD_SCHEMES):
            raise InputError(f"Unsupported URL scheme; OpenVDS opens {', '.join(vds.CLOUD_SCHEMES)}.")
        netguard.check_volume_url(url)
        _open_in_store(url)
    else:
        path = Path(url).resolve()
        if restrict_to_roots and not any(path.is_relative_to(Path(root).resolve())
                                         for root in settings.VIFSITE_VDS_ROOTS):
            raise InputError("That path is outside the folders volumes may be registered from "
                             "(VIFSITE_VDS_ROOTS and the data directory).")
        if not path.is_file():
            raise InputError(f"No VDS file at {url}.")
        url = str(path)
    return _survey_create(url=url, name=name, description=description, created_by=created_by, imported=False)


def survey_import_queue(*, upload: UploadedFile, name: str, description: str = "", options: Mapping[str, Any],
                        created_by: str = "") -> SurveyImport:
    """Store an uploaded SEG-Y file and queue its import (django-q2). The survey is registered by
    the task, only if the import succeeds."""
    name = _check_name(name)
    _check_import_options(**{key: value for key, value in options.items() if key not in ("two_d", "slice_layouts")})
    directory = Path(settings.VIFSITE_UPLOAD_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stored = directory / f"{uuid.uuid4().hex}.sgy"
    temporary = getattr(upload, "temporary_file_path", None)
    if temporary is not None:  # a large upload already streamed to a temporary file: move it, no second copy
        shutil.move(temporary(), stored)
        stored.chmod(0o644)
    else:
        with open(stored, "wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
    job = SurveyImport.objects.create(name=name, description=description, source_path=str(stored),
                                      original_filename=upload.name or "", options=dict(options),
                                      created_by=created_by)
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task("seismic.tasks.survey_import_run", job.pk,
                                             task_name=f"import survey {job.pk}"))
    return job


def survey_add_slice_layouts(*, survey: Survey, progress: ProgressCallback | None = None) -> bool:
    """Add slice layouts to a survey's local volume in place; False when it had them already. Either way the
    survey then records that it has them.

    The copy must hold exactly the survey's samples (the ``data_sha256`` and live traces ``vds.scan_volume``
    finds, on the same grid) before it replaces the volume, so every witness of the survey still replays;
    ``vds.add_slice_layouts_in_place`` says how nothing half-written ever takes the volume's place.
    """
    url = survey.vds_url
    if "://" in url:
        raise InputError(f"The volume of survey {survey.pk} is a remote {url.split('://', 1)[0]}:// URL: slice "
                         "layouts are added in place to local volumes only. Copy it with `VDSCopy -a 01 -a 02 -a 12 "
                         "<url> <new url>` and register the copy as a new survey instead.")
    if not Path(url).is_file():
        raise InputError(f"The volume of survey {survey.pk} ({Path(url).name}) is not on this server.")
    if survey.dimensionality != 3:
        raise InputError(f"Survey {survey.pk} is a 2D line: its one plane is what its bricks hold already.")
    expected = survey.geometry()

    def same_samples(copy: str) -> None:
        geometry = vds.read_geometry(copy)
        data_sha256, live = vds.scan_volume(copy, geometry)
        found = [(a.count, a.first, a.last) for a in (geometry.inline, geometry.crossline, geometry.sample)]
        grid = [(a.count, a.first, a.last) for a in (expected.inline, expected.crossline, expected.sample)]
        if (data_sha256, live, found) != (survey.data_sha256, survey.live_traces, grid):
            raise InputError(f"The copy with slice layouts does not hold the samples of survey {survey.pk} (its "
                             "data hash, live traces or grid differ: has the volume changed since it was "
                             "registered?). The volume is left as it was.")

    started = time.perf_counter()
    try:
        log = vds.add_slice_layouts_in_place(url, check=same_samples, progress=progress)
    except vds.VolumeBusy as exc:
        raise Conflict(f"Survey {survey.pk}: {exc}") from None
    except vds.ImportFailed as exc:
        raise InputError(f"Survey {survey.pk}: {str(exc).rstrip('.')}. The volume is left as it was.",
                         log=exc.log) from exc
    except vds.VolumeError as exc:
        raise InputError(f"Survey {survey.pk}: {exc}") from exc
    if log is not None:
        survey.import_log = (f"{survey.import_log}\nSlice layouts added in place in "
                             f"{time.perf_counter() - started:.1f} s, the samples checked unchanged.").strip()
    survey.slice_layouts = True
    survey.save(update_fields=["slice_layouts", "import_log"])
    return log is not None


def survey_import_run(*, survey_import_id: int) -> None:
    """Run a queued import (``seismic.import_jobs``: claimed once, under a lease a sweep can take back)."""
    from seismic import import_jobs

    import_jobs.survey_import_run(survey_import_id=survey_import_id)


# Read on demand only (one more query then): the import log (tens of kB) and a synthetic survey's ground truth,
# decoded from JSON, cost more than the rest of the row on every section read.
SURVEY_BULKY_FIELDS = ("import_log", "ground_truth")


# Every section read and tool call looks its survey up: compiled once per connection (vifsite/db/compiled.py).
_SURVEY_BY_ID = CompiledQuery(lambda survey_id: Survey.objects.defer(*SURVEY_BULKY_FIELDS).filter(pk=survey_id),
                              probes=[-7_316_402_915])


def survey_get(*, survey_id: int) -> Survey:
    survey = _SURVEY_BY_ID.first(survey_id)
    if survey is None:
        raise NotFound(f"No survey with id {survey_id}.")
    return survey


# --- Sections ---------------------------------------------------------------------------------

@dataclass
class Section:
    survey: Survey
    kind: str
    number: float
    data: np.ndarray  # (traces, samples) for inlines and crosslines; (inlines, crosslines) for timeslices
    live: np.ndarray  # (traces,) or (inlines, crosslines)
    axes: tuple[vds.Axis, vds.Axis]  # annotation of data's first and second dimension
    notes: list[str]

    @property
    def vertical(self) -> bool:
        return self.kind != "timeslice"

    def ranges(self) -> dict[str, list[float]]:
        return {axis.name: [axis.first, axis.last] for axis in self.axes}


def _sub_axis(axis: vds.Axis, lo: float | None, hi: float | None) -> tuple[int, int]:
    """Index range [i0, i1] of the grid values within [lo, hi] on ``axis``; full axis by default."""
    first, last = axis.first, axis.last
    lo = first if lo is None else lo
    hi = last if hi is None else hi
    for value in (lo, hi):
        if not math.isfinite(value):
            raise InputError(f"{axis.name} range bounds must be finite numbers.")
    if lo > hi:
        raise InputError(f"{axis.name} range is empty: {lo:g} is above {hi:g}.")
    tolerance = 1e-6 * max(1.0, abs(axis.step))
    if lo < first - tolerance or hi > last + tolerance:
        raise InputError(f"{axis.name} range {lo:g}–{hi:g} lies outside the survey: valid {axis.name} values "
                         f"are {axis.describe()}.", valid_range=[first, last], step=axis.step)
    if axis.count == 1:
        return 0, 0
    i0 = max(0, math.ceil((lo - first) / axis.step - 1e-6))
    i1 = min(axis.count - 1, math.floor((hi - first) / axis.step + 1e-6))
    if i0 > i1:
        raise InputError(f"{axis.name} range {lo:g}–{hi:g} holds no {axis.name} of the grid "
                         f"({axis.describe()}).", valid_range=[first, last], step=axis.step)
    return i0, i1


def _axis_slice(axis: vds.Axis, i0: int, i1: int) -> vds.Axis:
    return vds.Axis(name=axis.name, unit=axis.unit, count=i1 - i0 + 1, first=axis.value(i0),
                    last=axis.value(i1), step=axis.step)


def section_read(*, survey: Survey, kind: str, number: float,
                 ranges: Mapping[str, tuple[float | None, float | None]] | None = None) -> Section:
    """Read one section by its number in survey annotation, optionally cut to sub-ranges."""
    if kind not in SECTION_KINDS:
        raise InputError(f"section_type must be one of {', '.join(SECTION_KINDS)}, not {kind!r}.")
    if not math.isfinite(number):
        raise InputError("section_number must be a finite number.")
    ranges = dict(ranges or {})
    geometry = survey.geometry()
    axes = {"inline": geometry.inline, "crossline": geometry.crossline, "sample": geometry.sample}
    fixed_name = FIXED_AXIS[kind]
    fixed_axis = axes[fixed_name]
    if fixed_name in ranges and ranges[fixed_name] != (None, None):
        raise InputError(f"A {kind} fixes the {fixed_name}; a {fixed_name} range does not apply.")
    index = fixed_axis.index_of(number)
    if index is None:
        label = "time" if kind == "timeslice" and geometry.domain == "time" else (
            "depth" if kind == "timeslice" else f"{kind} number")
        raise InputError(f"{kind} {number:g} is not in this survey: valid {label}s are {fixed_axis.describe()}.",
                         valid_range=[fixed_axis.first, fixed_axis.last], step=fixed_axis.step)
    bounds = {fixed_name: (index, index)}
    for name in SECTION_AXES[kind]:
        lo, hi = ranges.get(name, (None, None))
        bounds[name] = _sub_axis(axes[name], lo, hi)
    lo_box = (bounds["inline"][0], bounds["crossline"][0], bounds["sample"][0])
    hi_box = (bounds["inline"][1] + 1, bounds["crossline"][1] + 1, bounds["sample"][1] + 1)
    try:
        cube = vds.read_subset(survey.vds_url, geometry, lo_box, hi_box)
        mask = vds.read_trace_mask(survey.vds_url, geometry, lo_box[:2], hi_box[:2])
    except vds.VolumeError as exc:
        raise volume_unavailable(survey, exc) from exc
    if kind == "inline":
        data, live = cube[0], mask[0]
    elif kind == "crossline":
        data, live = cube[:, 0, :], mask[:, 0]
    else:
        data, live = cube[:, :, 0], mask
    section_axes = tuple(_axis_slice(axes[name], *bounds[name]) for name in SECTION_AXES[kind])
    notes: list[str] = []
    if not geometry.has_trace_channel:
        notes.append("This volume has no Trace channel: dead traces cannot be told from zero amplitudes and are "
                     "counted as live.")
    if geometry.lossy:
        notes.append(f"The volume is lossy-compressed ({geometry.compression}): values are approximations.")
    if geometry.quantized:
        notes.append(f"Float samples are stored as {geometry.storage_format[-2:]}-bit integers in this volume: "
                     "values are quantized.")
    return Section(survey=survey, kind=kind, number=float(number), data=data, live=live,
                   axes=section_axes, notes=notes)  # type: ignore[arg-type]


def _sample_interval_s(survey: Survey) -> float | None:
    if survey.domain == Survey.Domain.TIME and survey.sample_unit == "ms" and survey.sample_step > 0:
        return survey.sample_step / 1000.0
    return None


def section_statistics(section: Section) -> dict[str, Any]:
    """The statistics of a section, computed now (a replay never takes them from the cache)."""
    result = stats.section_statistics(section.data, section.live, vertical=section.vertical,
                                      sample_interval_s=_sample_interval_s(section.survey))
    result["notes"] = section.notes + result["notes"]
    return result


def array_sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype="<f4").data).hexdigest()


def _extraction_result_hash(array_sha256_hex: str, statistics: Mapping[str, Any]) -> str:
    """What an extraction returned, as one hash: the exact array and its statistics (RFC 8785 JSON)."""
    return signing.sha256_hex(signing.canonical({"data_sha256": array_sha256_hex, "statistics": statistics}))


def _requested_ranges(ranges: Mapping[str, tuple[float | None, float | None]] | None) -> dict[str, list[float | None]]:
    return {axis: [lo, hi] for axis, (lo, hi) in sorted((ranges or {}).items())}


# Statistics are a pure function of the section's samples, its live mask, its orientation and the sample
# interval, under one version of the code: the cache key names all of them (the array and mask by their
# hashes, beside the survey's content hash and the section asked for), so an entry can never stand for other
# data. A cache that is down costs the computation, never the extraction.
STATISTICS_CACHE_SECONDS = 7 * 24 * 3600


def _statistics_cache_key(section: Section, data_sha256: str) -> str:
    live = np.ascontiguousarray(section.live, dtype=bool)
    identity = {
        "code": [APP_VERSION, stats.STATISTICS_VERSION, np.__version__],
        "survey_data_sha256": section.survey.data_sha256,
        "section": [section.kind, section.number, section.ranges()],
        "data": [data_sha256, str(section.data.dtype), list(section.data.shape)],
        "live": [hashlib.sha256(live.data).hexdigest(), list(live.shape)],
        "vertical": section.vertical,
        "sample_interval_s": _sample_interval_s(section.survey),
    }
    return "seismic:statistics:" + signing.sha256_hex(signing.canonical(identity))


def section_statistics_cached(section: Section, data_sha256: str) -> tuple[dict[str, Any], bool]:
    """The statistics of a section and whether they came from the cache (``data_sha256``: its array's hash)."""
    key = _statistics_cache_key(section, data_sha256)
    try:
        core = cache.get(key)
    except Exception as exc:  # any backend's connection error
        logger.warning("The statistics cache could not be read: %s", exc)
        core = None
    cached = core is not None
    if core is None:
        core = stats.section_statistics(section.data, section.live, vertical=section.vertical,
                                        sample_interval_s=_sample_interval_s(section.survey))
        try:
            cache.set(key, core, STATISTICS_CACHE_SECONDS)
        except Exception as exc:
            logger.warning("The statistics cache could not be written: %s", exc)
    return {**core, "notes": section.notes + core["notes"]}, cached


_EXTRACTION_INSERT = CompiledInsert(Extraction)


def section_extract(*, survey: Survey, kind: str, number: float,
                    ranges: Mapping[str, tuple[float | None, float | None]] | None = None,
                    principal: str) -> tuple[Section, Extraction]:
    """Read a section, compute its statistics (or take them from the cache), record the provenance row
    and witness the tool call in the ledger (its exact parameters and the hash of the array and statistics
    returned). Statistics served from the cache say so in the witness (``statistics_cached``), which its
    replay ignores: a replay always computes them."""
    started = time.perf_counter()
    section = section_read(survey=survey, kind=kind, number=number, ranges=ranges)
    data_hash = array_sha256(section.data)
    statistics, cached = section_statistics_cached(section, data_hash)
    vif_id = uuid.uuid4()
    with transaction.atomic():
        extraction = _EXTRACTION_INSERT.insert(Extraction(
            survey=survey, kind=kind, number=section.number, ranges=section.ranges(),
            parameters={"format": "float32", "statistics": "live samples only", "dead_trace_mask": "Trace channel",
                        "statistics_cached": cached},
            shape=list(section.data.shape), statistics=statistics, array_sha256=data_hash,
            survey_data_sha256=survey.data_sha256, openvds_version=vds.openvds_version(), app_version=APP_VERSION,
            principal=principal, vif_id=vif_id,
        ))
        witness = vif_services.witness_record_tool(
            tool_id="extract_section", vif_id=vif_id, writer=principal, integrate=False,
            parameters={"survey_id": survey.pk, "survey_data_sha256": survey.data_sha256, "section_type": kind,
                        "section_number": section.number, "ranges": _requested_ranges(ranges),
                        "extraction_id": extraction.pk, "openvds_version": extraction.openvds_version,
                        "app_version": APP_VERSION, "statistics_cached": cached},
            result_hash=_extraction_result_hash(data_hash, statistics),
            execution_time_ms=(time.perf_counter() - started) * 1000.0,
        )
    # Sequenced once the extraction and its leaf have committed: the chain-head lock is not held across
    # the inserts, and concurrent reads are integrated in one batch (off the request, in production).
    ledger.integrate_after_commit([witness])
    return section, extraction


def section_extract_replay(parameters: Mapping[str, Any]) -> replay.ToolReplay:
    """Recompute a witnessed extraction from the survey as it is now."""
    survey = survey_get(survey_id=parameters["survey_id"])
    ranges = {axis: (bounds[0], bounds[1]) for axis, bounds in (parameters.get("ranges") or {}).items()}
    section = section_read(survey=survey, kind=parameters["section_type"], number=parameters["section_number"],
                           ranges=ranges)
    statistics = section_statistics(section)
    return replay.ToolReplay(
        result_hash=_extraction_result_hash(array_sha256(section.data), statistics),
        inputs={"survey_data_sha256": survey.data_sha256, "openvds_version": vds.openvds_version(),
                "app_version": APP_VERSION},
    )


def section_png(*, section: Section, clip_percentile: float = 99.0) -> bytes:
    if not 50.0 <= clip_percentile <= 100.0:
        raise InputError("clip must be a percentile between 50 and 100.")
    first, second = section.axes
    label = {"inline": "inline", "crossline": "crossline",
             "sample": f"{section.survey.domain} ({section.survey.sample_unit})"}
    title = f"{section.survey.name}  {section.kind} {section.number:g}"
    if section.vertical:
        return imaging.render_png(section.data.T, section.live[None, :], x_values=first.values(),
                                  y_values=second.values(), x_label=label[first.name], y_label=label[second.name],
                                  title=title, clip_percentile=clip_percentile)
    return imaging.render_png(section.data, section.live, x_values=second.values(), y_values=first.values(),
                              x_label=label[second.name], y_label=label[first.name], title=title,
                              clip_percentile=clip_percentile)
