"""Growth: import time, storage and section latency as the volume grows (make bench).

Synthetic SEG-Y files of about 0.3, 2 and 8 GB (BENCH_GROWTH_SIZES, in GB, default "0.3,2,8"): square surveys of
500 samples (4-byte IEEE floats, inline-sorted, inline at byte 189, crossline at 193), streamed to disk a block
of traces at a time (memory bounded whatever the size), into a temporary directory under the system's that is
removed at the end, volumes included. For each size:

  - import: ``survey_import_segy`` without slice layouts, the whole ``manage.py import_segy`` command (Python's
    and Django's start-up included), and SEGYImport alone on the same file, in turn, then
    with slice layouts (SEGYImport, then VDSCopy); each import in a process of its own (its time from the call,
    after Django's start-up; its peak resident memory, and SEGYImport's); seconds, seconds per GB of SEG-Y, and
    the ratio to SEGYImport alone;
  - storage: the volume without and with slice layouts, as a multiple of the SEG-Y file;
  - sections through the project's read path (``services.section_read``) on both volumes: the middle inline,
    crossline and timeslice, whole (they grow with the survey's side) and as a fixed window of WINDOW traces
    (the same request at every size), cold (the OpenVDS handle dropped before each read; the operating
    system's page cache is not dropped and may hold the file) and warm (the same handle again);
  - the named worst case: segyio reading the middle inline and crossline of the inline-sorted SEG-Y (a
    crossline takes one trace from every inline, spread across the whole file), cold (the file opened for each
    read) and warm.

Medians of BENCH_GROWTH_COLD_RUNS (5) cold and BENCH_GROWTH_WARM_RUNS (9) warm reads, and of
BENCH_GROWTH_IMPORT_RUNS imports (default 3 below 1 GB, 2 above). Each import starts with what earlier runs
wrote flushed to disk (``sync``, not timed), and the project's import and SEGYImport alone take turns at going
first. Results in var/bench/growth.json (the previous run's in growth.previous.json). These are benchmarks, not
tests: nothing here fails on time.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import segyio

from bench.common import ROOT, drop_survey, median_ms, run_tool  # first: it sets Django up
from seismic import services, synthetic, vds
from seismic.models import Survey

SIZES_GB = [float(size) for size in os.environ.get("BENCH_GROWTH_SIZES", "0.3,2,8").split(",") if size.strip()]
COLD_RUNS = int(os.environ.get("BENCH_GROWTH_COLD_RUNS", 5))
WARM_RUNS = int(os.environ.get("BENCH_GROWTH_WARM_RUNS", 9))
IMPORT_RUNS = int(os.environ.get("BENCH_GROWTH_IMPORT_RUNS", 0))  # 0: by size (see import_runs)
SAMPLES, INTERVAL_US = 500, 4000
WINDOW = 256  # traces of the fixed-size section window, along each horizontal axis
TRACE_HEADER = 240
KINDS = ("inline", "crossline", "timeslice")
RESULTS = ROOT / "var" / "bench" / "growth.json"


def import_runs(gigabytes: float) -> int:
    return IMPORT_RUNS or (3 if gigabytes < 1 else 2)


def side_for(gigabytes: float) -> int:
    """Inlines (= crosslines) of a square survey of SAMPLES-sample IEEE traces whose SEG-Y is about this size."""
    return max(WINDOW, round(math.sqrt(gigabytes * 1e9 / (TRACE_HEADER + 4 * SAMPLES))))


# --- A SEG-Y file of any size, streamed ---------------------------------------------------------------------

def _put(rows: np.ndarray, byte: int, width: int, values: Any) -> None:
    """A big-endian integer field at ``byte`` (1-based, SEG-Y's numbering) of every trace header in ``rows``."""
    column = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=f">i{width}"), (len(rows),)))
    rows[:, byte - 1:byte - 1 + width] = column.view(np.uint8).reshape(-1, width)


