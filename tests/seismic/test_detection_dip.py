"""The dip-steered background of the anomaly detector (``seismic.dip``): plain arrays, no database."""

from __future__ import annotations

import numpy as np
import pytest

from seismic import detection, dip
from tests.seismic import other_generator
from tests.seismic.test_detection_unseen import OVERLAP, _overlap


def _dipping_section(slope: float, traces: int = 200, samples: int = 300, *, spot: bool = False) -> np.ndarray:
    """Reflectors every 20 samples dipping ``slope`` samples per trace, every other one four times as
    strong; with ``spot``, one strong reflector five times brighter over 30 traces."""
    rng = np.random.default_rng(3)
    t = np.arange(samples)[None, :]
    x = np.arange(traces)[:, None]
    data = np.zeros((traces, samples))
    for k, top in enumerate(range(-int(abs(slope) * traces), samples, 20)):
        centre = top + slope * x
        gain = np.full((traces, 1), 4.0 if k % 2 else 1.0)
        if spot and k % 2 and 80 < top + slope * 100 < 220:
            gain[85:115] = 20.0
            spot = False
        data += gain * np.exp(-0.5 * ((t - centre) / 3.0) ** 2) * np.cos(0.6 * (t - centre))
    return data + rng.normal(0, 0.02, data.shape)


@pytest.mark.parametrize("slope", [-0.7, -0.3, 0.0, 0.25, 0.6])
def test_the_structure_tensor_finds_a_plane_waves_dip(slope):
    p = dip.dip_field(_dipping_section(slope), np.ones(200, bool))
    assert np.median(p[20:-20, 20:-20]) == pytest.approx(slope, abs=0.03)


def test_a_constant_or_dead_section_has_no_dip():
    assert not dip.dip_field(np.full((50, 80), 7.0), np.ones(50, bool)).any()
    assert not dip.dip_field(np.zeros((50, 80)), np.zeros(50, bool)).any()


def test_horizons_of_a_constant_dip_are_straight_lines_through_the_middle_trace():
    p = np.full((101, 60), 0.4, dtype=np.float32)
    times = dip.horizon_times(p)
    expected = np.arange(60)[None, :] - 0.4 * (np.arange(101)[:, None] - 50)
    assert np.abs(times - expected).max() < 1e-4  # beyond the ends too, one time per sample


def test_the_window_median_leaves_nans_out():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 40))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:, 0] = np.nan
    got = dip.window_median(values, 7)
    for point in range(30):
        start = min(max(point - 3, 0), 30 - 7)  # the window held inside the ends
        window = values[start:start + 7]
        expected = [np.median(column[~np.isnan(column)]) if (~np.isnan(column)).any() else np.nan
                    for column in window.T]
        assert np.allclose(got[point], expected, equal_nan=True)


@pytest.mark.parametrize("seed", [1005, 1009, 1010])  # steep dips, three wavelets, outside the measured seeds
def test_steeply_dipping_strong_reflectors_are_their_own_dip_steered_background_but_not_their_lateral_one(seed):
    section = other_generator.section(seed)
    assert abs(section.dip_samples_per_trace) > 0.3
    live = np.ones(section.data.shape[0], bool)
    on_spots = {}
    for background in detection.BACKGROUNDS:
        clusters, _ = detection.detect(section.data, live, vertical=True, background=background)
        on_spots[background] = [any(_overlap((c.first, c.second), (spot.traces, spot.samples)) >= OVERLAP
                                    for spot in section.spots) for c in clusters]
    assert all(on_spots["dip_steered"]) and len(on_spots["dip_steered"]) == len(section.spots)
    assert on_spots["lateral"].count(False) >= 3  # the reflectors


def test_a_bright_spot_on_a_dipping_reflector_still_stands_out():
    section = _dipping_section(0.6, spot=True)
    clusters, info = detection.detect(section, np.ones(section.shape[0], bool), vertical=True,
                                      background="dip_steered")
    assert info["background"] == "dip_steered"
    assert len(clusters) == 1 and 80 <= clusters[0].first[0] and clusters[0].first[1] <= 120


