"""The only module that imports ``openvds``: opening volumes, geometry, reading subsets, the
live-trace mask, and the OpenVDS tools that write volumes (SEGYImport; VDSCopy adding slice layouts).
Everything else asks it for numpy arrays.

Handles are opened lazily and per process (a handle opened before ``fork()`` hangs in the child),
and cached by URL: OpenVDS keeps decoded bricks in the handle, so the second read of a region is
served from memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import openvds

from vifsite import childproc, netguard

SAMPLE, CROSSLINE, INLINE = "sample", "crossline", "inline"
# Axis names SEGYImport writes, by dimension: 0 is the fastest (samples).
_SAMPLE_NAMES = {"Sample", "Time", "Depth"}
_CROSSLINE_NAMES = {"Crossline", "CDP", "Trace"}
_INLINE_NAMES = {"Inline"}
CLOUD_SCHEMES = ("s3://", "azure://", "azureSAS://", "gs://", "http://", "https://", "dms://")


class VolumeError(Exception):
    """A volume cannot be opened or does not have the shape of a post-stack seismic volume."""


@dataclass(frozen=True)
class Axis:
    name: str
    unit: str
    count: int
    first: float
    last: float
    step: float

    def value(self, index: int) -> float:
        return self.first + index * self.step

    def values(self) -> np.ndarray:
        return self.first + np.arange(self.count) * self.step

    def index_of(self, value: float) -> int | None:
        """Index of an annotation value on this axis' grid, or None when it is off the grid."""
        if self.count == 1:
            return 0 if abs(value - self.first) <= 1e-6 * max(1.0, abs(self.first)) else None
        position = (value - self.first) / self.step
        index = round(position)
        if abs(position - index) > 1e-6 or not 0 <= index < self.count:
            return None
        return int(index)

    def as_dict(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last, "step": self.step, "count": self.count, "unit": self.unit}

    def describe(self) -> str:
        if self.count == 1:
            return f"{_fmt(self.first)} (a single value)"
        return f"{_fmt(self.first)} to {_fmt(self.last)} in steps of {_fmt(self.step)}"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Geometry:
    inline: Axis
    crossline: Axis
    sample: Axis
    dimensionality: int
    coordinate_system: dict[str, Any] = field(default_factory=dict)
    crs_wkt: str = ""
    storage_format: str = ""
    compression: str = ""
    lossy: bool = False
    source_sample_format: int | None = None
    has_trace_channel: bool = True

    @property
    def domain(self) -> str:
        return "depth" if self.sample.unit.lower() in {"m", "ft", "meter", "meters", "foot", "feet"} else "time"

    @property
    def quantized(self) -> bool:
        """Float samples stored as 8- or 16-bit integers: values are rounded, say so."""
        float_source = self.source_sample_format in (1, 5, 6)
        return float_source and self.storage_format in ("Format_U8", "Format_U16")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["domain"] = self.domain
        data["quantized"] = self.quantized
        return data


_handles: dict[tuple[int, str], Any] = {}
_lock = threading.Lock()


# Keys of a connection string whose values are secrets, kept out of every message (``_without_secrets``).
_SECRET_KEY = re.compile(r"secret|token|key|password|credential|suffix|signature|sig$", re.IGNORECASE)


def _without_secrets(text: str, connection: str) -> str:
    """``text`` with the secret values of ``connection`` masked: OpenVDS's messages have not been seen to
    carry them, but they go to logs, which must never."""
    for key, _, value in (item.partition("=") for item in connection.split(";")):
        if value and _SECRET_KEY.search(key.strip()):
            text = text.replace(value, "***")
    return text


def _handle(url: str, connection: str = "") -> Any:
    """The process's handle of ``url``. A URL under one of the operator's stores opens with that store's
    connection string (``netguard.volume_store``) when none is given, so every read, in any process, uses it."""
    key = (os.getpid(), url)
    handle = _handles.get(key)
    if handle is None:
        with _lock:
            handle = _handles.get(key)
            if handle is None:
                if "://" not in url and not os.path.exists(url):
                    raise VolumeError(f"No volume at {url}")
                if not connection and "://" in url:
                    store = netguard.volume_store(url)
                    connection = store[1] if store else ""
                try:
                    handle = openvds.open(url, connection)
                except Exception as exc:  # openvds raises RuntimeError subclasses with the reason
                    # Not chained: a logged traceback would show the original message, unmasked.
                    raise VolumeError(f"OpenVDS cannot open {url}: {_without_secrets(str(exc), connection)}") from None
                _handles[key] = handle
    return handle


