"""The faster anomaly detection computes what it computed before, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, signal

from seismic import detection, synthetic


@pytest.fixture(scope="module")
def volume() -> np.ndarray:
    spec = synthetic.SyntheticSpec(n_inlines=300, n_crosslines=220, n_samples=90, seed=17)
    return synthetic.generate(spec).data


def _whole_slab_envelope(slab: np.ndarray, centre: int, tolerance: int) -> np.ndarray:
    """The envelope as it was computed before: one Hilbert transform of the whole slab."""
    env = np.abs(signal.hilbert(np.asarray(slab, dtype=np.float64), axis=2))
    lo, hi = max(0, centre - tolerance), min(env.shape[2], centre + tolerance + 1)
    return env[:, :, lo:hi].max(axis=2)


@pytest.mark.parametrize("lo,hi,centre", [(30, 63, 16), (0, 20, 3), (70, 90, 16), (40, 41, 0)])
def test_the_slab_envelope_is_the_whole_slabs_bit_for_bit(volume, lo, hi, centre):
    slab = volume[:, :, lo:hi]
    traces_per_block = detection.ENVELOPE_BLOCK_SAMPLES // slab.shape[2]
    assert slab.shape[0] * slab.shape[1] > traces_per_block  # several blocks, the last one short
    assert detection.slab_envelope(slab, centre, 6).tobytes() == _whole_slab_envelope(slab, centre, 6).tobytes()
    cut = slab[17:250, 5:201]  # a section's box, with odd sizes
    assert detection.slab_envelope(cut, centre, 6).tobytes() == _whole_slab_envelope(cut, centre, 6).tobytes()


def test_the_envelope_of_a_vertical_section_is_the_whole_sections(volume):
    section = volume[150].astype(np.float64)  # 220 traces of 90 samples: several blocks
    whole = np.abs(signal.hilbert(section, axis=1))
    assert detection.envelope(section, vertical=True).tobytes() == whole.tobytes()
    assert detection.envelope(section, vertical=False).tobytes() == np.abs(section).tobytes()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf × 0, as in ndimage
def test_the_interpolation_back_is_map_coordinates_bit_for_bit():
    rng = np.random.default_rng(4)
    for trial in range(120):
        thin = rng.normal(size=(int(rng.integers(1, 40)), int(rng.integers(1, 40))))
        step = int(rng.integers(2, 40))
        rows = np.arange(int(rng.integers(1, 300))) / step
        columns = np.arange(int(rng.integers(1, 300))) / (step if trial % 2 else 1)
        expected = ndimage.map_coordinates(thin, np.meshgrid(rows, columns, indexing="ij"), order=1, mode="nearest")
        assert detection._interpolate_back(thin, (rows, columns)).tobytes() == expected.tobytes()
    # Columns exactly on the grid (the shortcut), with finite values and with an infinity (no shortcut).
    thin = rng.normal(size=(30, 500))
    rows, columns = np.arange(900) / 31, np.arange(500.0)
    for values in (thin, np.where(np.arange(500) == 7, np.inf, thin)):
        expected = ndimage.map_coordinates(values, np.meshgrid(rows, columns, indexing="ij"), order=1, mode="nearest")
        got = detection._interpolate_back(values, (rows, columns))
        assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("axes,width", [((0,), 301), ((0, 1), 151), ((0, 1), 31), ((0,), 5)])
def test_the_running_median_is_the_same_as_with_map_coordinates(volume, axes, width):
    values = np.abs(volume[:, :, 40]).astype(np.float64) if axes == (0, 1) else np.abs(volume[120]).astype(np.float64)
    step = max(1, width // 15)
    thin = values[tuple(slice(None, None, step) if axis in axes else slice(None) for axis in range(2))]
    size = tuple(max(3, (width // step) | 1) if axis in axes else 1 for axis in range(2))
    smooth = ndimage.median_filter(thin, size=size, mode="reflect")
    if step > 1:
        grids = np.meshgrid(*[np.arange(n) / step if axis in axes else np.arange(n)
                              for axis, n in enumerate(values.shape)], indexing="ij")
        smooth = ndimage.map_coordinates(smooth, grids, order=1, mode="nearest")
    assert detection.running_median(values, width, axes).tobytes() == smooth.tobytes()


def test_a_timeslice_detection_on_a_real_synthetic_volume_finds_the_bright_spot_as_before(volume):
    """End to end on the synthetic volume: the envelope by blocks gives the detection of the whole slab."""
    spec = synthetic.SyntheticSpec(n_inlines=300, n_crosslines=220, n_samples=90, seed=17)
    spot = next(f for f in synthetic.generate(spec).ground_truth["features"] if f["kind"] == "bright_spot")
    k = int(round(spot["center"]["time_ms"] / spec.sample_interval_ms))
    slab, centre = volume[:, :, max(0, k - 16):k + 17], min(16, k)
    live = np.ones(volume.shape[:2], dtype=bool)
    live[::7, ::5] = False
    new = detection.detect(volume[:, :, k], live, vertical=False, amplitude=detection.slab_envelope(slab, centre, 6))
    old = detection.detect(volume[:, :, k], live, vertical=False, amplitude=_whole_slab_envelope(slab, centre, 6))
    assert new == old
    assert new[0], "the planted bright spot is found"


@pytest.mark.parametrize("samples", [1, 2, 5, 90, 100, 311, 1000, 1501])
def test_the_analytic_signal_of_padded_traces_is_hilberts_bit_for_bit(samples):
    """The dip-steered background's envelope pads each trace with zeros: the real FFT's spectrum of the padded
    traces is the full FFT's, and so is the analytic signal, to the last bit, for any padding."""
    from scipy import fft

    rng = np.random.default_rng(samples)
    x = rng.normal(size=(6, samples)) * 1000.0
    x[1] = 0.0
    x[2, ::3] = -0.0
    for length in {samples, samples + 1, fft.next_fast_len(samples + detection.ENVELOPE_PAD), 2 * samples + 7}:
        assert detection.analytic_signal(x, length).tobytes() == signal.hilbert(x, N=length, axis=1).tobytes()
    assert detection.analytic_signal(x).tobytes() == signal.hilbert(x, axis=1).tobytes()


