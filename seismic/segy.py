"""A quick look at a SEG-Y file's headers before handing it to SEGYImport. Plain Python.

SEGYImport accepts a truncated file with only a warning, and reports a file that is not SEG-Y at
all as "primary key values are not sorted"; this check says what is actually wrong.
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
    def sample_format_name(self) -> str:
        return SAMPLE_FORMAT_NAMES.get(self.sample_format, str(self.sample_format))


def _binary(header: bytes, order: str) -> tuple[int, int, int, int, int]:
    interval, = struct.unpack(order + "H", header[16:18])
    samples, = struct.unpack(order + "H", header[20:22])
    fmt, = struct.unpack(order + "h", header[24:26])
    extended, = struct.unpack(order + "h", header[304:306])
    ext_samples, = struct.unpack(order + "I", header[68:72])
    return interval, samples, fmt, extended, ext_samples


def inspect(path: str | os.PathLike[str]) -> SegyInfo:
    size = os.path.getsize(path)
    if size < TEXT_HEADER + BINARY_HEADER + TRACE_HEADER:
        raise SegyError(f"Not a SEG-Y file: {size} bytes is shorter than the 3600-byte file header "
                        "plus one 240-byte trace header.")
    with open(path, "rb") as handle:
        head = handle.read(TEXT_HEADER + BINARY_HEADER)
        binary = head[TEXT_HEADER:]
        for order, name in ((">", "big-endian"), ("<", "little-endian")):
            interval, samples, fmt, extended, ext_samples = _binary(binary, order)
            if fmt in SAMPLE_BYTES:
                break
        else:
            raise SegyError("Not a SEG-Y file: the binary header (bytes 3201-3600) has no valid data sample "
                            "format code at bytes 3225-3226.")
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
    return SegyInfo(size_bytes=size, byte_order=name, sample_format=fmt, samples_per_trace=samples,
                    sample_interval_us=interval, extended_headers=extended, traces=traces)