def write_segy(path: Path, inlines: int, crosslines: int, *, seed: int = 11, block_bytes: int = 32 << 20) -> None:
    """An inline-sorted 4-byte IEEE SEG-Y file of ``inlines`` x ``crosslines`` traces of SAMPLES samples, written a
    block of whole inlines at a time: layered reflectors (a Ricker wavelet) over a dome and a regional dip, with
    noise. Every trace is a shifted copy of one reflectivity series (a table of shifts is built once) plus a
    tile of noise, so that writing costs about what the disk does."""
    rng = np.random.default_rng(seed)
    max_shift = 60
    reflectivity = np.zeros(SAMPLES + max_shift)
    reflectivity[rng.choice(np.arange(40, SAMPLES + max_shift - 20), 14, replace=False)] = rng.uniform(-1, 1, 14)
    base = np.convolve(reflectivity, synthetic.ricker(25.0, INTERVAL_US / 1e6), mode="same")
    table = np.stack([base[max_shift - k:max_shift - k + SAMPLES] for k in range(max_shift + 1)]).astype(np.float32)
    table *= 1000.0 / float(np.abs(table).max())
    noise = (rng.standard_normal((1021, SAMPLES)) * 30.0).astype(np.float32)
    text = "".join(f"C{line:2d} {'vifsite growth bench synthetic survey' if line == 1 else ''}".ljust(80)
                   for line in range(1, 41))
    binary = np.zeros(400, dtype=np.uint8)
    for offset, value in ((16, INTERVAL_US), (20, SAMPLES), (24, 5), (28, 4), (300, 0x0100), (302, 1)):
        binary[offset:offset + 2] = np.frombuffer(int(value).to_bytes(2, "big"), dtype=np.uint8)
    trace_bytes = TRACE_HEADER + 4 * SAMPLES
    rows_per_block = max(1, block_bytes // (trace_bytes * crosslines))
    xl_index = np.arange(crosslines)
    with open(path, "wb") as out:
        out.write(text.encode("cp500"))
        out.write(binary.tobytes())
        for start in range(0, inlines, rows_per_block):
            stop = min(inlines, start + rows_per_block)
            il = np.repeat(np.arange(start, stop), crosslines)
            xl = np.tile(xl_index, stop - start)
            r2 = ((il - 0.5 * inlines) / inlines) ** 2 + ((xl - 0.4 * crosslines) / crosslines) ** 2
            shift = np.clip(np.rint(20 * xl / crosslines + 35 * (1 - np.exp(-r2 / 0.08))), 0, max_shift).astype(int)
            rows = np.zeros((len(il), trace_bytes), dtype=np.uint8)
            trace = il * crosslines + xl
            _put(rows, 1, 4, trace + 1)
            _put(rows, 71, 2, -100)
            _put(rows, 115, 2, SAMPLES)
            _put(rows, 117, 2, INTERVAL_US)
            _put(rows, 181, 4, (600000 + xl * 25) * 100)
            _put(rows, 185, 4, (6000000 + il * 25) * 100)
            _put(rows, 189, 4, 1000 + il)
            _put(rows, 193, 4, 2000 + xl)
            samples = rows[:, TRACE_HEADER:].view(">f4")
            samples[:] = table[shift] + noise[trace % len(noise)]
            out.write(rows.data)
        out.flush()
        os.fsync(out.fileno())  # on disk before the first import, so that no run pays for its writing back


# --- Imports, each in a process of its own ----------------------------------------------------------------

def _import_one(path: str, name: str, slice_layouts: str, volume: str) -> None:
    """Run in a child (``python -m bench.growth --import-one ...``): one import, its figures as JSON."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    survey = services.survey_import_segy(path=path, name=name, slice_layouts=slice_layouts == "1",
                                         volume_path=volume, created_by="bench")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "survey": survey.pk, "base_rss_mb": before / 1024,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "tool_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                      "slice_layouts": survey.slice_layouts}))


def _import(segy: Path, name: str, *, slice_layouts: bool, volume: Path) -> dict[str, Any]:
    drop_survey(name)
    os.sync()  # what earlier runs wrote goes to disk now, not during this one
    output = subprocess.run([sys.executable, "-m", "bench.growth", "--import-one", str(segy), name,
                             "1" if slice_layouts else "0", str(volume)], cwd=ROOT, check=True,
                            capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def _command(segy: Path, name: str) -> float:
    """Seconds of the whole ``manage.py import_segy`` command, from starting Python to its exit, as an operator
    runs it (without slice layouts, as SEGYImport alone is run)."""
    drop_survey(name)
    os.sync()
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "import_segy", str(segy), "--name", name, "--no-slice-layouts"],
                   cwd=ROOT, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    drop_survey(name)
    return seconds


def _segyimport_alone(segy: Path, volume: Path) -> tuple[float, float]:
    """Seconds and peak memory (MB) of SEGYImport alone, with the options of the project's import."""
    volume.unlink(missing_ok=True)
    os.sync()
    command = [vds.tool_path("SEGYImport"), "--vdsfile", str(volume), "--disable-print-text-header",
               "--sample-unit", "ms", "--header-field", "InlineNumber=189:4", "--header-field",
               "CrosslineNumber=193:4", str(segy)]
    try:
        return run_tool(command)
    finally:
        volume.unlink(missing_ok=True)


# --- Sections ---------------------------------------------------------------------------------------------

def _requests(survey: Survey) -> dict[str, tuple[float, dict[str, tuple[float, float]]]]:
    """The middle section of each kind, and a WINDOW-trace window of it: (number, ranges) by label."""
    geometry = survey.geometry()
    inline, crossline, sample = geometry.inline, geometry.crossline, geometry.sample
    il, xl, ts = (axis.value(axis.count // 2) for axis in (inline, crossline, sample))

    def window(axis: vds.Axis) -> tuple[float, float]:
        first = axis.count // 2 - WINDOW // 2
        return axis.value(first), axis.value(first + WINDOW - 1)

    return {"inline": (il, {}), "crossline": (xl, {}), "timeslice": (ts, {}),
            "inline window": (il, {"crossline": window(crossline)}),
            "crossline window": (xl, {"inline": window(inline)}),
            "timeslice window": (ts, {"inline": window(inline), "crossline": window(crossline)})}


def _sections(survey: Survey) -> dict[str, dict[str, Any]]:
    """Cold and warm medians (ms) of each request through ``services.section_read``, and its shape."""
    results = {}
    for label, (number, ranges) in _requests(survey).items():
        kind = label.split()[0]

        def read() -> Any:
            return services.section_read(survey=survey, kind=kind, number=number, ranges=ranges)

        shape = "x".join(map(str, read().data.shape))
        cold = median_ms(read, COLD_RUNS, before=lambda: vds.close(survey.vds_url))
        read()
        warm = median_ms(read, WARM_RUNS)
        results[label] = {"cold_ms": cold, "warm_ms": warm, "shape": shape}
    vds.close(survey.vds_url)
    return results


def _segyio(segy: Path, side: int) -> dict[str, dict[str, Any]]:
    """segyio on the inline-sorted SEG-Y: the middle inline and crossline, cold (opened for each read) and warm."""
    il, xl = 1000 + side // 2, 2000 + side // 2
    results = {}
    for kind, line in (("inline", lambda f: f.iline[il]), ("crossline", lambda f: f.xline[xl])):
        def cold() -> Any:
            with segyio.open(str(segy)) as f:
                return line(f)

        shape = "x".join(map(str, np.asarray(cold()).shape))
        with segyio.open(str(segy)) as f:
            line(f)
            warm = median_ms(lambda: line(f), WARM_RUNS)  # noqa: B023  (used within this iteration)
        results[kind] = {"cold_ms": median_ms(cold, COLD_RUNS), "warm_ms": warm, "shape": shape}
    return results


# --- The run ----------------------------------------------------------------------------------------------

def _one_size(gigabytes: float, directory: Path) -> dict[str, Any]:
    side = side_for(gigabytes)
    segy = directory / f"growth-{side}x{side}x{SAMPLES}.sgy"
    print(f"\n{gigabytes:g} GB: writing a {side}x{side}x{SAMPLES} SEG-Y...", flush=True)
    started = time.perf_counter()
    write_segy(segy, side, side)
    write_s = time.perf_counter() - started
    segy_gb = segy.stat().st_size / 1e9
    runs = import_runs(gigabytes)
    plain: list[dict[str, Any]] = []
    tool: list[tuple[float, float]] = []
    command: list[float] = []
    name = f"bench growth {side}"
    for run in range(runs):
        print(f"  importing without slice layouts, by the command, and SEGYImport alone (run {run + 1} of {runs})...",
              flush=True)
        if run % 2:  # taking turns at going first
            tool.append(_segyimport_alone(segy, directory / "tool.vds"))
        plain.append(_import(segy, name, slice_layouts=False, volume=directory / "plain.vds"))
        command.append(_command(segy, f"{name} command"))
        if not run % 2:
            tool.append(_segyimport_alone(segy, directory / "tool.vds"))
    survey = Survey.objects.get(pk=plain[-1]["survey"])
    plain_bytes = Path(survey.vds_url).stat().st_size
    print("  reading sections from the 3D bricks...", flush=True)
    sections_plain = _sections(survey)
    drop_survey(name)  # its disk, before the copy with slice layouts is written
    sliced: list[dict[str, Any]] = []
    for run in range(runs):
        print(f"  importing with slice layouts (run {run + 1} of {runs})...", flush=True)
        sliced.append(_import(segy, name, slice_layouts=True, volume=directory / "slices.vds"))
    survey = Survey.objects.get(pk=sliced[-1]["survey"])
    sliced_bytes = Path(survey.vds_url).stat().st_size
    has_slices = survey.slice_layouts
    print("  reading sections" + (" from the slice bricks" if has_slices else " (no room for slice layouts)")
          + " and from the SEG-Y with segyio...", flush=True)
    sections_sliced = _sections(survey)
    worst = _segyio(segy, side)
    drop_survey(name)
    segy.unlink()

    def median(values: list[float]) -> float:
        return statistics.median(values)

    tool_s = median([t for t, _ in tool])
    return {
        "target_gb": gigabytes, "shape": [side, side, SAMPLES], "segy_gb": segy_gb, "write_s": write_s, "runs": runs,
        "import_s": median([r["seconds"] for r in plain]), "segyimport_s": tool_s,
        "ratio": median([r["seconds"] / t for r, (t, _) in zip(plain, tool, strict=True)]),
        "command_s": median(command), "command_ratio": median([c / t for c, (t, _) in zip(command, tool, strict=True)]),
        "import_slices_s": median([r["seconds"] for r in sliced]), "slice_layouts": has_slices,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in plain + sliced),
        "base_rss_mb": max(r["base_rss_mb"] for r in plain + sliced),
        "segyimport_peak_rss_mb": max(m for _, m in tool),
        "storage_gb": {"plain": plain_bytes / 1e9, "slices": sliced_bytes / 1e9},
        "sections_ms": {"3D bricks": sections_plain, "slice layouts": sections_sliced, "segyio (SEG-Y)": worst},
    }


def _print(results: list[dict[str, Any]], machine: str) -> None:
    print(f"\nGrowth: synthetic square surveys of {SAMPLES} float32 samples a trace. {machine}")
    print("\nImport (medians of the runs shown; each import in its own process, timed from the call; 'command': the "
          "whole manage.py import_segy, from starting Python to its exit; SEGYImport alone on the same file, in turn "
          "with them; goal for the command: within 1.3x of SEGYImport alone)")
    header = (f"{'SEG-Y':>8} {'grid':>14} {'runs':>4} | {'import s':>8} {'s/GB':>6} {'SEGYImport s':>12} "
              f"{'ratio':>6} | {'command s':>9} {'ratio':>6} | {'with slices s':>13} {'s/GB':>6} | "
              f"{'VDS xSEG-Y':>10} {'slices xSEG-Y':>13} | {'peak MB (at start)':>18} {'SEGYImport MB':>13}")
    print(header)
    print("-" * len(header))
    for r in results:
        gb = r["segy_gb"]
        print(f"{gb:6.2f}GB {'x'.join(map(str, r['shape'])):>14} {r['runs']:4d} | {r['import_s']:8.2f} "
              f"{r['import_s'] / gb:6.2f} {r['segyimport_s']:12.2f} {r['ratio']:6.2f} | "
              f"{r['command_s']:9.2f} {r['command_ratio']:6.2f} | "
              f"{r['import_slices_s']:13.2f} {r['import_slices_s'] / gb:6.2f} | "
              f"{r['storage_gb']['plain'] / gb:10.2f} "
              f"{(r['storage_gb']['slices'] / gb) if r['slice_layouts'] else float('nan'):13.2f} | "
              f"{r['peak_rss_mb']:10.0f} ({r['base_rss_mb']:5.0f}) {r['segyimport_peak_rss_mb']:13.0f}")
    print(f"\nSection reads, ms: median of {COLD_RUNS} cold (OpenVDS handle dropped, or segyio file reopened, before "
          f"each; the OS page cache is not dropped) / {WARM_RUNS} warm reads. Whole sections grow with the survey's "
          f"side; the window is {WINDOW} traces along each horizontal axis at every size.")
    labels = [*KINDS, *(f"{kind} window" for kind in KINDS)]
    header = f"{'SEG-Y':>8} {'reader':>16} | " + " | ".join(f"{label:>20}" for label in labels)
    print(header)
    print("-" * len(header))
    for r in results:
        for reader, row in r["sections_ms"].items():
            cells = [f"{row[label]['cold_ms']:9.2f} / {row[label]['warm_ms']:8.2f}" if label in row else f"{'':>20}"
                     for label in labels]
            print(f"{r['segy_gb']:6.2f}GB {reader:>16} | " + " | ".join(cells))
    last = results[-1]
    worst = last["sections_ms"]["segyio (SEG-Y)"]["crossline"]
    ours = last["sections_ms"]["slice layouts"]["crossline"]
    print(f"\nWorst case named: a crossline of the inline-sorted SEG-Y read with segyio (one trace from every inline, "
          f"across the whole file), {worst['cold_ms']:.1f} ms cold at {last['segy_gb']:.2f} GB ({worst['shape']}); the "
          f"same crossline from the slice bricks {ours['cold_ms']:.2f} ms.")
    for layout in ("3D bricks", "slice layouts"):
        label, row = max(last["sections_ms"][layout].items(), key=lambda item: item[1]["cold_ms"])
        what = label if "window" in label else f"whole {label}"
        print(f"Slowest cold read of the project's reader on {layout} at {last['segy_gb']:.2f} GB: the {what} "
              f"({row['shape']}), {row['cold_ms']:.1f} ms.")


def main() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    directory = Path(tempfile.mkdtemp(prefix="vifsite-growth-"))
    results = []
    try:
        for gigabytes in SIZES_GB:
            results.append(_one_size(gigabytes, directory))
    finally:
        for survey in Survey.objects.filter(name__startswith="bench growth "):
            drop_survey(survey.name)
        shutil.rmtree(directory, ignore_errors=True)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, Python "
               f"{platform.python_version()}, {vds.openvds_version()}, segyio {metadata.version('segyio')}, "
               f"numpy {np.__version__}; load average at the end {os.getloadavg()[0]:.1f}")
    _print(results, machine)
    if previous:
        print(f"\nImport s/GB against the previous run ({previous.get('when', '?')}), this / previous:")
        before = {round(r["segy_gb"], 1): r for r in previous.get("sizes", [])}
        for r in results:
            old = before.get(round(r["segy_gb"], 1))
            if old:
                print(f"  {r['segy_gb']:.2f} GB: {r['import_s'] / old['import_s']:.2f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if RESULTS.exists():
        RESULTS.replace(RESULTS.with_name("growth.previous.json"))
    RESULTS.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine,
                                   "runs": {"cold": COLD_RUNS, "warm": WARM_RUNS}, "window": WINDOW,
                                   "sizes": results}, indent=2) + "\n")
    print(f"\nResults in {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--import-one":
        _import_one(*sys.argv[2:6])
    else:
        main()
