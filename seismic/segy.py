"""A quick look at a SEG-Y file's headers before handing it to SEGYImport, and one streamed read of the
whole file while SEGYImport runs (``digest``). Plain Python and numpy.

SEGYImport accepts a truncated file with only a warning, and reports a file that is not SEG-Y at
all, or little-endian SEG-Y it is not told about, as "primary key values are not sorted"; this check
says what is actually wrong, and which byte order to tell SEGYImport.
"""

from __future__ import annotations

import hashlib
import os
import struct
import threading
from dataclasses import dataclass

import numpy as np

TEXT_HEADER = 3200
BINARY_HEADER = 400
TRACE_HEADER = 240
# SEG-Y rev 2 data sample format codes and their sizes in bytes.
SAMPLE_BYTES = {1: 4, 2: 4, 3: 2, 5: 4, 6: 8, 8: 1, 9: 8, 10: 4, 11: 2, 12: 8, 15: 3, 16: 1}
# Line numbers beyond this are not line numbers: random bytes, or a coordinate at the key's position.
MAX_KEY = 10_000_000
SAMPLE_FORMAT_NAMES = {1: "4-byte IBM float", 2: "4-byte integer", 3: "2-byte integer", 5: "4-byte IEEE float",
                       6: "8-byte IEEE float", 8: "1-byte integer", 9: "8-byte integer", 10: "4-byte unsigned",
                       11: "2-byte unsigned", 12: "8-byte unsigned", 15: "3-byte integer", 16: "1-byte unsigned"}


class SegyError(ValueError):
    """The file is not a SEG-Y file this site can import; the message says why."""


@dataclass(frozen=True)
class SegyInfo:
    size_bytes: int
    byte_order: str
    sample_format: int
    samples_per_trace: int
    sample_interval_us: int
    extended_headers: int
    traces: int

    @property
    def little_endian(self) -> bool:
        return self.byte_order == "little-endian"

    @property
    def sample_format_name(self) -> str:
        return SAMPLE_FORMAT_NAMES.get(self.sample_format, str(self.sample_format))

    @property
    def first_trace(self) -> int:
        """The byte offset of the first trace header (after the file header and any extended text headers)."""
        return TEXT_HEADER + BINARY_HEADER + self.extended_headers * TEXT_HEADER

    @property
    def trace_bytes(self) -> int:
        return TRACE_HEADER + self.samples_per_trace * SAMPLE_BYTES[self.sample_format]

    @property
    def order(self) -> str:
        return "<" if self.little_endian else ">"


def _binary(header: bytes, order: str) -> tuple[int, int, int, int, int]:
    interval, = struct.unpack(order + "H", header[16:18])
    samples, = struct.unpack(order + "H", header[20:22])
    fmt, = struct.unpack(order + "h", header[24:26])
    extended, = struct.unpack(order + "h", header[304:306])
    ext_samples, = struct.unpack(order + "I", header[68:72])
    return interval, samples, fmt, extended, ext_samples