# --- The dip steering as it was recorded -------------------------------------------------------------
# The functions below are seismic.dip's before it was made faster (fewer passes over the arrays, buffers made
# once, takes without buffering, no array of |amplitude|): witnesses of the dip-steered background were made
# with these, so the faster ones must give their bits.

def _recorded_dip_field(section: np.ndarray, live: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    data = np.asarray(section)
    traces, samples = data.shape
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    if traces < 5 or samples < 5 or not np.isfinite(peak) or peak == 0.0:
        return np.zeros(data.shape, dtype=np.float32)
    scaled = np.empty(data.shape, dtype=np.float32)
    np.multiply(data, 1.0 / peak, out=scaled, casting="unsafe")
    across = np.zeros_like(scaled)
    inner = (slice(2, -2), slice(2, -2))
    np.subtract(scaled[3:-1, 2:-2], scaled[1:-3, 2:-2], out=across[inner])
    across[inner] *= 8.0
    across[inner] -= scaled[4:, 2:-2]
    across[inner] += scaled[:-4, 2:-2]
    along = np.zeros_like(scaled)
    np.subtract(scaled[2:-2, 3:-1], scaled[2:-2, 1:-3], out=along[inner])
    along[inner] *= 8.0
    along[inner] -= scaled[2:-2, 4:]
    along[inner] += scaled[2:-2, :-4]
    np.multiply(across, along, out=across)
    np.multiply(along, along, out=along)
    alive = np.asarray(live, dtype=bool)
    usable = alive.copy()
    for reach in (1, 2):
        usable[reach:] &= alive[:-reach]
        usable[:-reach] &= alive[reach:]
    if not usable.all():
        across[~usable] = 0.0
        along[~usable] = 0.0
    cross = ndimage.uniform_filter(across, dip.DIP_WINDOW, output=scaled, mode="constant")
    power = ndimage.uniform_filter(along, dip.DIP_WINDOW, output=across, mode="constant")
    power += np.float32(float(power.mean()) * 1e-6 + 1e-30)
    np.divide(cross, power, out=cross)
    np.negative(cross, out=cross)
    return np.clip(cross, -dip.MAX_DIP, dip.MAX_DIP, out=cross)


def _recorded_horizon_times(p: np.ndarray) -> np.ndarray:
    traces, samples = p.shape
    times = np.empty(p.shape, dtype=np.float64)
    grid = np.arange(samples, dtype=np.float64)
    middle = traces // 2
    times[middle] = grid
    if samples < 2 or traces < 2:
        times[:] = grid
        return times
    step = p[1:] + p[:-1].astype(np.float64)
    step *= 0.5
    position = np.empty(p.shape, dtype=np.float64)
    position[middle] = grid
    np.subtract(grid, step[middle:], out=position[middle + 1:])
    np.add(grid, step[:middle], out=position[:middle])
    inside = np.clip(position, 0, samples - 1)
    beyond = np.subtract(position, inside, out=position)
    lower = inside.astype(np.intp)
    np.minimum(lower, samples - 2, out=lower)
    fraction = np.subtract(inside, lower, out=inside)
    above = np.empty(samples, dtype=np.float64)
    for trace in (*range(middle + 1, traces), *range(middle - 1, -1, -1)):
        nearer = times[trace - 1] if trace > middle else times[trace + 1]
        below = times[trace]
        nearer.take(lower[trace], out=below)
        nearer[1:].take(lower[trace], out=above)
        above -= below
        above *= fraction[trace]
        below += above
        below += beyond[trace]
    return times


def _recorded_steered_median(values: np.ndarray, times: np.ndarray, width: int, tolerance: int) -> np.ndarray:
    from scipy import ndimage

    traces, samples = values.shape
    step = max(1, width // 15)
    thin = np.arange(0, traces, step)
    lifted = ndimage.grey_dilation(values[thin], size=(1, 2 * tolerance + 1)) if tolerance > 0 else values[thin]
    first = np.floor(float(times.min()))
    grid = np.arange(first, np.ceil(float(times.max())) + 2.0)
    flat = np.empty((thin.size, grid.size))
    for row, trace in enumerate(thin):
        flat[row] = np.interp(grid, np.maximum.accumulate(times[trace]), lifted[row], left=np.nan, right=np.nan)
    smooth = dip.window_median(flat, max(3, (width // step) | 1))
    for gappy in np.nonzero(np.isnan(smooth).any(axis=1))[0]:
        reached = ~np.isnan(smooth[gappy])
        smooth[gappy] = np.interp(grid, grid[reached], smooth[gappy, reached]) if reached.any() else 0.0
    out = np.empty(values.shape, dtype=np.float64)
    for row in range(thin.size):
        rows = slice(int(thin[row]), min(traces, int(thin[row]) + step))
        where = np.clip(times[rows] - first, 0, grid.size - 2)
        index = where.astype(np.intp)
        where -= index
        low = smooth[row].take(index)
        near = low + where * (smooth[row].take(index + 1) - low)
        if row + 1 == thin.size:
            out[rows] = near
            continue
        low = smooth[row + 1].take(index)
        far = low + where * (smooth[row + 1].take(index + 1) - low)
        weight = (np.arange(rows.start, rows.stop) / step - row)[:, None]
        out[rows] = near + weight * (far - near)
    return out


def _sections() -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    for seed in (0, 3, 1005, 1010):
        data = other_generator.section(seed).data
        out.append((f"other {seed}", data, np.ones(data.shape[0], bool)))
    dead = np.ones(200, bool)
    dead[[0, 1, 57, 58, 59, 120, 199]] = False
    for slope in (-0.7, 0.25):
        section = _dipping_section(slope)
        out.append((f"dipping {slope}", section, np.ones(200, bool)))
        out.append((f"dipping {slope}, dead traces", np.where(dead[:, None], section, 0.0), dead))
    rng = np.random.default_rng(8)
    for shape in ((5, 5), (6, 9), (31, 7), (1000, 40), (2, 30), (40, 1)):
        out.append((f"noise {shape}", rng.normal(size=shape).astype(np.float32), np.ones(shape[0], bool)))
    out.append(("constant", np.full((20, 30), 3.0), np.ones(20, bool)))
    return out


@pytest.mark.parametrize(("name", "section", "live"), _sections(), ids=[case[0] for case in _sections()])
def test_the_dip_steering_gives_the_recorded_bits(name, section, live):
    p = dip.dip_field(section, live)
    assert p.tobytes() == _recorded_dip_field(section, live).tobytes()
    times = dip.horizon_times(p)
    assert times.tobytes() == _recorded_horizon_times(p).tobytes()
    values = np.abs(np.asarray(section, dtype=np.float64))
    for width, tolerance in ((max(3, section.shape[0] // 2 | 1), 6), (31, 0), (3, 2)):
        assert dip.steered_median(values, times, width, tolerance).tobytes() == _recorded_steered_median(
            values, times, width, tolerance).tobytes(), (width, tolerance)


def test_the_detector_does_not_wait_for_a_busy_pool():
    """The dip runs beside the envelope on a thread of the pool; with every one busy, the detector computes
    it itself, and answers the same."""
    import threading

    section = _dipping_section(0.6, spot=True)
    live = np.ones(section.shape[0], bool)
    detection.forget_results()
    expected = detection.detect(section, live, vertical=True, background="dip_steered")
    detection.forget_results()
    pool = detection._threads()
    release = threading.Event()
    busy = [pool.submit(release.wait) for _ in range(pool._max_workers)]
    done: list = []
    try:
        worker = threading.Thread(target=lambda: done.append(
            detection.detect(section, live, vertical=True, background="dip_steered")))
        worker.start()
        worker.join(timeout=60)
        assert done, "the detector waited for the pool"
    finally:
        release.set()
        for job in busy:
            job.result()
    assert done[0] == expected
