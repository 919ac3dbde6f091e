"""The import reads the SEG-Y file once, beside SEGYImport: the file's hash, and for a 4-byte IEEE file whose
traces fill the grid, its samples' hash, which stands for the volume's. What it records must be exactly what
reading the volume finds (``vds.scan_volume``), and wherever the file cannot vouch for the volume the volume
is read as before."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import segyio

from seismic import segy, services, synthetic, vds
from vifsite.errors import InputError

TRACE = 240


@pytest.fixture(autouse=True)
def survey_dir(tmp_path, settings) -> None:
    settings.VIFSITE_SURVEY_DIR = tmp_path / "surveys"


@pytest.fixture(scope="module")
def ieee(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A small 4-byte IEEE, inline-sorted synthetic SEG-Y file (big-endian) and its cube."""
    out = tmp_path_factory.mktemp("one-pass")
    volume = synthetic.generate(synthetic.SyntheticSpec(n_inlines=12, n_crosslines=10, n_samples=50, seed=4))
    synthetic.write_segy(volume, out / "syn.sgy")
    return out / "syn.sgy", volume.data


def _traces(path: Path) -> tuple[bytes, np.ndarray]:
    """The file header and the traces (one row of bytes a trace) of an IEEE file of 50 samples."""
    raw = path.read_bytes()
    return raw[:3600], np.frombuffer(raw[3600:], dtype=np.uint8).reshape(-1, TRACE + 50 * 4).copy()


def _write(path: Path, head: bytes, traces: np.ndarray) -> Path:
    path.write_bytes(head + traces.tobytes())
    return path


def _scanned(survey) -> tuple[str, int]:
    vds.close(survey.vds_url)
    return vds.scan_volume(survey.vds_url, vds.read_geometry(survey.vds_url))


