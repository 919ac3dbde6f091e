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
