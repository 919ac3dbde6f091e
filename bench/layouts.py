"""Section reads by storage layout, side by side (make bench), on a synthetic survey (400x400x500 by default,
BENCH_SIZE=ILxXLxS to change; the SEG-Y is generated once, with the project's generator, into
var/bench/layouts).

One table per measurement, each reader in the same run on the same data:
  - this project's reader, ``seismic.vds.read_subset``, on the volume imported without slice layouts (3D
    bricks only) and with them (``survey_import_segy(slice_layouts=...)``);
  - segyio on the SEG-Y file;
  - OpenVDS itself: a Dimensions_012 request on the 3D bricks, and a request of the section's plane
    (Dimensions_01 / 02 / 12) on the volume with slice bricks;
  - zarr with per-axis chunks (the MDIO idea: one copy of the data per access pattern), written from the same
    samples, uncompressed like the VDS volumes: one array chunked one inline thick, one a crossline thick, one
    a sample thick, at most 512 along the other axes;
cold (a fresh handle or file per read, opening included; the operating system's page cache stays warm) and
warm (the same handle again), medians in ms and the ratio to the fastest of the column; then import time and
storage with and without slice layouts, and each tool alone with its peak memory. Every reader must return
the same bits for every section, or the bench stops.

The results go to var/bench/layouts.json (the previous run's to layouts.previous.json, and the cold reads are
compared with it when its size matches). These are benchmarks, not tests: nothing here fails on time.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import openvds
import segyio
import zarr
from django.core.management import call_command

from bench.common import ROOT, SIZE, drop_survey, run_tool  # first: it sets Django up
from seismic import services, synthetic, vds
from seismic.management.commands.make_synthetic_survey import parse_size
from seismic.models import Survey

COLD_RUNS, WARM_RUNS = int(os.environ.get("BENCH_COLD_RUNS", 15)), int(os.environ.get("BENCH_WARM_RUNS", 25))
IMPORT_RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", 3))
ZARR_SIDE = 512
KINDS = ("inline", "crossline", "timeslice")
OUT = ROOT / "var" / "bench" / "layouts"
RESULTS = ROOT / "var" / "bench" / "layouts.json"
DIMENSIONS = {"inline": "Dimensions_01", "crossline": "Dimensions_02", "timeslice": "Dimensions_12"}

Box = tuple[tuple[int, int, int], tuple[int, int, int]]


def _mb(path: Path) -> float:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6


def _segy(shape: tuple[int, int, int]) -> Path:
    """The bench's SEG-Y: the bench survey's generator settings (seed 11), made once per size."""
    path = OUT / f"layouts-{SIZE}.sgy"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"Generating the {SIZE} synthetic SEG-Y (once; kept in {OUT.relative_to(ROOT)})...", flush=True)
        spec = synthetic.SyntheticSpec(n_inlines=shape[0], n_crosslines=shape[1], n_samples=shape[2], seed=11)
        synthetic.write_segy(synthetic.generate(spec), path.with_suffix(".partial"))
        path.with_suffix(".partial").rename(path)
    return path


def _imports(segy: Path) -> tuple[dict[str, Any], dict[str, Survey]]:
    """The project's import with and without slice layouts (medians of IMPORT_RUNS), and each tool alone."""
    timings: dict[str, list[float]] = {"plain": [], "slices": []}
    surveys: dict[str, Survey] = {}
    for run in range(IMPORT_RUNS):
        for layout in ("plain", "slices"):
            name = f"bench layouts {layout} {SIZE}"
            drop_survey(name)
            print(f"Importing ({layout}, run {run + 1} of {IMPORT_RUNS})...", flush=True)
            started = time.perf_counter()
            surveys[layout] = services.survey_import_segy(path=segy, name=name, slice_layouts=layout == "slices",
                                                          created_by="bench")
            timings[layout].append(time.perf_counter() - started)
    plain_tool, copy_tool = OUT / "tool-plain.vds", OUT / "tool-slices.vds"
    segyimport = [vds.tool_path("SEGYImport"), "--vdsfile", str(plain_tool), "--disable-print-text-header",
                  "--sample-unit", "ms", "--header-field", "InlineNumber=189:4", "--header-field",
                  "CrosslineNumber=193:4", str(segy)]
    vdscopy = [vds.tool_path("VDSCopy"), "-a", "01", "-a", "02", "-a", "12", str(plain_tool), str(copy_tool)]
    tools: dict[str, list[tuple[float, float]]] = {"SEGYImport": [], "VDSCopy": []}
    for _ in range(IMPORT_RUNS):
        for path in (plain_tool, copy_tool):
            path.unlink(missing_ok=True)
        tools["SEGYImport"].append(run_tool(segyimport))
        tools["VDSCopy"].append(run_tool(vdscopy))
    for path in (plain_tool, copy_tool):
        path.unlink(missing_ok=True)
    result = {
        "import_s": {layout: statistics.median(values) for layout, values in timings.items()},
        "tool_s": {tool: statistics.median(t for t, _ in runs) for tool, runs in tools.items()},
        "tool_peak_rss_mb": {tool: max(m for _, m in runs) for tool, runs in tools.items()},
    }
    return result, surveys