def _no_scan(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the volume was read again")

    monkeypatch.setattr(vds, "scan_volume", refuse)


@pytest.mark.django_db
@pytest.mark.parametrize("slice_layouts", [False, True])
def test_an_ieee_grid_file_is_registered_from_one_read_with_the_volume_scan_values(ieee, monkeypatch, slice_layouts):
    path, cube = ieee
    real_scan = vds.scan_volume
    _no_scan(monkeypatch)
    survey = services.survey_import_segy(path=path, name="one pass", slice_layouts=slice_layouts)
    assert survey.slice_layouts is slice_layouts
    assert survey.source_sha256 == services.file_sha256(path)
    assert (survey.data_sha256, survey.live_traces) == real_scan(survey.vds_url, survey.geometry())
    assert survey.data_sha256 == segy.digest(path, segy.inspect(path)).samples_sha256
    assert survey.live_traces == cube.shape[0] * cube.shape[1]
    assert "Data hash: the file's samples" in survey.import_log
    assert not [t for t in threading.enumerate() if t.name.startswith("segy-digest")]


@pytest.mark.django_db
def test_a_little_endian_ieee_file_takes_the_same_path_to_the_same_values(ieee, tmp_path, monkeypatch):
    path, _ = ieee
    swapped = tmp_path / "little.sgy"
    with segyio.open(str(path)) as f:
        spec = segyio.tools.metadata(f)
        spec.endian = "little"
        with segyio.create(str(swapped), spec) as g:
            g.text[0], g.bin, g.header, g.trace = f.text[0], f.bin, f.header, f.trace
    assert segy.inspect(swapped).little_endian
    expected = services.survey_import_segy(path=path, name="big")
    _no_scan(monkeypatch)
    survey = services.survey_import_segy(path=swapped, name="little")
    assert "little-endian" in survey.import_log
    assert (survey.data_sha256, survey.live_traces) == (expected.data_sha256, expected.live_traces)


@pytest.mark.django_db
@pytest.mark.parametrize("edit", ["drop a trace", "swap two traces", "last inline short"])
def test_a_file_that_does_not_fill_the_grid_in_order_is_hashed_from_the_volume(ieee, tmp_path, edit):
    path, _ = ieee
    head, traces = _traces(path)
    if edit == "drop a trace":
        traces = np.delete(traces, 25, axis=0)
    elif edit == "swap two traces":
        traces[[31, 32]] = traces[[32, 31]]
    else:
        traces = traces[:-3]
    edited = _write(tmp_path / "edited.sgy", head, traces)
    assert segy.digest(edited, segy.inspect(edited)).grid is None
    survey = services.survey_import_segy(path=edited, name=edit)
    assert (survey.data_sha256, survey.live_traces) == _scanned(survey)
    assert "Data hash: every sample read back from the volume." in survey.import_log
    assert survey.source_sha256 == services.file_sha256(edited)


@pytest.mark.django_db
def test_an_ibm_float_file_is_hashed_from_the_volume(segy_dir):
    path = segy_dir / "f3_withdead.sgy"
    assert segy.digest(path, segy.inspect(path)).samples_sha256 is None
    survey = services.survey_import_segy(path=path, name="ibm")
    assert (survey.data_sha256, survey.live_traces) == _scanned(survey) and survey.live_traces == 239


@pytest.mark.django_db
def test_a_volume_that_differs_from_its_file_is_hashed_from_the_volume(ieee, monkeypatch):
    """If the volume's lines do not match the file's traces bit for bit, the file's samples hash is not used."""
    path, _ = ieee
    read = segy.read_traces

    def off_by_a_bit(*args, **kwargs):
        traces = read(*args, **kwargs)
        traces.view(np.uint32)[0, 0] ^= 1
        return traces

    monkeypatch.setattr(segy, "read_traces", off_by_a_bit)
    scans = []
    real_scan = vds.scan_volume
    monkeypatch.setattr(vds, "scan_volume", lambda *a, **k: scans.append(1) or real_scan(*a, **k))
    survey = services.survey_import_segy(path=path, name="checked")
    assert scans == [1]
    assert survey.data_sha256 == segy.digest(path, segy.inspect(path)).samples_sha256  # the volume is right


def test_the_grid_check_takes_only_regular_rasters():
    def grid(inlines, crosslines, block=7):
        check = segy._GridCheck()
        il, xl = np.asarray(inlines, dtype=np.int64), np.asarray(crosslines, dtype=np.int64)
        for start in range(0, len(il), block):
            check.feed(il[start:start + block], xl[start:start + block])
        return check.grid()

    il, xl = np.repeat([10, 12, 14, 16], 5), np.tile([100, 104, 108, 112, 116], 4)
    assert grid(il, xl) == segy.Grid(10, 2, 4, 100, 4, 5)
    assert grid(il, xl, block=1) == grid(il, xl, block=100) == segy.Grid(10, 2, 4, 100, 4, 5)
    assert grid([3] * 6, [1, 2, 3, 4, 5, 6]) == segy.Grid(3, 1, 1, 1, 1, 6)  # a single inline
    assert grid(il[::-1], xl) is None  # inlines descending
    assert grid(il, xl[::-1]) is None  # crosslines descending
    assert grid(il[:-1], xl[:-1]) is None  # the last inline short
    assert grid(np.r_[il[:5], il[6:]], np.r_[xl[:5], xl[6:]]) is None  # a trace missing
    assert grid(np.r_[il, 16], np.r_[xl, 116]) is None  # a duplicate at the end


def test_the_digest_stops_when_cancelled(ieee):
    path, _ = ieee
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(segy.DigestCancelled):
        segy.digest(path, segy.inspect(path), cancel=cancel)


def test_the_digest_holds_a_block_of_the_file_whatever_its_size(tmp_path):
    """A 48 MB file read in 1 MB blocks: the memory taken stays within a few blocks."""
    samples, traces = 1000, 12_000
    head = bytearray(3600)
    head[3216:3218], head[3220:3222], head[3224:3226] = (4000).to_bytes(2, "big"), samples.to_bytes(2, "big"), b"\0\5"
    rows = np.zeros((1000, TRACE + samples * 4), dtype=np.uint8)
    rows[:, 114:116] = np.frombuffer(samples.to_bytes(2, "big"), dtype=np.uint8)
    path = tmp_path / "big.sgy"
    with open(path, "wb") as out:
        out.write(head)
        for block in range(traces // 1000):
            index = block * 1000 + np.arange(1000)
            rows[:, 188:192] = (1 + index // 200).astype(">i4").view(np.uint8).reshape(-1, 4)
            rows[:, 192:196] = (1 + index % 200).astype(">i4").view(np.uint8).reshape(-1, 4)
            out.write(rows.tobytes())
    info = segy.inspect(path)
    tracemalloc.start()
    try:
        found = segy.digest(path, info, block_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found.grid == segy.Grid(1, 1, 60, 1, 1, 200)
    assert found.sha256 == services.file_sha256(path)
    assert peak < 4 << 20, f"{peak / 1e6:.1f} MB for a {path.stat().st_size / 1e6:.0f} MB file"


@pytest.mark.django_db
def test_a_failed_import_leaves_no_reader_behind(segy_dir):
    with pytest.raises(InputError, match="not sorted"):
        services.survey_import_segy(path=segy_dir / "f3.sgy", name="swapped", inline_byte=193, crossline_byte=189)
    assert not [t for t in threading.enumerate() if t.name.startswith("segy-digest")]
