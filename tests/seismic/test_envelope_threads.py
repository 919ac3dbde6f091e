"""A timeslice's envelope from the real FFT, on several threads, is the one witnesses recorded, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from seismic import detection, services, synthetic
from seismic.tools import _slab, _timeslice_amplitude


def _recorded_slab_envelope(slab: np.ndarray, centre: int, tolerance: int) -> np.ndarray:
    """The envelope as witnesses recorded it: signal.hilbert of a block of traces at a time, one thread, the
    window's maximum of |analytic| sample by sample."""
    lo, hi = max(0, centre - tolerance), min(slab.shape[2], centre + tolerance + 1)
    traces = slab.reshape(-1, slab.shape[2])
    out = np.empty(traces.shape[0], dtype=np.float64)
    rows = max(1, min(traces.shape[0], (1 << 16) // max(1, traces.shape[1])))
    for start in range(0, traces.shape[0], rows):
        analytic = signal.hilbert(np.asarray(traces[start:start + rows], dtype=np.float64), axis=1)
        block = out[start:start + rows]
        np.abs(analytic[:, lo], out=block)
        for k in range(lo + 1, hi):
            np.maximum(block, np.abs(analytic[:, k]), out=block)
    return out.reshape(slab.shape[:2])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf × 0, as in hilbert
def test_the_analytic_signal_is_hilberts_bit_for_bit():
    rng = np.random.default_rng(23)
    for length in range(1, 90):
        for trial in range(4):
            x = rng.normal(size=(37, length)) * 10.0 ** float(rng.integers(-300, 300))
            if trial == 1:  # zeros of both signs, whole traces and single samples
                x[::3] = 0.0
                x[1::5, ::2] = -0.0
            if trial == 2:  # infinities, NaN, the largest numbers
                x[::4, 0] = np.inf
                x[1::4, -1] = np.nan
                x[2::4] = 1e308
            if trial == 3:
                x = rng.integers(-3, 4, size=x.shape).astype(np.float64)  # small integers: exact cancellations
            expected = signal.hilbert(x, axis=1)
            assert detection.analytic_signal(x).tobytes() == expected.tobytes(), (length, trial)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("block_samples", [1 << 16, 1000, 33 * 7 + 5])
def test_the_slab_envelope_is_the_recorded_one_on_any_threads_and_blocks(monkeypatch, threads, block_samples):
    monkeypatch.setattr(detection, "ENVELOPE_THREADS", threads)
    monkeypatch.setattr(detection, "ENVELOPE_BLOCK_SAMPLES", block_samples)
    rng = np.random.default_rng(threads * 100 + block_samples % 97)
    spec = synthetic.SyntheticSpec(n_inlines=97, n_crosslines=61, n_samples=80, seed=5)
    volume = synthetic.generate(spec).data
    cases = [
        (volume[:, :, 20:53], 16),  # a 33-sample slab: odd length
        (volume[3:90, 1:60, 0:20], 3),  # at the volume's top: the window is cut
        (volume[:, :, 47:80], 30),  # at its bottom, even length
        (volume[:, :, 40:41], 0),  # one sample
        (rng.normal(size=(53, 41, 32)).astype(np.float32), 16),  # even length, float32 as read
        (rng.normal(size=(29, 31, 33)) * 1e-200, 16),  # tiny float64 values
    ]
    for slab, centre in cases:
        expected = _recorded_slab_envelope(slab, centre, 6)
        assert detection.slab_envelope(slab, centre, 6).tobytes() == expected.tobytes()
        cut = slab[5:-3, 2:-7] if min(slab.shape[:2]) > 12 else slab  # not contiguous, odd box
        assert detection.slab_envelope(cut, centre, 6).tobytes() == _recorded_slab_envelope(cut, centre, 6).tobytes()


def test_a_timeslices_amplitude_and_anomalies_are_as_recorded(synthetic_survey, monkeypatch):
    """Through the tool's reads: the slab of the survey around the bright spot's timeslice."""
    monkeypatch.setattr(detection, "ENVELOPE_BLOCK_SAMPLES", 33 * 50 + 1)  # many blocks, the last one short
    spot = next(f for f in synthetic_survey.ground_truth["features"] if f["kind"] == "bright_spot")
    time = round(spot["center"]["time_ms"] / synthetic_survey.sample_step) * synthetic_survey.sample_step
    section = services.section_read(survey=synthetic_survey, kind="timeslice", number=time)
    slab, centre = _slab(synthetic_survey, synthetic_survey.geometry().sample.index_of(time), 16)
    expected = _recorded_slab_envelope(slab, centre, 6)
    amplitude = _timeslice_amplitude(synthetic_survey, section)
    assert amplitude.tobytes() == expected.tobytes()
    detection.forget_results()
    new = detection.detect(section.data, section.live, vertical=False, amplitude=amplitude)
    detection.forget_results()
    old = detection.detect(section.data, section.live, vertical=False, amplitude=expected)
    assert new == old
    assert new[0], "the planted bright spot is found"