def _write_zarr(cube: np.ndarray) -> dict[str, Path]:
    root = OUT / f"zarr-{SIZE}"
    shutil.rmtree(root, ignore_errors=True)
    ni, nx, ns = cube.shape
    chunks = {"inline": (1, min(nx, ZARR_SIDE), min(ns, ZARR_SIDE)),
              "crossline": (min(ni, ZARR_SIDE), 1, min(ns, ZARR_SIDE)),
              "timeslice": (min(ni, ZARR_SIDE), min(nx, ZARR_SIDE), 1)}
    paths = {}
    for kind, chunk in chunks.items():
        paths[kind] = root / kind
        array = zarr.create_array(store=str(paths[kind]), shape=cube.shape, chunks=chunk, dtype="float32",
                                  compressors=None, fill_value=0.0)
        array[:] = cube
    return paths


def _boxes(shape: tuple[int, int, int]) -> dict[str, Box]:
    ni, nx, ns = shape
    i, x, s = ni // 2, nx // 2, ns // 2
    return {"inline": ((i, 0, 0), (i + 1, nx, ns)), "crossline": ((0, x, 0), (ni, x + 1, ns)),
            "timeslice": ((0, 0, s), (ni, nx, s + 1))}


class OpenVDSReader:
    """OpenVDS without this project: one request in the given dimension group, through a handle of its own."""

    def __init__(self, url: str, group: Callable[[str], str]) -> None:
        self.url, self.group, self.handle = url, group, None

    def close(self) -> None:
        if self.handle is not None:
            openvds.close(self.handle)
            self.handle = None

    def read(self, kind: str, box: Box) -> np.ndarray:
        if self.handle is None:
            self.handle = openvds.open(self.url, "")
        (il0, xl0, s0), (il1, xl1, s1) = box
        request = openvds.getAccessManager(self.handle).requestVolumeSubset(
            (s0, xl0, il0, 0, 0, 0), (s1, xl1, il1, 1, 1, 1), channel=0,
            dimensionsND=getattr(openvds.DimensionsND, self.group(kind)), format=openvds.VolumeDataFormat.Format_R32)
        return np.asarray(request.data, dtype=np.float32).reshape(il1 - il0, xl1 - xl0, s1 - s0)