def close(url: str) -> None:
    handle = _handles.pop((os.getpid(), url), None)
    if handle is not None:
        openvds.close(handle)


def close_all() -> None:
    for key in [k for k in _handles if k[0] == os.getpid()]:
        openvds.close(_handles.pop(key))


def openvds_version() -> str:
    return f"{openvds.getOpenVDSName()} {openvds.getOpenVDSVersion()}"


def _axis(descriptor: Any, name: str) -> Axis:
    count = int(descriptor.getNumSamples())
    first = float(descriptor.getCoordinateMin())
    last = float(descriptor.getCoordinateMax())
    step = (last - first) / (count - 1) if count > 1 else 0.0
    return Axis(name=name, unit=str(descriptor.getUnit()), count=count, first=first, last=last, step=step)


def _metadata(layout: Any) -> tuple[dict[str, Any], str, int | None]:
    system: dict[str, Any] = {}
    category = "SurveyCoordinateSystem"
    for key in ("Origin", "InlineSpacing", "CrosslineSpacing"):
        if layout.isMetadataDoubleVector2Available(category, key):
            system[key[0].lower() + key[1:]] = list(layout.getMetadataDoubleVector2(category, key))
    if layout.isMetadataStringAvailable(category, "Unit"):
        system["unit"] = layout.getMetadataString(category, "Unit")
    wkt = ""
    if layout.isMetadataStringAvailable(category, "CRSWkt"):
        wkt = layout.getMetadataString(category, "CRSWkt")
    sample_format = None
    if layout.isMetadataIntAvailable("SEGY", "DataSampleFormatCode"):
        sample_format = int(layout.getMetadataInt("SEGY", "DataSampleFormatCode"))
    return system, wkt, sample_format


def read_geometry(url: str, connection: str = "") -> Geometry:
    handle = _handle(url, connection)
    layout = openvds.getLayout(handle)
    dims = layout.getDimensionality()
    descriptors = [layout.getAxisDescriptor(d) for d in range(dims)]
    names = [str(d.getName()) for d in descriptors]
    if dims == 3:
        if names[0] not in _SAMPLE_NAMES or names[1] not in _CROSSLINE_NAMES or names[2] not in _INLINE_NAMES:
            raise VolumeError(f"Not a post-stack 3D volume: axes are {names}, expected Sample, Crossline, Inline")
        sample, crossline, inline = (_axis(descriptors[0], SAMPLE), _axis(descriptors[1], CROSSLINE),
                                     _axis(descriptors[2], INLINE))
    elif dims == 2:
        if names[0] not in _SAMPLE_NAMES:
            raise VolumeError(f"Not a post-stack 2D line: axes are {names}")
        # A 2D line: its traces (CDPs) play the crossline's part on a single inline.
        sample, crossline = _axis(descriptors[0], SAMPLE), _axis(descriptors[1], CROSSLINE)
        inline = Axis(name=INLINE, unit="unitless", count=1, first=1.0, last=1.0, step=0.0)
    else:
        raise VolumeError(f"Volumes of {dims} dimensions are not supported (axes {names})")
    if layout.getChannelCount() < 1:
        raise VolumeError("The volume has no data channel")
    channel = layout.getChannelDescriptor(0)
    compression = openvds.getCompressionMethod(handle)
    compression_name = str(compression).split(".")[-1]
    lossy = bool(openvds.compressionMethod_IsWavelet(compression)) and "Lossless" not in compression_name
    system, wkt, sample_format = _metadata(layout)
    return Geometry(
        inline=inline,
        crossline=crossline,
        sample=sample,
        dimensionality=dims,
        coordinate_system=system,
        crs_wkt=wkt,
        storage_format=str(channel.getFormat()).split(".")[-1],
        compression=compression_name,
        lossy=lossy,
        source_sample_format=sample_format,
        has_trace_channel=layout.getChannelIndex("Trace") >= 0,
    )


