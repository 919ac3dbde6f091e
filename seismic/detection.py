"""Amplitude anomaly detection on a section. Plain numpy/scipy; no Django.

An anomaly is amplitude out of line with its surroundings, not every strong reflector:

1. Instantaneous amplitude (the envelope, |Hilbert transform| along the samples) of a vertical
   section; of a timeslice, the strongest envelope within a few samples of it, taken from the samples
   around it (``timeslice_envelope``: by the FFT of a slab, ``envelope="fft"``, the only method before
   there was a choice, or by a Hilbert filter, ``"fir"``, the tools' now), or |amplitude| where none could
   be read; lightly smoothed (Gaussian, about one trace and a quarter wavelength) so one noisy sample
   cannot make a cluster.
2. The background, a running median at least half the section (``background_traces``) wide:
   - ``background="dip_steered"`` (vertical sections; the anomalies tool's default): along the
     reflectors. The local dip comes from the structure tensor, the horizon through every sample
     follows it out from the middle trace, and the median runs across the traces along each horizon,
     of each trace's strongest envelope within ±``vertical_tolerance`` samples of it (``seismic.dip``).
     A reflector is its own background however it dips or undulates; a bright spot on it is not.
     The traces are padded with zeros for their Hilbert transform, so a trace's last reflections do
     not wrap round into the envelope of its first samples.
   - ``background="lateral"`` (the only method before there was a choice, and so the one of every
     call and witness that names none): across the traces at each sample, of each trace's strongest
     envelope within ±``vertical_tolerance`` samples. A laterally continuous reflector is its own
     background; one dipping more than about 2·``vertical_tolerance`` samples across the window, or
     undulating, is not, and stands out where it is strong.
   - a timeslice's: a 2D running median, whichever is named.
3. The residual envelope − background, standardised robustly over the live samples (median and
   1.4826·MAD, or mean and standard deviation), gives a z per sample.
4. Samples with z ≥ ``threshold_std`` and at least ``min_ratio`` times their background form
   8-connected clusters (scipy.ndimage.label); clusters of at least ``min_cluster_size`` samples
   are anomalies, ranked by their peak z. With the dip-steered background, candidates at most
   ``MERGE_GAP`` samples apart along a trace are one cluster: a bright spot's side lobes are the spot.

On sections from a second generator (tests/seismic/test_detection_unseen.py: dips to ±0.4 samples
per trace, 231 planted spots) the dip-steered background finds 99 % of the spots with 95.5 % of its
detections on them, the rest echoes of the spots that the generator's minimum-phase wavelet puts in
the data; the lateral one finds 93 % with 44 %, most of its false detections strong dipping reflectors.

Each number of every method reaches the witnesses recorded with it (the residual's centre and spread
to the last bit), so the code is fast only in ways that keep its arithmetic: the envelopes are the same
Hilbert transforms done a block of traces at a time (their spectrum from the real FFT, a slab's blocks
on a few threads), the medians come from ``quantiles`` (``np.median``'s numbers by selection), the
running median is brought back to the full grid with the exact arithmetic of
``ndimage.map_coordinates(order=1, mode="nearest")`` written out for a regular grid, a few rows at a
time, and steps that do not need each other's results (the dip with the envelope) run side by side.
The methods chosen since the first (the dip-steered background, the filter's envelope) are named by the
witnesses made with them.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft, ndimage

from seismic import dip, quantiles

DEFAULT_THRESHOLD = 3.0
DEFAULT_MIN_CLUSTER = 10
DEFAULT_MIN_RATIO = 2.0
MAD_SCALE = 1.4826
# Samples per block of traces given to one Hilbert transform: it runs along each trace alone, so any
# blocks give the same numbers, and blocks that stay in the processor's caches give them faster.
ENVELOPE_BLOCK_SAMPLES = 1 << 16
# Threads a slab's envelope runs on, each with its own run of blocks (the FFTs and numpy's loops let go of
# the interpreter): each block is computed as alone, so any number of threads gives the same numbers.
ENVELOPE_THREADS = max(1, min(4, os.cpu_count() or 1))
# How a vertical section's background is taken (see the module's docstring). A call that names none gets
# "lateral", the only method before there was a choice: witnesses recorded then name none and must replay
# with it, as must the callers that witness their results without naming one. The anomalies tool names it,
# "dip_steered" unless asked otherwise.
BACKGROUNDS = ("dip_steered", "lateral")
DEFAULT_BACKGROUND = "dip_steered"
UNNAMED_BACKGROUND = "lateral"
# The dip-steered background's: zeros after each trace for its Hilbert transform (the FFT's wrap-around
# would put a trace's last reflections into the envelope of its first samples), and the widest gap along
# a trace, in samples, that still joins two clusters (a bright spot's side lobes are the spot).
ENVELOPE_PAD = 64
MERGE_GAP = 8
# How a timeslice's envelope is taken from the samples around it (``timeslice_envelope``). A call that names
# none gets "fft", the only method before there was a choice: witnesses recorded then name none and replay
# with it. The tools name "fir".
# - "fft": the Hilbert transform of the slab of ±SLAB_HALF samples, by FFT (``slab_envelope``). The transform
#   is circular, so the slab's two ends reach into each other's envelope.
# - "fir": a Hilbert filter of ±HILBERT_REACH samples (``filtered_envelope``), in single precision, from the
#   slab of ±(tolerance + HILBERT_REACH) samples: closer to the envelope of the whole trace than "fft" on every
#   kind of data measured (tests/seismic/test_envelope_filter.py), at a fraction of the cost.
ENVELOPES = ("fir", "fft")
ENVELOPE = "fir"
UNNAMED_ENVELOPE = "fft"
SLAB_HALF = 16
# The filter: the ideal discrete Hilbert transformer (2/(πj) at odd lags j, 0 at even ones) under a Kaiser window
# of half-length HILBERT_REACH + 1 and β = 2, as (lag, coefficient) pairs. The coefficients are written out
# (the test checks them against the formula) so that no machine's libm can change them.
HILBERT_REACH = 15
HILBERT_TAPS = ((1, 0.6348860164746507), (3, 0.2070404117346508), (5, 0.11882949413563829),
                (7, 0.07929280706647046), (9, 0.05615443015289213), (11, 0.040648441870213436),
                (13, 0.029427129095186504), (15, 0.02094170042543793))
# Traces per block of the filter: its buffers stay in the processor's caches.
FILTER_BLOCK_TRACES = 2048


@dataclass(frozen=True)
class Cluster:
    """One anomaly, in array indices (first axis, second axis) of the section."""

    first: tuple[int, int]  # index range along the first axis (traces or inlines), inclusive
    second: tuple[int, int]  # index range along the second axis (samples or crosslines), inclusive
    centroid: tuple[float, float]  # amplitude-weighted, in fractional indices
    peak_amplitude: float  # the largest |amplitude| in the cluster, with its sign
    mean_amplitude: float  # mean |amplitude| over the cluster
    area: int  # number of samples
    strength: float  # peak robust z of the residual amplitude
    ratio: float  # peak envelope / lateral background


def _block(traces: int, samples: int) -> int:
    return max(1, min(traces, ENVELOPE_BLOCK_SAMPLES // max(1, samples)))


def envelope(section: np.ndarray, *, vertical: bool) -> np.ndarray:
    """|amplitude| of a timeslice; |``signal.hilbert``| of a vertical section's traces, to the last bit, from
    the real FFT (``analytic_signal``)."""
    data = np.asarray(section, dtype=np.float64)
    if not vertical:
        return np.abs(data)
    out = np.empty(data.shape, dtype=np.float64)
    rows = _block(*data.shape)
    for start in range(0, data.shape[0], rows):
        np.abs(analytic_signal(data[start:start + rows]), out=out[start:start + rows])
    return out


def padded_envelope(section: np.ndarray) -> np.ndarray:
    """The envelope of a vertical section's traces, each padded with ``ENVELOPE_PAD`` zeros so the
    transform's wrap-around does not reach its other end: ``signal.hilbert(…, N=…)``'s to the last bit,
    from the real FFT (``analytic_signal``)."""
    data = np.asarray(section, dtype=np.float64)
    samples = data.shape[1]
    length = fft.next_fast_len(samples + ENVELOPE_PAD)
    out = np.empty(data.shape, dtype=np.float64)
    rows = _block(data.shape[0], length)
    for start in range(0, data.shape[0], rows):
        analytic = analytic_signal(data[start:start + rows], length)
        np.abs(analytic[:, :samples], out=out[start:start + rows])
    return out


def analytic_signal(block: np.ndarray, length: int | None = None) -> np.ndarray:
    """``signal.hilbert(block, N=length, axis=1)`` of a 2-D float64 block (its traces padded with zeros to
    ``length`` samples, their own length by default), to the last bit, with less work.

    hilbert takes the full FFT of the real traces, doubles its positive frequencies, zeroes its negative
    ones and takes the inverse FFT. For real input that full FFT is the real FFT mirrored: its first half is
    ``fft.rfft``'s, except that the zero frequency's (and, for an even length, the Nyquist frequency's)
    imaginary part is −0.0 where rfft's is +0.0. So the same spectrum is built from rfft, without computing
    and then zeroing the mirrored half, and goes to the same inverse FFT."""
    length = block.shape[1] if length is None else length
    half = fft.rfft(block, n=length, axis=1)
    spectrum = np.zeros((block.shape[0], length), dtype=np.complex128)
    np.conjugate(half[:, 0], out=spectrum[:, 0])
    positive = (length + 1) // 2  # bins 1 .. positive − 1 are doubled, as hilbert's ``*= 2.0`` does
    np.multiply(half[:, 1:positive], 2.0, out=spectrum[:, 1:positive])
    if length % 2 == 0:
        np.conjugate(half[:, length // 2], out=spectrum[:, length // 2])
    return fft.ifft(spectrum, axis=1, overwrite_x=True)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """The envelope's threads, made on first use in each process (a forked worker gets its own)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(ENVELOPE_THREADS, thread_name_prefix="envelope"))
        return _pool[1]


def slab_envelope(slab: np.ndarray, centre: int, tolerance: int) -> np.ndarray:
    """A timeslice's instantaneous amplitude from a slab (inlines, crosslines, samples) around it:
    the strongest envelope within ±``tolerance`` samples of ``centre``, so dipping reflectors that the
    slice cuts obliquely do not turn into bands of alternating amplitude.

    The Hilbert transform runs along each trace alone, so blocks of traces small enough to stay in
    the processor's caches give the same numbers as the whole slab at once, without the slab's
    complex copies (gigabytes for a large survey), and so do runs of blocks on several threads; each
    block's transform is ``signal.hilbert``'s to the last bit (``analytic_signal``), and only the
    window's samples are taken to their modulus."""
    lo, hi = max(0, centre - tolerance), min(slab.shape[2], centre + tolerance + 1)
    traces = slab.reshape(-1, slab.shape[2])
    out = np.empty(traces.shape[0], dtype=np.float64)
    rows = _block(*traces.shape)
    starts = range(0, traces.shape[0], rows)

    def run(blocks: Iterable[int]) -> None:
        for start in blocks:
            analytic = analytic_signal(np.asarray(traces[start:start + rows], dtype=np.float64))
            block = out[start:start + rows]
            np.abs(analytic[:, lo], out=block)
            for k in range(lo + 1, hi):  # the window's maximum sample by sample: a reduction over 13 is slow
                np.maximum(block, np.abs(analytic[:, k]), out=block)

    _on_threads(run, starts)
    return out.reshape(slab.shape[:2])


class _Beside:
    """``function(*args)`` on a thread of the envelope's pool while the caller goes on; computed by the caller
    instead if no thread has taken it up by the time its answer is needed (the pool busy with other work)."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._call = (function, args)
        self._future = _threads().submit(function, *args)

    def result(self) -> Any:
        if self._future.cancel():
            function, args = self._call
            return function(*args)
        return self._future.result()


def _on_threads(run: Callable[[Iterable[int]], None], starts: range) -> None:
    """``run`` on ``ENVELOPE_THREADS`` threads (this one and the pool's), each taking the next of the blocks
    ``starts`` whenever it is free, so a thread slowed by other work takes fewer."""
    threads = min(ENVELOPE_THREADS, len(starts))
    if threads <= 1:
        run(starts)
        return
    lock = threading.Lock()
    pending = iter(starts)

    def blocks() -> Iterator[int]:
        while True:
            with lock:
                start = next(pending, None)
            if start is None:
                return
            yield start

    helpers = [_threads().submit(run, blocks()) for _ in range(threads - 1)]
    try:
        run(blocks())
    finally:
        for helper in helpers:
            if not helper.cancel():  # one that never started has nothing left to take
                helper.result()


_FILTER = tuple((lag, np.float32(coefficient)) for lag, coefficient in HILBERT_TAPS)


def filtered_envelope(slab: np.ndarray, centre: int, tolerance: int) -> np.ndarray:
    """A timeslice's instantaneous amplitude by envelope method "fir": the strongest envelope within
    ±``tolerance`` samples of ``centre`` of each trace of the slab (inlines, crosslines, samples), the
    Hilbert transform taken with the filter of ``HILBERT_TAPS``. The slab holds the samples within
    ±(``tolerance`` + ``HILBERT_REACH``) of the slice where the volume has them; those beyond its top or
    bottom count as zeros, and window samples beyond them are left out, as ``slab_envelope`` leaves them.

    The arithmetic is fixed and elementwise, so every machine gives the same bits: the samples as float32
    (as the volume holds them), the transform h = Σ c·(x[t − j] − x[t + j]) in float32, lag after lag
    from the first; x² + h² in float64 (both products exact), the window's largest of those, and its
    square root. Blocks of traces are turned to have their samples as rows, so each step is one operation
    on the window's samples of a block of traces, and run on a few threads, each block as alone."""
    samples = slab.shape[2]
    traces = slab.reshape(-1, samples)
    width = 2 * tolerance + 1
    rows = width + 2 * HILBERT_REACH
    first = centre - tolerance - HILBERT_REACH  # the slab's sample at the first row of a block
    have = (max(0, first), min(samples, first + rows))  # the slab's samples the rows hold
    inside = (max(0, centre - tolerance) - (centre - tolerance), min(samples, centre + tolerance + 1)
              - (centre - tolerance))  # window samples inside the volume, from the window's first
    out = np.empty(traces.shape[0], dtype=np.float64)
    block = FILTER_BLOCK_TRACES
    starts = range(0, traces.shape[0], block)

    def run(blocks: Iterable[int]) -> None:
        rows_of = np.zeros((rows, block), dtype=np.float32)  # rows beyond the volume stay zero
        transform = np.empty((width, block), dtype=np.float32)
        term = np.empty((width, block), dtype=np.float32)
        power = np.empty((width, block), dtype=np.float64)
        square = np.empty((width, block), dtype=np.float64)
        for start in blocks:
            n = min(block, traces.shape[0] - start)
            x = rows_of[:, :n]
            np.copyto(x[have[0] - first:have[1] - first], traces[start:start + n, have[0]:have[1]].T,
                      casting="same_kind")
            h, t = transform[:, :n], term[:, :n]
            for k, (lag, coefficient) in enumerate(_FILTER):
                target = h if k == 0 else t
                np.subtract(x[HILBERT_REACH - lag:HILBERT_REACH - lag + width],
                            x[HILBERT_REACH + lag:HILBERT_REACH + lag + width], out=target)
                np.multiply(target, coefficient, out=target)
                if k:
                    np.add(h, t, out=h)
            p, s = power[inside[0]:inside[1], :n], square[inside[0]:inside[1], :n]
            np.copyto(p, h[inside[0]:inside[1]])
            np.multiply(p, p, out=p)
            np.copyto(s, x[HILBERT_REACH + inside[0]:HILBERT_REACH + inside[1]])
            np.multiply(s, s, out=s)
            np.add(p, s, out=p)
            np.maximum.reduce(p, axis=0, out=out[start:start + n])

    _on_threads(run, starts)
    np.sqrt(out, out=out)
    return out.reshape(slab.shape[:2])


def timeslice_envelope(slab: np.ndarray, centre: int, tolerance: int, *,
                       envelope: str = UNNAMED_ENVELOPE) -> np.ndarray:
    """A timeslice's instantaneous amplitude by the envelope method ``envelope`` (``ENVELOPES``), from the
    slab of ``slab_half(envelope, tolerance)`` samples either side of it."""
    if envelope == "fft":
        return slab_envelope(slab, centre, tolerance)
    if envelope == "fir":
        return filtered_envelope(slab, centre, tolerance)
    raise ValueError(f"envelope must be one of {', '.join(ENVELOPES)}")


def slab_half(envelope: str, tolerance: int) -> int:
    """The samples either side of a timeslice that its envelope by ``envelope`` reads."""
    return SLAB_HALF if envelope == "fft" else tolerance + HILBERT_REACH


def _linear_weights(coordinates: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper neighbours and their weights of order-1 spline interpolation at ``coordinates``
    on a grid of ``length`` points with mode "nearest", in ndimage's steps: the weights from the
    coordinate's fraction (the upper one as 1 − the lower one), the neighbours held to the grid."""
    start = np.floor(coordinates)
    w0 = 1.0 - (coordinates - start)
    w1 = 1.0 - w0
    lower = np.clip(start, 0, length - 1).astype(np.intp)
    upper = np.clip(start + 1, 0, length - 1).astype(np.intp)
    return lower, upper, w0, w1


INTERPOLATION_BLOCK = 1 << 14  # samples per block of rows brought back to the full grid


def _interpolate_back(thin: np.ndarray, coordinates: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``ndimage.map_coordinates(thin, np.meshgrid(*coordinates, indexing="ij"), order=1, mode="nearest")``
    of a 2-D ``thin`` on the grid of ``coordinates`` (per axis), with its arithmetic in its order: the
    four neighbours' (value × row weight) × column weight summed from 0.0, row by row and column by
    column, lower before upper."""
    lower0, upper0, a0, a1 = _linear_weights(coordinates[0], thin.shape[0])
    lower1, upper1, b0, b1 = _linear_weights(coordinates[1], thin.shape[1])
    near = thin[lower0] * a0[:, None]
    far = thin[upper0] * a1[:, None]
    if (lower1.size == thin.shape[1] and (lower1 == np.arange(lower1.size)).all() and not b1.any()
            and np.isfinite(thin).all()):
        # Columns on the grid (a running median along the first axis only): weights 1 and 0, and a
        # finite value times 0 adds nothing to the sum, so the four terms are two.
        out = np.add(0.0, near)
        out += far
        return out
    # A few rows at a time, so the terms stay in the processor's caches; each sample's arithmetic is the same.
    out = np.empty((near.shape[0], lower1.size), dtype=np.float64)
    rows = max(1, INTERPOLATION_BLOCK // max(1, lower1.size))
    term = np.empty((min(rows, near.shape[0]), lower1.size), dtype=np.float64)
    for start in range(0, near.shape[0], rows):
        block, part = out[start:start + rows], term[:min(rows, near.shape[0] - start)]
        for k, (values, columns, weights) in enumerate(((near, lower1, b0), (near, upper1, b1), (far, lower1, b0),
                                                        (far, upper1, b1))):
            values[start:start + rows].take(columns, axis=1, out=part, mode="clip")
            np.multiply(part, weights, out=part)
            if k == 0:
                np.add(0.0, part, out=block)
            else:
                np.add(block, part, out=block)
    return out


def running_median(values: np.ndarray, width: int, axes: tuple[int, ...]) -> np.ndarray:
    """Median over a ``width``-wide window along ``axes``, computed on a grid thinned to about 15
    points per window and interpolated back (linear): a wide median at a fraction of the cost."""
    step = max(1, width // 15)
    thin = values[tuple(slice(None, None, step) if axis in axes else slice(None) for axis in range(values.ndim))]
    size = tuple(max(3, (width // step) | 1) if axis in axes else 1 for axis in range(values.ndim))
    smooth = ndimage.median_filter(thin, size=size, mode="reflect")
    if step == 1:
        return smooth
    coordinates = [np.arange(n) / step if axis in axes else np.arange(n)
                   for axis, n in enumerate(values.shape)]
    if values.ndim == 2 and smooth.dtype == np.float64:
        return _interpolate_back(smooth, (np.asarray(coordinates[0], dtype=np.float64),
                                          np.asarray(coordinates[1], dtype=np.float64)))
    grids = np.meshgrid(*coordinates, indexing="ij")
    return ndimage.map_coordinates(smooth, grids, order=1, mode="nearest")


# Detection is a pure function of its arrays and parameters: the last answers are kept, keyed by a hash
# of the arrays' bytes, because the tools ask the same question again (the hypothesis steps of an
# interpretation audit run it on the same full sections for every sample they check).
RESULTS_KEPT = 32
_results: OrderedDict[bytes, tuple[list[Cluster], dict[str, Any]]] = OrderedDict()
_results_lock = threading.Lock()


def forget_results() -> None:
    """Drop the kept answers (benchmarks time the computation, not the lookup)."""
    with _results_lock:
        _results.clear()


def _fingerprint(*arrays: np.ndarray | None, parameters: tuple[Any, ...]) -> bytes:
    digest = hashlib.sha256(repr(parameters).encode())
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return digest.digest()


def detect(section: np.ndarray, live: np.ndarray, *, vertical: bool, threshold_std: float = DEFAULT_THRESHOLD,
           min_cluster_size: int = DEFAULT_MIN_CLUSTER, method: str = "mad", background_traces: int = 31,
           min_ratio: float = DEFAULT_MIN_RATIO, vertical_tolerance: int = 6,
           amplitude: np.ndarray | None = None,
           background: str = UNNAMED_BACKGROUND) -> tuple[list[Cluster], dict[str, Any]]:
    """Anomalies of ``section`` ((traces, samples) when vertical, else (inlines, crosslines)), with
    the numbers the detection used. For a timeslice, pass ``amplitude`` (``timeslice_envelope``) when a
    slab around it could be read; |amplitude| of the slice is used otherwise. ``background`` is how a
    vertical section's background is taken (``BACKGROUNDS``); a timeslice's is the same either way."""
    if method not in ("mad", "std"):
        raise ValueError("method must be 'mad' or 'std'")
    if background not in BACKGROUNDS:
        raise ValueError(f"background must be one of {', '.join(BACKGROUNDS)}")
    key = _fingerprint(np.asarray(section), np.asarray(live, dtype=bool), amplitude, parameters=(
        vertical, threshold_std, min_cluster_size, method, background_traces, min_ratio, vertical_tolerance,
        background))
    with _results_lock:
        kept = _results.get(key)
        if kept is not None:
            _results.move_to_end(key)
    if kept is None:
        kept = _detect(section, live, vertical=vertical, threshold_std=threshold_std,
                       min_cluster_size=min_cluster_size, method=method, background_traces=background_traces,
                       min_ratio=min_ratio, vertical_tolerance=vertical_tolerance, amplitude=amplitude,
                       background=background)
        with _results_lock:
            _results[key] = kept
            while len(_results) > RESULTS_KEPT:
                _results.popitem(last=False)
    clusters, info = kept
    return list(clusters), dict(info)  # the clusters are frozen; the containers are the caller's


def _detect(section: np.ndarray, live: np.ndarray, *, vertical: bool, threshold_std: float, min_cluster_size: int,
            method: str, background_traces: int, min_ratio: float, vertical_tolerance: int,
            amplitude: np.ndarray | None,
            background: str = UNNAMED_BACKGROUND) -> tuple[list[Cluster], dict[str, Any]]:
    raw = np.asarray(section)
    shape = raw.shape
    live_mask = np.broadcast_to(live[:, None], shape) if vertical else np.asarray(live, dtype=bool)
    steered = vertical and background == "dip_steered"
    info: dict[str, Any] = {"method": method, "threshold_std": threshold_std, "min_cluster_size": min_cluster_size,
                            "min_ratio": min_ratio}
    if steered:  # the lateral method's answers stay as they were recorded, without this key
        info["background"] = background
    if not live_mask.any():
        info["note"] = "no live samples"
        return [], info
    all_live = bool(live_mask.all())
    # The samples in double precision, dead traces zero: what the envelope and the dip are taken of (a given
    # amplitude needs neither).
    traces = np.zeros(0)
    if amplitude is None or steered:
        data = np.asarray(raw, dtype=np.float64)
        traces = data if all_live else np.where(live_mask, data, 0.0)
    # Steps that do not need each other's results run side by side: the horizons (from the section) with
    # the envelope, the envelope's median with the background (from the envelope). Each is computed as alone.
    horizons = None
    if steered:
        alive = np.asarray(live, dtype=bool)
        horizons = _Beside(lambda: dip.horizon_times(dip.dip_field(traces, alive)))
    if amplitude is not None:
        given = np.asarray(amplitude)
        env = given if all_live and given.dtype == np.float64 else np.where(live_mask, given, 0.0)
    elif steered:
        env = padded_envelope(traces)
    else:
        env = envelope(traces, vertical=vertical)
    env = ndimage.gaussian_filter(env, sigma=(1.0, 2.0) if vertical else (1.0, 1.0))
    median_env = _Beside(quantiles.median, env.reshape(-1) if all_live else env[live_mask])
    # The background window spans at least half the section, so a feature narrower than that is
    # measured against its surroundings rather than against itself.
    if horizons is not None:
        width = max(3, min(max(background_traces, shape[0] // 2), shape[0]) | 1)
        background_values = dip.steered_median(env, horizons.result(), width, vertical_tolerance)
    elif vertical:
        width = max(3, min(max(background_traces, shape[0] // 2), shape[0]) | 1)
        # Each neighbour's strongest envelope within ±vertical_tolerance samples, so a dipping or
        # faulted reflector still finds itself in its neighbours; then the median across traces.
        lifted = ndimage.grey_dilation(env, size=(1, 2 * vertical_tolerance + 1))
        background_values = running_median(lifted, width, axes=(0,))
    else:
        width = max(3, min(max(background_traces, max(shape) // 2), max(shape)) | 1)
        background_values = running_median(env, width, axes=(0, 1))
    info["background_traces"] = width
    scale = median_env.result()
    if not np.isfinite(scale) or scale <= 0:
        info["note"] = "the section has no amplitude variation"
        return [], info
    floor = 1e-3 * scale  # avoids dividing by zero where the background vanishes
    residual = env - background_values
    values = residual.reshape(-1) if all_live else residual[live_mask]
    if method == "mad":
        centre = float(quantiles.median(values))
        deviation = np.subtract(values, centre)
        spread = MAD_SCALE * float(quantiles.median(np.abs(deviation, out=deviation)))
    else:
        centre, spread = float(values.mean()), float(values.std())
    info.update({"residual_centre": centre, "residual_spread": spread})
    if spread <= 0 or not np.isfinite(spread):
        info["note"] = "the amplitude has no spread: nothing stands out"
        return [], info
    z = np.subtract(residual, centre)
    z /= spread
    ratio = np.add(env, floor)
    ratio /= np.add(background_values, floor, out=background_values)  # the background is not needed after
    candidate = (z >= threshold_std) & (ratio >= min_ratio) & live_mask
    if steered:
        # Candidates at most MERGE_GAP samples apart along a trace are one cluster: a bright spot's side
        # lobes are part of it. Each reaches half the gap up and down the trace, its label is the joined one.
        joined = candidate.copy()
        for shift in range(1, MERGE_GAP // 2 + 1):
            joined[:, shift:] |= candidate[:, :-shift]
            joined[:, :-shift] |= candidate[:, shift:]
        labels, count = ndimage.label(joined, structure=np.ones((3, 3), dtype=bool))
        np.multiply(labels, candidate, out=labels)  # the joined label on the candidates, 0 elsewhere
    else:
        labels, count = ndimage.label(candidate, structure=np.ones((3, 3), dtype=bool))
    clusters: list[Cluster] = []
    if count:
        index = np.arange(1, count + 1)
        areas = np.bincount(labels[candidate], minlength=count + 1)[1:]  # samples per label: all are candidates
        slices = ndimage.find_objects(labels)
        for label, area, box in zip(index, areas, slices, strict=True):
            if area < min_cluster_size:
                continue
            member = labels[box] == label
            amplitudes = np.asarray(raw[box], dtype=np.float64)[member]
            weights = env[box][member]
            rows, cols = np.nonzero(member)
            rows = rows + box[0].start
            cols = cols + box[1].start
            peak = int(np.argmax(np.abs(amplitudes)))
            clusters.append(Cluster(
                first=(int(rows.min()), int(rows.max())), second=(int(cols.min()), int(cols.max())),
                centroid=(float(np.average(rows, weights=weights)), float(np.average(cols, weights=weights))),
                peak_amplitude=float(amplitudes[peak]), mean_amplitude=float(np.mean(np.abs(amplitudes))),
                area=int(area), strength=float(z[box][member].max()), ratio=float(ratio[box][member].max()),
            ))
    clusters.sort(key=lambda c: c.strength, reverse=True)
    return clusters, info