@pytest.mark.parametrize("samples", [90, 500, 1000])
def test_the_envelopes_of_a_vertical_section_are_hilberts(volume, samples):
    """Both vertical envelopes (the lateral background's, and the dip-steered one's of padded traces) as
    ``signal.hilbert`` gave them, block by block."""
    from scipy import fft

    rng = np.random.default_rng(samples)
    section = volume[150].astype(np.float64) if samples == 90 else rng.normal(size=(300, samples)) * 500.0
    assert detection.envelope(section, vertical=True).tobytes() == np.abs(signal.hilbert(section, axis=1)).tobytes()
    length = fft.next_fast_len(samples + detection.ENVELOPE_PAD)
    padded = np.abs(signal.hilbert(section, N=length, axis=1)[:, :samples])
    assert detection.padded_envelope(section).tobytes() == padded.tobytes()
    assert detection.padded_envelope(section.astype(np.float32)).tobytes() == np.abs(signal.hilbert(
        section.astype(np.float32).astype(np.float64), N=length, axis=1)[:, :samples]).tobytes()


@pytest.mark.parametrize("block", [1, 7, 1000, 1 << 20])
def test_the_interpolation_back_is_map_coordinates_in_any_blocks(monkeypatch, block):
    monkeypatch.setattr(detection, "INTERPOLATION_BLOCK", block)
    rng = np.random.default_rng(block)
    thin = rng.normal(size=(31, 31))
    rows, columns = np.arange(1000) / 33, np.arange(997) / 33
    expected = ndimage.map_coordinates(thin, np.meshgrid(rows, columns, indexing="ij"), order=1, mode="nearest")
    assert detection._interpolate_back(thin, (rows, columns)).tobytes() == expected.tobytes()