def _group_for(inlines: int, crosslines: int, samples: int) -> Any:
    """The dimension group a request of this shape reads best: a section one line or one sample thick asks
    for its plane (OpenVDS serves it from slice bricks when the volume has them, and assembles it from
    the 3D bricks otherwise, faster than through a 3D request); anything thicker, the 3D bricks. Dimension 0
    is the sample axis, 1 the crossline, 2 the inline."""
    if inlines == 1:
        return openvds.DimensionsND.Dimensions_01
    if crosslines == 1:
        return openvds.DimensionsND.Dimensions_02
    if samples == 1:
        return openvds.DimensionsND.Dimensions_12
    return openvds.DimensionsND.Dimensions_012


def _request(url: str, dims: int, lo: tuple[int, int, int], hi: tuple[int, int, int], channel: int) -> np.ndarray:
    """Read [lo, hi) given as (inline, crossline, sample) indices; returns (inline, crossline, sample)."""
    handle = _handle(url)
    manager = openvds.getAccessManager(handle)
    (il0, xl0, s0), (il1, xl1, s1) = lo, hi
    if dims == 3:
        vmin, vmax = (s0, xl0, il0, 0, 0, 0), (s1, xl1, il1, 1, 1, 1)
        group = _group_for(il1 - il0, xl1 - xl0, s1 - s0)
    else:
        vmin, vmax = (s0, xl0, 0, 0, 0, 0), (s1, xl1, 1, 1, 1, 1)
        group = openvds.DimensionsND.Dimensions_01
    request = manager.requestVolumeSubset(vmin, vmax, dimensionsND=group, channel=channel,
                                          format=openvds.VolumeDataFormat.Format_R32)
    data = request.data
    if data is None:
        raise VolumeError(f"OpenVDS returned no data for {url}")
    return np.asarray(data, dtype=np.float32).reshape(il1 - il0, xl1 - xl0, s1 - s0)


def read_subset(url: str, geometry: Geometry, lo: tuple[int, int, int], hi: tuple[int, int, int]) -> np.ndarray:
    """Amplitudes of the index box [lo, hi) as float32, shaped (inline, crossline, sample)."""
    return _request(url, geometry.dimensionality, lo, hi, channel=0)


def read_trace_mask(url: str, geometry: Geometry, lo: tuple[int, int], hi: tuple[int, int]) -> np.ndarray:
    """Live traces of the (inline, crossline) index box [lo, hi), from the ``Trace`` channel.

    A volume without that channel reports every trace live; callers say so, because its dead
    traces then read as zeros indistinguishable from data.
    """
    if not geometry.has_trace_channel:
        return np.ones((hi[0] - lo[0], hi[1] - lo[1]), dtype=bool)
    handle = _handle(url)
    channel = openvds.getLayout(handle).getChannelIndex("Trace")
    mask = _request(url, geometry.dimensionality, (lo[0], lo[1], 0), (hi[0], hi[1], 1), channel=channel)
    return mask[:, :, 0] > 0.5


def scan_volume(url: str, geometry: Geometry, *, inlines_per_read: int = 16) -> tuple[str, int]:
    """SHA-256 of every amplitude (float32, inline-major) and the number of live traces.

    The hash identifies the data itself, whatever file or URL holds it.
    """
    digest = hashlib.sha256()
    live = 0
    nil, nxl, ns = geometry.inline.count, geometry.crossline.count, geometry.sample.count
    for start in range(0, nil, inlines_per_read):
        stop = min(nil, start + inlines_per_read)
        block = read_subset(url, geometry, (start, 0, 0), (stop, nxl, ns))
        digest.update(np.ascontiguousarray(block, dtype="<f4").tobytes())
        live += int(read_trace_mask(url, geometry, (start, 0), (stop, nxl)).sum())
    return digest.hexdigest(), live


# --- Slice layouts: 2D bricks beside the 3D ones ----------------------------------------------

# The planes a section reads (``_group_for``). A volume stores them as 2D "slice" bricks only when they were
# added (``VDSCopy -a``); otherwise OpenVDS assembles them from the 3D bricks ("remapped").
SLICE_GROUPS = ("Dimensions_01", "Dimensions_02", "Dimensions_12")


def has_slice_layouts(url: str, connection: str = "") -> bool:
    """Whether the volume stores slice bricks for inlines, crosslines and timeslices (all three). Reads the
    volume's layout only, no data: cheap on a cloud URL too. A 2D line has one plane, its own bricks."""
    handle = _handle(url, connection)
    if openvds.getLayout(handle).getDimensionality() != 3:
        return False
    manager = openvds.getAccessManager(handle)
    return all(manager.getVDSProduceStatus(getattr(openvds.DimensionsND, group), 0, 0)
               == openvds.VDSProduceStatus.Normal for group in SLICE_GROUPS)