def _readers(surveys: dict[str, Survey], segy: Path, zarrs: dict[str, Path], geometry: vds.Geometry,
             shape: tuple[int, int, int]) -> dict[str, tuple[Callable[[str, Box], np.ndarray], Callable[[], None]]]:
    """Each reader as (read a section, forget everything cached so that the next read is cold)."""
    ni, nx, ns = shape
    segy_state: dict[str, Any] = {}
    zarr_state: dict[str, Any] = {}

    def project(url: str):
        return (lambda kind, box: vds.read_subset(url, geometry, *box)), (lambda: vds.close(url))

    def segy_read(kind: str, box: Box) -> np.ndarray:
        f = segy_state.get("file")
        if f is None:
            f = segy_state["file"] = segyio.open(str(segy))
        (il0, xl0, s0), _ = box
        if kind == "inline":
            return np.asarray(f.iline[f.ilines[il0]]).reshape(1, nx, ns)
        if kind == "crossline":
            return np.asarray(f.xline[f.xlines[xl0]]).reshape(ni, 1, ns)
        return np.asarray(f.depth_slice[s0]).reshape(ni, nx, 1)

    def segy_close() -> None:
        f = segy_state.pop("file", None)
        if f is not None:
            f.close()

    def zarr_read(kind: str, box: Box) -> np.ndarray:
        array = zarr_state.get(kind)
        if array is None:
            array = zarr_state[kind] = zarr.open_array(str(zarrs[kind]), mode="r")
        (il0, xl0, s0), (il1, xl1, s1) = box
        return np.asarray(array[il0:il1, xl0:xl1, s0:s1])

    raw_3d = OpenVDSReader(surveys["plain"].vds_url, lambda kind: "Dimensions_012")
    raw_2d = OpenVDSReader(surveys["slices"].vds_url, DIMENSIONS.__getitem__)
    return {
        "vifsite read_subset, 3D bricks": project(surveys["plain"].vds_url),
        "vifsite read_subset, slice layouts": project(surveys["slices"].vds_url),
        "segyio (SEG-Y, inline-sorted)": (segy_read, segy_close),
        "OpenVDS, 3D bricks (Dimensions_012)": (raw_3d.read, raw_3d.close),
        "OpenVDS, slice bricks (01/02/12)": (raw_2d.read, raw_2d.close),
        "zarr, per-axis chunks": (zarr_read, zarr_state.clear),
    }


