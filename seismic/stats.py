"""Statistics of a seismic section, computed on live samples only. Plain numpy, no Django.

Definitions (so agents and tests can recompute them):

- ``std`` is the population standard deviation (ddof=0); percentiles use numpy's default
  (linear interpolation); ``median`` is the 50th percentile.
- ``rms`` is sqrt(mean(x²)); ``data_range`` is max − min; ``coefficient_of_variation`` is
  std / |mean| (None when the mean is 0).
- ``zero_crossings`` is the mean over live traces of the number of sign changes along the trace
  (a zero counts as positive).
- The amplitude spectrum is the mean over live traces of |rfft(trace − trace mean)|, zero-padded to
  at least 1024 points. The dominant frequency is its peak above 0 Hz; the −6 dB band is where the
  spectrum stays within 6 dB of that peak around it (edges linearly interpolated); the spectral
  centroid is Σ f·A / Σ A.

How they are computed is part of every witnessed extraction (its result hash covers them), so any
change here must give the same bits as before: percentiles come from ``quantiles`` (numpy's numbers
by selection instead of a partition of a float64 copy), the moments share one float64 copy and one
sum, in numpy's own order of operations. ``STATISTICS_VERSION`` names the arithmetic, for caches.
"""

from __future__ import annotations

import math
import threading
from typing import Any, TypedDict

import numpy as np

from seismic import quantiles

# Bumped whenever any statistic below could come out different (a definition or its arithmetic):
# cached statistics are keyed by it.
STATISTICS_VERSION = 1
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
MIN_FFT = 1024
SCRATCH_MAX_BYTES = 16 << 20  # work arrays up to this size are kept per thread between calls