def copy_with_slice_layouts(source: str, destination: str, *, progress: Any = None,
                            started: Callable[[int], None] | None = None) -> str:
    """Copy the local volume ``source`` to ``destination`` with VDSCopy, adding the slice bricks of
    ``SLICE_GROUPS`` beside its 3D bricks; return VDSCopy's log (naming both by their file names).

    The copy keeps the source's channels, metadata and compression: for an uncompressed or losslessly
    compressed source its samples are the same, which callers check (``scan_volume``) where it matters.
    ``progress`` and ``started`` as for ``segy_import``; VDSCopy dies with this process (``childproc``).
    """
    command = [tool_path("VDSCopy")]
    for group in SLICE_GROUPS:
        command += ["-a", group.removeprefix("Dimensions_")]
    command += [source, destination]
    code, log = _run_tool(command, progress=progress, started=started,
                          names={destination: os.path.basename(destination), source: os.path.basename(source)})
    if code != 0:  # its messages are bracketed ("[Could not create VDS …] …")
        reason = "; ".join(line.strip() for line in log.splitlines() if line.startswith("[")) or (
            f"VDSCopy exited with status {code}")
        raise ImportFailed(f"VDSCopy could not add slice layouts: {reason}", log)
    return log


# A copy with slice bricks is 3.4-3.7 times the volume without them (measured, bench/layouts.py), and the
# volume stays while it is written: ask for this many times its size free beside it.
SLICE_COPY_ROOM = 4.0


class VolumeBusy(VolumeError):
    """Another process is changing this volume's layout."""


def room_for_slice_layouts(path: str) -> tuple[bool, str]:
    """Whether the disk holding the local volume ``path`` has room for its copy with slice layouts, and the
    sizes that say so."""
    need = os.path.getsize(path) * SLICE_COPY_ROOM
    free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    return free >= need, f"about {need / 1e6:,.0f} MB needed, {free / 1e6:,.0f} MB free"


def slice_copy_path(path: str) -> str:
    """Where ``add_slice_layouts_in_place`` writes its copy of ``path``, beside it."""
    return path + ".slices.partial"


def _remove_file(path: str) -> None:
    close(path)
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def _fsync(path: str) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _keep_owner_and_mode(original: str, copy: str) -> None:
    """The copy takes the volume's permissions, and its owner where this process may give it (an administrator
    running the command as root must not leave the web server's volume owned by root)."""
    shutil.copymode(original, copy)
    stat = os.stat(original)
    try:
        os.chown(copy, stat.st_uid, stat.st_gid)
    except PermissionError:
        pass