def _measure(readers: dict[str, tuple[Callable[[str, Box], np.ndarray], Callable[[], None]]],
             boxes: dict[str, Box]) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Cold and warm medians (ms) of each reader and section. The readers take turns, run by run, so that the
    load of a shared machine falls on all of them alike rather than on whichever ran during a burst."""
    cold: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in KINDS} for name in readers}
    warm: dict[str, dict[str, list[float]]] = {name: {kind: [] for kind in KINDS} for name in readers}
    for kind, box in boxes.items():
        for _ in range(COLD_RUNS):
            for name, (read, forget) in readers.items():
                forget()
                started = time.perf_counter()
                read(kind, box)
                cold[name][kind].append((time.perf_counter() - started) * 1000)
        for read, _ in readers.values():
            read(kind, box)  # each keeps its handle from here on: warm
        for _ in range(WARM_RUNS):
            for name, (read, _) in readers.items():
                started = time.perf_counter()
                read(kind, box)
                warm[name][kind].append((time.perf_counter() - started) * 1000)
        for _, forget in readers.values():
            forget()

    def medians(runs: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
        return {name: {kind: statistics.median(values) for kind, values in row.items()} for name, row in runs.items()}

    return medians(cold), medians(warm)


def _table(title: str, rows: dict[str, dict[str, float]], unit: str = "ms") -> None:
    best = {kind: min(row[kind] for row in rows.values()) for kind in KINDS}
    width = max(len(name) for name in rows)
    print(f"\n{title}")
    header = f"{'reader':{width}} | " + " | ".join(f"{kind + ' ' + unit:>14} {'×fastest':>8}" for kind in KINDS)
    print(header)
    print("-" * len(header))
    for name, row in rows.items():
        cells = " | ".join(f"{row[kind]:14.3f} {row[kind] / best[kind]:8.1f}" for kind in KINDS)
        print(f"{name:{width}} | {cells}")


def main() -> None:
    shape = parse_size(SIZE)
    call_command("migrate", verbosity=0)
    segy = _segy(shape)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None

    imports, surveys = _imports(segy)
    with segyio.open(str(segy)) as f:
        cube = np.ascontiguousarray(segyio.tools.cube(f), dtype=np.float32)
    print("Writing the per-axis zarr arrays...", flush=True)
    started = time.perf_counter()
    zarrs = _write_zarr(cube)
    zarr_write_s = time.perf_counter() - started
    geometry = surveys["plain"].geometry()
    readers = _readers(surveys, segy, zarrs, geometry, shape)
    boxes = _boxes(shape)

    # Every reader returns the bits of the SEG-Y for every section, or the comparison means nothing.
    for kind, box in boxes.items():
        expected = cube[box[0][0]:box[1][0], box[0][1]:box[1][1], box[0][2]:box[1][2]]
        for name, (read, forget) in readers.items():
            data = read(kind, box)
            if data.shape != expected.shape or data.astype("<f4").tobytes() != expected.astype("<f4").tobytes():
                raise SystemExit(f"{name} returned other values for the {kind}: the bench stops here")
            forget()

    cold, warm = _measure(readers, boxes)

    storage = {"SEG-Y": _mb(segy), "VDS, 3D bricks": _mb(Path(surveys["plain"].vds_url)),
               "VDS, with slice layouts": _mb(Path(surveys["slices"].vds_url)),
               "zarr, per-axis chunks (3 arrays)": _mb(zarrs["inline"].parent)}
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}, {vds.openvds_version()}, segyio {metadata.version('segyio')}, "
               f"zarr {zarr.__version__}, numpy {np.__version__}")
    print(f"\nSection reads by layout, survey {SIZE} (inline x crossline x sample), float32. {machine}")
    print(f"Medians of {COLD_RUNS} cold / {WARM_RUNS} warm reads. Cold: a fresh handle or file per read, its "
          "opening included; the OS page cache is warm.")
    _table("Cold section read", cold)
    _table("Warm section read (the same handle again)", warm)

    fastest_peer = {kind: min(row[kind] for name, row in cold.items() if not name.startswith("vifsite"))
                    for kind in KINDS}
    ours = cold["vifsite read_subset, slice layouts"]
    print("\nCold, this project with slice layouts / the fastest other reader (goal: within 2x): "
          + ", ".join(f"{kind} {ours[kind] / fastest_peer[kind]:.2f}x" for kind in KINDS))

    plain_mb = storage["VDS, 3D bricks"]
    print(f"\nImport of the {storage['SEG-Y']:.0f} MB SEG-Y (median of {IMPORT_RUNS}; survey_import_segy: SEGYImport "
          "with the file hashed in one read beside it, VDSCopy for the slice layouts, registering)")
    print(f"{'':28} | {'time s':>8} | {'volume MB':>10} | {'x 3D-brick volume':>17}")
    print(f"{'without slice layouts':28} | {imports['import_s']['plain']:8.2f} | {plain_mb:10.0f} | {1:17.2f}")
    print(f"{'with slice layouts':28} | {imports['import_s']['slices']:8.2f} | "
          f"{storage['VDS, with slice layouts']:10.0f} | {storage['VDS, with slice layouts'] / plain_mb:17.2f}")
    for tool in ("SEGYImport", "VDSCopy"):
        print(f"{tool + ' alone':28} | {imports['tool_s'][tool]:8.2f} | peak memory "
              f"{imports['tool_peak_rss_mb'][tool]:.0f} MB")
    print(f"\nStorage, MB (per-axis zarr written in {zarr_write_s:.1f} s)")
    for name, mb in storage.items():
        print(f"{name:34} {mb:9.0f}  {mb / storage['SEG-Y']:5.2f} x the SEG-Y")

    results = {"size": SIZE, "machine": machine, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "runs": {"cold": COLD_RUNS, "warm": WARM_RUNS, "import": IMPORT_RUNS},
               "cold_ms": cold, "warm_ms": warm, "import": imports, "storage_mb": storage,
               "zarr_write_s": zarr_write_s, "zarr_chunks_side": ZARR_SIDE, "identical": True}
    if previous and previous.get("size") == SIZE:
        print(f"\nCold reads against the previous run ({previous.get('when', '?')}), this / previous:")
        for name, row in cold.items():
            before = previous.get("cold_ms", {}).get(name)
            if before:
                print(f"  {name:38} " + "  ".join(f"{kind} {row[kind] / before[kind]:5.2f}" for kind in KINDS))
    if RESULTS.exists():
        RESULTS.replace(RESULTS.with_name("layouts.previous.json"))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nResults in {RESULTS.relative_to(ROOT)}")

    for survey_name in [s.name for s in surveys.values()]:
        drop_survey(survey_name)
    shutil.rmtree(zarrs["inline"].parent, ignore_errors=True)


if __name__ == "__main__":
    main()
