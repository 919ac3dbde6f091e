"""A quick look at a SEG-Y file's headers before handing it to SEGYImport. Plain Python.

SEGYImport accepts a truncated file with only a warning, and reports a file that is not SEG-Y at
all, or little-endian SEG-Y it is not told about, as "primary key values are not sorted"; this check
says what is actually wrong, and which byte order to tell SEGYImport.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

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