def inspect(path: str | os.PathLike[str], *, inline_byte: int = 189, crossline_byte: int = 193,
            two_d: bool = False, cdp_byte: int = 21) -> SegyInfo:
    """The file's layout from its headers, or SegyError saying what is wrong. Besides the file header,
    the first, middle and last trace headers are read: their sample counts and key numbers (inline and
    crossline, or CDP for a 2D line) must be plausible, and the primary key in order."""
    size = os.path.getsize(path)
    if size < TEXT_HEADER + BINARY_HEADER + TRACE_HEADER:
        raise SegyError(f"Not a SEG-Y file: {size} bytes is shorter than the 3600-byte file header "
                        "plus one 240-byte trace header.")
    with open(path, "rb") as handle:
        head = handle.read(TEXT_HEADER + BINARY_HEADER)
        binary = head[TEXT_HEADER:]
        # Format codes are 1-16: read in the wrong byte order they are multiples of 256, so at most one
        # order gives a valid code.
        for order, name in ((">", "big-endian"), ("<", "little-endian")):  # noqa: B007  name is used after break
            interval, samples, fmt, extended, ext_samples = _binary(binary, order)
            if fmt in SAMPLE_BYTES:
                break
        else:
            raise SegyError("Not a SEG-Y file: the binary header (bytes 3201-3600) has no valid data sample "
                            "format code at bytes 3225-3226, in either byte order.")
        if samples == 0 and ext_samples:
            samples = ext_samples
        extended = max(extended, 0)
        first_trace = TEXT_HEADER + BINARY_HEADER + extended * TEXT_HEADER
        handle.seek(first_trace)
        trace_header = handle.read(TRACE_HEADER)
        if len(trace_header) < TRACE_HEADER:
            raise SegyError("Truncated SEG-Y file: it ends before the first trace header.")
        trace_samples, = struct.unpack(order + "H", trace_header[114:116])
        trace_interval, = struct.unpack(order + "H", trace_header[116:118])
        samples = samples or trace_samples
        interval = interval or trace_interval
        if samples <= 0:
            raise SegyError("Not a usable SEG-Y file: the number of samples per trace is 0 in both the binary "
                            "header (bytes 3221-3222) and the first trace header (bytes 115-116).")
        if interval <= 0:
            raise SegyError("Not a usable SEG-Y file: the sample interval is 0 in both the binary header "
                            "(bytes 3217-3218) and the first trace header (bytes 117-118).")
        trace_bytes = TRACE_HEADER + samples * SAMPLE_BYTES[fmt]
        data_bytes = size - first_trace
        traces, remainder = divmod(data_bytes, trace_bytes)
        if traces == 0 or remainder:
            raise SegyError(
                f"Truncated or inconsistent SEG-Y file: after the {first_trace}-byte header, {data_bytes} bytes "
                f"are not a whole number of {trace_bytes}-byte traces ({samples} samples of "
                f"{SAMPLE_FORMAT_NAMES[fmt]} each); {traces} whole traces and {remainder} bytes left over."
            )
        keys = {"CDP": cdp_byte} if two_d else {"inline": inline_byte, "crossline": crossline_byte}
        sampled: list[tuple[int, dict[str, int]]] = []
        for index in sorted({0, traces // 2, traces - 1}):
            handle.seek(first_trace + index * trace_bytes)
            sampled.append((index + 1, _trace_keys(handle.read(TRACE_HEADER), order, index + 1, traces, keys)))
    _check_sample_counts(sampled, traces)
    _check_order(sampled, traces, *next(iter(keys.items())))
    return SegyInfo(size_bytes=size, byte_order=name, sample_format=fmt, samples_per_trace=samples,
                    sample_interval_us=interval, extended_headers=extended, traces=traces)


_NOT_TRACES = "the bytes after the file header are not SEG-Y traces"


def _trace_keys(header: bytes, order: str, number: int, traces: int, keys: dict[str, int]) -> dict[str, int]:
    """The key numbers of one trace header (and its sample count, as "samples"), if plausible."""
    values = {"samples": struct.unpack(order + "H", header[114:116])[0]}
    for label, byte in keys.items():
        value, = struct.unpack(order + "i", header[byte - 1:byte + 3])
        if abs(value) > MAX_KEY:
            raise SegyError(f"Not a usable SEG-Y file: trace {number} of {traces} has {label} number {value} at "
                            f"bytes {byte}-{byte + 3} of its header, which is no {label} number: {_NOT_TRACES}, or "
                            f"the {label} number is at other bytes ({label.lower()}_byte).")
        values[label] = value
    return values


def _check_sample_counts(sampled: list[tuple[int, dict[str, int]]], traces: int) -> None:
    """Trace headers repeat the number of samples (bytes 115-116); some writers leave a stale value there,
    but the same one in every trace. Different values mean the bytes are not traces of one length."""
    if len({keys["samples"] for _, keys in sampled}) > 1:
        seen = ", ".join(f"{keys['samples']} in trace {number}" for number, keys in sampled)
        raise SegyError(f"Not a usable SEG-Y file: the trace headers disagree on the number of samples per trace "
                        f"(bytes 115-116): {seen} of {traces}. Either {_NOT_TRACES}, or its traces are not all the "
                        "same length.")


def _check_order(sampled: list[tuple[int, dict[str, int]]], traces: int, label: str, byte: int) -> None:
    """SEGYImport needs the traces in order of the primary key (ascending or descending)."""
    values = [keys[label] for _, keys in sampled]
    if values == sorted(values) or values == sorted(values, reverse=True):
        return
    seen = ", ".join(f"{keys[label]} in trace {number}" for number, keys in sampled)
    raise SegyError(f"The traces are not in {label} order: the {label} numbers at bytes {byte}-{byte + 3} are "
                    f"{seen} of {traces}. SEGYImport needs the traces sorted by {label}: check the "
                    f"{label.lower()}_byte position, or sort the file.")


# --- One read of the whole file: its hash, and its samples' ------------------------------------------

# Sample formats SEGYImport stores as they are (float32, only the byte order changed): 4-byte IEEE floats. IBM
# floats and integers it converts or scales, so their hash is taken from the volume instead.
VERBATIM_FORMATS = frozenset({5})
DIGEST_BLOCK_BYTES = 4 << 20  # about this much of the file in memory at a time (and as much again converted)


class DigestCancelled(Exception):
    """``digest`` was told to stop (the import it served failed)."""


@dataclass(frozen=True)
class Grid:
    """A 3D file whose traces fill a regular (inline, crossline) grid, one trace per cell, inline after inline in
    ascending order and each inline's crosslines ascending: the order of the volume SEGYImport makes of it."""

    inline_first: int
    inline_step: int
    inlines: int
    crossline_first: int
    crossline_step: int
    crosslines: int

    @property
    def cells(self) -> int:
        return self.inlines * self.crosslines


@dataclass(frozen=True)
class Digest:
    sha256: str  # of the file's bytes, all of them
    samples_sha256: str | None  # of its samples as little-endian float32, trace after trace (verbatim formats)
    grid: Grid | None  # when the traces fill a grid in the volume's order; None otherwise, or for a 2D line


class _GridCheck:
    """Follows the inline and crossline numbers of the traces, block by block, to tell whether they fill a
    ``Grid``. Until the first inline ends, the numbers read are kept (one inline's worth); after that, each block
    is checked against the grid they set out, and nothing is kept."""

    def __init__(self) -> None:
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.layout: tuple[int, int, int, int, int] | None = None  # il0, il step, xl0, xl step, crosslines
        self.seen = 0
        self.regular = True

    def feed(self, inlines: np.ndarray, crosslines: np.ndarray) -> None:
        if not self.regular or not len(inlines):
            return
        if self.layout is None:
            self.pending.append((inlines, crosslines))
            inlines, crosslines = (np.concatenate(part) for part in zip(*self.pending, strict=True))
            changed = np.flatnonzero(inlines != inlines[0])
            if not changed.size:
                return  # still on the first inline
            self.pending = []
            per_inline = int(changed[0])
            xl_step = int(crosslines[1] - crosslines[0]) if per_inline > 1 else 1
            il_step = int(inlines[per_inline] - inlines[0])
            if xl_step <= 0 or il_step <= 0:
                self.regular = False
                return
            self.layout = (int(inlines[0]), il_step, int(crosslines[0]), xl_step, per_inline)
        il0, il_step, xl0, xl_step, per_inline = self.layout
        index = np.arange(self.seen, self.seen + len(inlines), dtype=np.int64)
        self.seen += len(inlines)
        self.regular = bool(np.array_equal(inlines, il0 + index // per_inline * il_step)
                            and np.array_equal(crosslines, xl0 + index % per_inline * xl_step))

    def grid(self) -> Grid | None:
        if not self.regular:
            return None
        if self.layout is None:  # a single inline
            if not self.pending:
                return None
            inlines, crosslines = (np.concatenate(part) for part in zip(*self.pending, strict=True))
            xl_step = int(crosslines[1] - crosslines[0]) if len(crosslines) > 1 else 1
            expected = crosslines[0] + np.arange(len(crosslines), dtype=np.int64) * xl_step
            if xl_step <= 0 or not np.array_equal(crosslines, expected):
                return None
            return Grid(int(inlines[0]), 1, 1, int(crosslines[0]), xl_step, len(crosslines))
        il0, il_step, xl0, xl_step, per_inline = self.layout
        if self.seen % per_inline:
            return None  # the last inline is short
        return Grid(il0, il_step, self.seen // per_inline, xl0, xl_step, per_inline)


def _key(traces: np.ndarray, byte: int, order: str) -> np.ndarray:
    """The 4-byte integer at ``byte`` (1-based) of each trace header of ``traces`` (one row a trace)."""
    return traces[:, byte - 1:byte + 3].view(order + "i4")[:, 0].astype(np.int64)


def digest(path: str | os.PathLike[str], info: SegyInfo, *, inline_byte: int = 189, crossline_byte: int = 193,
           two_d: bool = False, cancel: threading.Event | None = None,
           block_bytes: int = DIGEST_BLOCK_BYTES) -> Digest:
    """Read the file once, from start to end, in blocks of whole traces: its SHA-256 and, for a 3D file of a
    verbatim sample format, the SHA-256 of its samples as little-endian float32 in file order and whether its
    traces fill a grid in the volume's order. When they do, that second hash is the one ``vds.scan_volume``
    finds on the volume SEGYImport makes of the file (the caller checks the volume agrees before relying on
    it). Memory stays at about twice ``block_bytes`` whatever the file's size; hashlib and numpy release the
    interpreter lock on these buffers, so this runs beside other work in a thread. ``cancel`` set: stops
    with ``DigestCancelled`` after the block being read."""
    file_hash = hashlib.sha256()
    samples_hash = hashlib.sha256() if info.sample_format in VERBATIM_FORMATS and not two_d else None
    check = _GridCheck() if samples_hash is not None else None
    trace_bytes, samples = info.trace_bytes, info.samples_per_trace
    per_block = max(1, block_bytes // trace_bytes)
    buffer = bytearray(per_block * trace_bytes)
    converted = np.empty((per_block, samples), dtype="<f4") if samples_hash is not None else None
    whole = True
    with open(path, "rb", buffering=0) as handle:
        file_hash.update(handle.read(info.first_trace))
        view = memoryview(buffer)
        while True:
            if cancel is not None and cancel.is_set():
                raise DigestCancelled
            filled = 0
            while filled < len(buffer):
                read = handle.readinto(view[filled:])
                if not read:
                    break
                filled += read
            if not filled:
                break
            file_hash.update(view[:filled])
            count, rest = divmod(filled, trace_bytes)
            if rest:
                whole = False  # the file changed since it was inspected: take no shortcut
            if samples_hash is not None and converted is not None and check is not None and count:
                traces = np.frombuffer(buffer, dtype=np.uint8, count=count * trace_bytes).reshape(count, trace_bytes)
                check.feed(_key(traces, inline_byte, info.order), _key(traces, crossline_byte, info.order))
                np.copyto(converted[:count], traces[:, TRACE_HEADER:].view(info.order + "f4"))
                samples_hash.update(converted[:count].data)
            if filled < len(buffer):
                break
    grid = check.grid() if check is not None and whole else None
    samples_sha256 = samples_hash.hexdigest() if samples_hash is not None and grid is not None else None
    return Digest(sha256=file_hash.hexdigest(), samples_sha256=samples_sha256, grid=grid)


def read_traces(path: str | os.PathLike[str], info: SegyInfo, first: int, count: int) -> np.ndarray:
    """The samples of traces ``first`` to ``first + count`` (0-based, in file order) as float32, one row a trace;
    verbatim sample formats only."""
    if info.sample_format not in VERBATIM_FORMATS:
        raise ValueError(f"Sample format {info.sample_format} is not stored verbatim")
    with open(path, "rb") as handle:
        handle.seek(info.first_trace + first * info.trace_bytes)
        raw = handle.read(count * info.trace_bytes)
    traces = np.frombuffer(raw, dtype=np.uint8).reshape(-1, info.trace_bytes)
    return traces[:, TRACE_HEADER:].view(info.order + "f4").astype("<f4")
