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
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
MIN_FFT = 1024


class SpectrumStatistics(TypedDict):
    dominant_frequency_hz: float
    band_hz: list[float]
    bandwidth_hz: float
    spectral_centroid_hz: float


def average_amplitude_spectrum(traces: np.ndarray, sample_interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and the trace-averaged amplitude spectrum of ``traces`` (n_traces, n_samples)."""
    n_samples = traces.shape[1]
    nfft = max(MIN_FFT, 1 << int(np.ceil(np.log2(max(n_samples, 2)))))
    centred = traces - traces.mean(axis=1, keepdims=True, dtype=np.float64)
    amplitude = np.abs(np.fft.rfft(centred, n=nfft, axis=1)).mean(axis=0)
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

    flat = values.reshape(-1).astype(np.float64)
    pct = np.percentile(flat, PERCENTILES)
    vmin, vmax = float(flat.min()), float(flat.max())
    mean = float(flat.mean())
    std = float(flat.std())
    result.update(
        {
            "min": vmin,
            "max": vmax,
            "mean": mean,
            "median": float(pct[PERCENTILES.index(50)]),
            "std": std,
            "rms": float(np.sqrt(np.mean(flat * flat))),
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
