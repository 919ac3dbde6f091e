"""The statistics core, without a database, against independent numpy computations."""

import numpy as np
import pytest

from seismic import stats
from seismic.synthetic import ricker


def test_it_matches_numpy_masked_statistics_over_live_traces_only():
    rng = np.random.default_rng(0)
    section = rng.normal(3.0, 2.0, size=(30, 80)).astype(np.float32)
    live = rng.random(30) > 0.3
    section[~live] = 0.0
    result = stats.section_statistics(section, live, vertical=True, sample_interval_s=0.004)

    masked = np.ma.masked_array(section, mask=np.repeat(~live[:, None], 80, axis=1)).astype(np.float64)
    compressed = masked.compressed()
    assert result["count"] == compressed.size == live.sum() * 80
    assert result["live_traces"] == live.sum() and result["dead_traces"] == (~live).sum()
    assert result["min"] == pytest.approx(masked.min())
    assert result["max"] == pytest.approx(masked.max())
    assert result["mean"] == pytest.approx(masked.mean())
    assert result["std"] == pytest.approx(masked.std())
    assert result["rms"] == pytest.approx(np.sqrt((compressed**2).mean()))
    assert result["median"] == pytest.approx(np.ma.median(masked))
    assert result["data_range"] == pytest.approx(compressed.max() - compressed.min())
    assert result["coefficient_of_variation"] == pytest.approx(compressed.std() / abs(compressed.mean()))
    with_nan = np.where(live[:, None], section, np.nan).astype(np.float64)
    for p in (1, 5, 10, 25, 50, 75, 90, 95, 99):
        assert result["percentiles"][f"p{p}"] == pytest.approx(np.nanpercentile(with_nan, p))


def test_zero_crossings_count_sign_changes_per_trace():
    t = np.arange(1000) * 0.001 + 0.0005
    traces = np.stack([np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 5 * t)]).astype(np.float32)
    result = stats.section_statistics(traces, np.array([True, True]), vertical=True, sample_interval_s=0.001)
    expected = np.mean([sum(1 for a, b in zip(tr[:-1], tr[1:], strict=True) if (a < 0) != (b < 0)) for tr in traces])
    assert expected == pytest.approx(14.5, abs=0.6)  # 19-20 and 9-10 crossings
    assert result["zero_crossings"] == pytest.approx(expected)


@pytest.mark.parametrize("peak_hz", [15.0, 30.0, 45.0])
def test_the_dominant_frequency_of_ricker_traces_is_their_peak_frequency(peak_hz):
    dt = 0.002
    wavelet = ricker(peak_hz, dt)
    traces = np.zeros((5, 400), dtype=np.float32)
    for i in range(5):
        traces[i, 100 + 20 * i: 100 + 20 * i + len(wavelet)] = wavelet
    result = stats.section_statistics(traces, np.ones(5, bool), vertical=True, sample_interval_s=dt)
    assert result["dominant_frequency_hz"] == pytest.approx(peak_hz, abs=0.6)
    low, high = result["band_hz"]
    assert low < peak_hz < high
    assert result["bandwidth_hz"] == pytest.approx(high - low)
    # The -6 dB edges of a Ricker spectrum f² exp(-f²/fp²) solve (f/fp)² exp(1-(f/fp)²) = 0.5012.
    grid = np.linspace(0.01, 3, 300000)
    ratio = grid**2 * np.exp(1 - grid**2)
    edges = grid[np.isclose(ratio, 10 ** (-6 / 20), atol=2e-5)]
    assert low == pytest.approx(edges.min() * peak_hz, rel=0.05)
    assert high == pytest.approx(edges.max() * peak_hz, rel=0.05)
    freqs = np.fft.rfftfreq(1024, dt)
    amp = np.abs(np.fft.rfft(traces - traces.mean(axis=1, keepdims=True), n=1024, axis=1)).mean(axis=0)
    assert result["spectral_centroid_hz"] == pytest.approx((freqs * amp).sum() / amp.sum())


def test_a_timeslice_has_no_zero_crossings_nor_spectrum():
    section = np.arange(12, dtype=np.float32).reshape(3, 4)
    live = np.ones((3, 4), bool)
    live[0, 0] = False
    result = stats.section_statistics(section, live, vertical=False)
    assert result["count"] == 11 and result["dead_traces"] == 1
    assert result["min"] == 1.0
    assert result["zero_crossings"] is None
    assert "dominant_frequency_hz" not in result
    assert any("timeslice" in note for note in result["notes"])


def test_depth_data_gets_no_frequency_statistics_and_says_why():
    section = np.random.default_rng(1).normal(size=(4, 50)).astype(np.float32)
    result = stats.section_statistics(section, np.ones(4, bool), vertical=True, sample_interval_s=None)
    assert "dominant_frequency_hz" not in result
    assert any("Depth" in note for note in result["notes"])


def test_a_section_with_no_live_trace_gives_no_number():
    result = stats.section_statistics(np.zeros((3, 10), np.float32), np.zeros(3, bool), vertical=True,
                                      sample_interval_s=0.004)
    assert result["count"] == 0 and result["live_traces"] == 0 and result["dead_traces"] == 3
    assert result["mean"] is None and result["percentiles"]["p50"] is None


def test_statistics_of_a_1000_by_1000_section_take_under_100_ms():
    import time

    section = np.random.default_rng(2).normal(size=(1000, 1000)).astype(np.float32)
    live = np.ones(1000, bool)
    stats.section_statistics(section, live, vertical=True, sample_interval_s=0.004)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        stats.section_statistics(section, live, vertical=True, sample_interval_s=0.004)
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[1] < 0.1