class _Scratch(threading.local):
    """Work arrays kept per thread: a fresh array of megabytes costs its page faults on every call."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: type[np.generic]) -> np.ndarray:
        size = math.prod(shape)
        array = self.arrays.get(name)
        if array is None or array.size < size or array.dtype != dtype:
            array = np.empty(size, dtype=dtype)
            if array.nbytes <= SCRATCH_MAX_BYTES:
                self.arrays[name] = array
        return array[:size].reshape(shape)


_scratch = _Scratch()


class SpectrumStatistics(TypedDict):
    dominant_frequency_hz: float
    band_hz: list[float]
    bandwidth_hz: float
    spectral_centroid_hz: float


def average_amplitude_spectrum(traces: np.ndarray, sample_interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and the trace-averaged amplitude spectrum of ``traces`` (n_traces, n_samples)."""
    n_traces, n_samples = traces.shape
    nfft = max(MIN_FFT, 1 << int(np.ceil(np.log2(max(n_samples, 2)))))
    # The same operations as |rfft(traces − mean)| averaged over traces, into reused arrays.
    centred = np.subtract(traces, traces.mean(axis=1, keepdims=True, dtype=np.float64),
                          out=_scratch.get("centred", traces.shape, np.float64))
    spectra = np.fft.rfft(centred, n=nfft, axis=1, out=_scratch.get("spectra", (n_traces, nfft // 2 + 1),
                                                                   np.complex128))
    amplitude = np.abs(spectra, out=_scratch.get("amplitude", spectra.shape, np.float64)).mean(axis=0)
    return np.fft.rfftfreq(nfft, d=sample_interval_s), amplitude


def _crossing(freqs: np.ndarray, amp: np.ndarray, inside: int, outside: int, level: float) -> float:
    """Frequency where the spectrum crosses ``level`` between two neighbouring bins."""
    a_in, a_out = amp[inside], amp[outside]
    if a_in == a_out:
        return float(freqs[outside])
    t = (a_in - level) / (a_in - a_out)
    return float(freqs[inside] + t * (freqs[outside] - freqs[inside]))


def spectrum_statistics(traces: np.ndarray, sample_interval_s: float) -> SpectrumStatistics | None:
    if traces.shape[0] == 0 or traces.shape[1] < 4:
        return None
    freqs, amp = average_amplitude_spectrum(traces, sample_interval_s)
    if not np.any(amp[1:] > 0):
        return None
    peak = int(np.argmax(amp[1:])) + 1
    level = amp[peak] * 10 ** (-6 / 20)
    lo = peak
    while lo > 0 and amp[lo - 1] >= level:
        lo -= 1
    hi = peak
    while hi < len(amp) - 1 and amp[hi + 1] >= level:
        hi += 1
    low = float(freqs[0]) if lo == 0 else _crossing(freqs, amp, lo, lo - 1, level)
    high = float(freqs[-1]) if hi == len(amp) - 1 else _crossing(freqs, amp, hi, hi + 1, level)
    return {
        "dominant_frequency_hz": float(freqs[peak]),
        "band_hz": [low, high],
        "bandwidth_hz": high - low,
        "spectral_centroid_hz": float(np.sum(freqs * amp) / np.sum(amp)),
    }


def _amplitude_statistics(values: np.ndarray) -> tuple[float, float, np.ndarray, float, float, float]:
    """min, max, percentiles, mean, std (ddof 0) and rms of ``values`` as float64, exactly as
    ``np.percentile``, ``min``, ``max``, ``mean``, ``std`` and ``sqrt(mean(x*x))`` of a float64 copy give
    them."""
    n = values.size
    flat = _scratch.get("flat", (n,), np.float64)
    np.copyto(flat, values.reshape(-1), casting="unsafe")  # what astype(np.float64) gives, into a kept array
    extremes = None
    if values.dtype == np.float32 and n >= quantiles.SMALL:
        # The order statistics of the float32 samples are those of their float64 copy.
        previous, following, gamma = quantiles.linear_ranks(n, PERCENTILES)
        found = quantiles.order_statistics(values.reshape(-1), np.concatenate((previous, following, [0, -1])) % n)
        if found is not None:
            found = found.astype(np.float64)
            k = len(PERCENTILES)
            pct = quantiles.interpolate(found[:k], found[k:2 * k], gamma)
            extremes = float(found[2 * k]), float(found[2 * k + 1])
    if extremes is None:
        pct = np.percentile(flat, PERCENTILES)
        extremes = float(flat.min()), float(flat.max())
    # numpy's mean is its sum over the count; its std subtracts that same mean (kept as a 1-element
    # array), squares, sums and divides by the count: the same steps here, with one sum for both and
    # a kept work array.
    total = np.add.reduce(flat, keepdims=True)
    mean = np.true_divide(total, np.intp(n), out=total)
    work = _scratch.get("work", (n,), np.float64)
    deviations = np.subtract(flat, mean, out=work)
    np.square(deviations, out=deviations)
    std = float(np.sqrt(np.add.reduce(deviations) / np.intp(n)))
    np.multiply(flat, flat, out=work)
    rms = float(np.sqrt(np.add.reduce(work) / np.intp(n)))
    return extremes[0], extremes[1], pct, float(mean[0]), std, rms


def section_statistics(
    section: np.ndarray,
    live: np.ndarray,
    *,
    vertical: bool,
    sample_interval_s: float | None = None,
) -> dict[str, Any]:
    """Statistics of a section over its live traces.

    ``section`` is (traces, samples) with ``live`` of shape (traces,) for an inline or crossline,
    or (inlines, crosslines) with ``live`` of the same shape for a timeslice. ``sample_interval_s``
    (time data only) enables the spectral statistics of vertical sections.
    """
    notes: list[str] = []
    live = np.asarray(live, dtype=bool)
    live_traces = int(live.sum())
    if live.all() and section.flags.c_contiguous:  # the same samples, in the same order, without a copy
        values = section if vertical else section.reshape(-1)
    else:
        values = section[live]  # (n_live, n_samples) when vertical, (n_live,) for a timeslice
    count = int(values.size)
    result: dict[str, Any] = {
        "count": count,
        "live_traces": live_traces,
        "dead_traces": int(live.size - live_traces),
    }
    if count == 0:
        notes.append("No live traces in this section: no amplitude statistic can be given.")
        for key in ("min", "max", "mean", "median", "std", "rms", "zero_crossings", "data_range",
                    "coefficient_of_variation"):
            result[key] = None
        result["percentiles"] = {f"p{p}": None for p in PERCENTILES}
        result["notes"] = notes
        return result

    vmin, vmax, pct, mean, std, rms = _amplitude_statistics(values)
    result.update(
        {
            "min": vmin,
            "max": vmax,
            "mean": mean,
            "median": float(pct[PERCENTILES.index(50)]),
            "std": std,
            "rms": rms,
            "data_range": vmax - vmin,
            "coefficient_of_variation": (std / abs(mean)) if mean != 0 else None,
            "percentiles": {f"p{p}": float(v) for p, v in zip(PERCENTILES, pct, strict=True)},
        }
    )
    if vertical:
        signs = np.signbit(values)
        result["zero_crossings"] = float(np.count_nonzero(signs[:, 1:] != signs[:, :-1], axis=1).mean())
        if sample_interval_s:
            spectrum = spectrum_statistics(values, sample_interval_s)
            if spectrum is None:
                notes.append("Too few samples for a spectrum.")
            else:
                result.update(spectrum)
        else:
            notes.append("Depth-domain data: frequency statistics (Hz) do not apply and are not given.")
    else:
        result["zero_crossings"] = None
        notes.append("A timeslice holds one sample per trace: zero crossings and spectra need a vertical section.")
    if mean == 0:
        notes.append("The mean is 0, so the coefficient of variation is undefined.")
    result["notes"] = notes
    return result