def add_slice_layouts_in_place(path: str, *, check: Callable[[str], None], progress: Any = None) -> str | None:
    """Give the local volume ``path`` slice layouts; VDSCopy's log, or None when it has them already.

    VDSCopy writes the copy beside the volume (``slice_copy_path``); ``check`` gets the copy's path and raises
    if it is not what it should be (the same samples); only then is the copy flushed to disk and renamed over
    the volume: one step on one file system, so a reader opens either the old file or the new one, never a
    part. If anything fails or is interrupted the volume is as it was and the copy is removed; a copy left by
    a killed run is removed by the next one. One run per volume at a time: a second gets ``VolumeBusy``.
    Processes that have the volume open keep reading the file they opened until they reopen it.
    """
    if "://" in path:
        raise VolumeError("Slice layouts are added in place to local volumes only.")
    copy = slice_copy_path(path)
    with open(path, "rb") as volume:  # the lock is advisory, on the file: OpenVDS itself takes none
        try:
            fcntl.flock(volume.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise VolumeBusy("Slice layouts are being added to this volume by another process.") from None
        close(path)  # a handle of this process may be on a file renamed over since
        if has_slice_layouts(path):
            return None
        room, sizes = room_for_slice_layouts(path)
        if not room:
            raise VolumeError(f"Not enough free disk beside the volume for its copy with slice layouts ({sizes}).")
        _remove_file(copy)  # left by a run that was killed
        try:
            log = copy_with_slice_layouts(path, copy, progress=progress)
            if not has_slice_layouts(copy):
                raise ImportFailed("VDSCopy wrote a copy without the slice layouts it was asked for.", log)
            check(copy)
            close(copy)
            _keep_owner_and_mode(path, copy)
            _fsync(copy)
            os.replace(copy, path)
            directory = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename itself, durable
            finally:
                os.close(directory)
        except BaseException:
            _remove_file(copy)
            raise
        finally:
            close(path)
    return log


# --- SEG-Y import through OpenVDS's SEGYImport -------------------------------------------------

class ImportFailed(Exception):
    """SEGYImport (or VDSCopy) did not produce a usable volume; the message carries its own words."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(message)
        self.log = log


def tool_path(name: str) -> str:
    """An OpenVDS command-line tool from the ``openvds`` wheel, installed beside this Python."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.exists(beside):
        return beside
    found = shutil.which(name)
    if not found:
        raise ImportFailed(f"{name} not found next to {sys.executable} nor on PATH: is the openvds wheel installed?",
                           "")
    return found


_PROGRESS = re.compile(rb"(\d+(?:\.\d+)?) % Done")


def segy_import(
    source: str,
    destination: str,
    *,
    inline_byte: int = 189,
    crossline_byte: int = 193,
    two_d: bool = False,
    cdp_byte: int = 21,
    sample_unit: str = "ms",
    little_endian: bool = False,
    progress: Any = None,
    started: Callable[[int], None] | None = None,
    source_label: str = "",
) -> str:
    """Run SEGYImport from ``source`` to the VDS file ``destination``; return its log.

    ``progress`` is called with the percentage done as SEGYImport reports it, ``started`` with its pid.
    SEGYImport dies with this process (see ``childproc``). Warnings that leave a wrong volume behind
    (an inconsistent file size) are treated as failures. Messages and log name the source by
    ``source_label`` (the user's file name) and the destination by its file name: never a server path.
    """
    command = [tool_path("SEGYImport"), "--vdsfile", destination, "--disable-print-text-header",
               "--sample-unit", sample_unit]
    if little_endian:
        command.append("--little-endian")
    if two_d:
        command += ["--2d", "--header-field", f"EnsembleNumber={cdp_byte}:4"]
    else:
        command += ["--header-field", f"InlineNumber={inline_byte}:4",
                    "--header-field", f"CrosslineNumber={crossline_byte}:4"]
    command.append(source)
    code, log = _run_tool(command, progress=progress, started=started,
                          names={destination: os.path.basename(destination),
                                 source: source_label or os.path.basename(source)})
    problems = [line for line in log.splitlines()
                if line.startswith("[") or "Warning: File size is inconsistent" in line or "rror" in line]
    if code != 0 or any("inconsistent" in p for p in problems):
        reason = "; ".join(p.strip() for p in problems) or f"SEGYImport exited with status {code}"
        raise ImportFailed(f"SEGYImport could not import this file: {reason}", log)
    return log


def _run_tool(command: list[str], *, progress: Any, started: Callable[[int], None] | None,
              names: dict[str, str]) -> tuple[int, str]:
    """Run an OpenVDS tool to its end; its exit status and its output without the progress counter, the
    paths in ``names`` replaced by what to show instead. ``progress`` gets the percentage done (in steps
    of at least 1), ``started`` the tool's pid. The tool does not outlive this call if it is interrupted."""
    tool = os.path.basename(command[0])
    process = childproc.spawn(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks: list[bytes] = []
    if process.stdout is None:  # stdout=PIPE above; narrows the type
        raise RuntimeError(f"{tool} was started without a stdout pipe")
    last = -1.0
    try:
        if started is not None:
            started(process.pid)
        while True:
            chunk = process.stdout.read1(4096)  # type: ignore[attr-defined]
            if not chunk:
                break
            chunks.append(chunk)
            if progress is not None:
                found = _PROGRESS.findall(chunk)
                if found:
                    value = float(found[-1])
                    if value >= last + 1 or value == 100.0:
                        last = value
                        progress(value)
    except BaseException:  # a failing callback, an interrupt: the tool must not outlive the call
        process.kill()
        process.wait()
        raise
    code = process.wait()
    log = _PROGRESS.sub(b"", b"".join(chunks)).decode("utf-8", "replace")
    for path, shown in sorted(names.items(), key=lambda item: -len(item[0])):  # a path may begin another
        log = log.replace(path, shown)
    return code, "\n".join(line.rstrip() for line in log.splitlines() if line.strip())
