"""Amplitude anomaly detection on a section. Plain numpy/scipy; no Django.

An anomaly is amplitude out of line with its surroundings, not every strong reflector:

1. Instantaneous amplitude (the envelope, |Hilbert transform| along the samples) of a vertical
   section, or |amplitude| of a timeslice, lightly smoothed (Gaussian, about one trace and a
   quarter wavelength) so one noisy sample cannot make a cluster.
2. The lateral background: a running median of that along the traces (``background_traces`` wide,
   per sample for vertical sections; a 2D median for timeslices). A laterally continuous reflector
   is its own background; a bright spot on it is not.
3. The residual envelope − background, standardised robustly over the live samples (median and
   1.4826·MAD, or mean and standard deviation), gives a z per sample.
4. Samples with z ≥ ``threshold_std`` and at least ``min_ratio`` times their background form
   8-connected clusters (scipy.ndimage.label); clusters of at least ``min_cluster_size`` samples
   are anomalies, ranked by their peak z.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage, signal

DEFAULT_THRESHOLD = 3.0
DEFAULT_MIN_CLUSTER = 10
DEFAULT_MIN_RATIO = 2.0
MAD_SCALE = 1.4826


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


def envelope(section: np.ndarray, *, vertical: bool) -> np.ndarray:
    data = np.asarray(section, dtype=np.float64)
    if vertical:
        return np.abs(signal.hilbert(data, axis=1))
    return np.abs(data)


def slab_envelope(slab: np.ndarray, centre: int, tolerance: int) -> np.ndarray:
    """A timeslice's instantaneous amplitude from a slab (inlines, crosslines, samples) around it:
    the strongest envelope within ±``tolerance`` samples of ``centre``, so dipping reflectors that the
    slice cuts obliquely do not turn into bands of alternating amplitude."""
    env = np.abs(signal.hilbert(np.asarray(slab, dtype=np.float64), axis=2))
    lo, hi = max(0, centre - tolerance), min(env.shape[2], centre + tolerance + 1)
    return env[:, :, lo:hi].max(axis=2)


def running_median(values: np.ndarray, width: int, axes: tuple[int, ...]) -> np.ndarray:
    """Median over a ``width``-wide window along ``axes``, computed on a grid thinned to about 15
    points per window and interpolated back (linear): a wide median at a fraction of the cost."""
    step = max(1, width // 15)
    thin = values[tuple(slice(None, None, step) if axis in axes else slice(None) for axis in range(values.ndim))]
    size = tuple(max(3, (width // step) | 1) if axis in axes else 1 for axis in range(values.ndim))
    smooth = ndimage.median_filter(thin, size=size, mode="reflect")
    if step == 1:
        return smooth
    grids = np.meshgrid(*[np.arange(n) / step if axis in axes else np.arange(n)
                          for axis, n in enumerate(values.shape)], indexing="ij")
    return ndimage.map_coordinates(smooth, grids, order=1, mode="nearest")


def detect(section: np.ndarray, live: np.ndarray, *, vertical: bool, threshold_std: float = DEFAULT_THRESHOLD,
           min_cluster_size: int = DEFAULT_MIN_CLUSTER, method: str = "mad", background_traces: int = 31,
           min_ratio: float = DEFAULT_MIN_RATIO, vertical_tolerance: int = 6,
           amplitude: np.ndarray | None = None) -> tuple[list[Cluster], dict[str, Any]]:
    """Anomalies of ``section`` ((traces, samples) when vertical, else (inlines, crosslines)), with
    the numbers the detection used. For a timeslice, pass ``amplitude`` (``slab_envelope``) when a
    slab around it could be read; |amplitude| of the slice is used otherwise."""
    if method not in ("mad", "std"):
        raise ValueError("method must be 'mad' or 'std'")
    data = np.asarray(section, dtype=np.float64)
    live_mask = np.broadcast_to(live[:, None], data.shape) if vertical else np.asarray(live, dtype=bool)
    info: dict[str, Any] = {"method": method, "threshold_std": threshold_std, "min_cluster_size": min_cluster_size,
                            "min_ratio": min_ratio}
    if not live_mask.any():
        info["note"] = "no live samples"
        return [], info
    if amplitude is not None:
        env = np.where(live_mask, amplitude, 0.0)
    else:
        env = envelope(np.where(live_mask, data, 0.0), vertical=vertical)
    env = ndimage.gaussian_filter(env, sigma=(1.0, 2.0) if vertical else (1.0, 1.0))
    # The background window spans at least half the section, so a feature narrower than that is
    # measured against its surroundings rather than against itself.
    if vertical:
        width = max(3, min(max(background_traces, data.shape[0] // 2), data.shape[0]) | 1)
        # Each neighbour's strongest envelope within ±vertical_tolerance samples, so a dipping or
        # faulted reflector still finds itself in its neighbours; then the median across traces.
        lifted = ndimage.grey_dilation(env, size=(1, 2 * vertical_tolerance + 1))
        background = running_median(lifted, width, axes=(0,))
    else:
        width = max(3, min(max(background_traces, max(data.shape) // 2), max(data.shape)) | 1)
        background = running_median(env, width, axes=(0, 1))
    info["background_traces"] = width
    scale = np.median(env[live_mask])
    if not np.isfinite(scale) or scale <= 0:
        info["note"] = "the section has no amplitude variation"
        return [], info
    floor = 1e-3 * scale  # avoids dividing by zero where the background vanishes
    residual = env - background
    values = residual[live_mask]
    if method == "mad":
        centre = float(np.median(values))
        spread = MAD_SCALE * float(np.median(np.abs(values - centre)))
    else:
        centre, spread = float(values.mean()), float(values.std())
    info.update({"residual_centre": centre, "residual_spread": spread})
    if spread <= 0 or not np.isfinite(spread):
        info["note"] = "the amplitude has no spread: nothing stands out"
        return [], info
    z = (residual - centre) / spread
    ratio = (env + floor) / (background + floor)
    candidate = (z >= threshold_std) & (ratio >= min_ratio) & live_mask
    labels, count = ndimage.label(candidate, structure=np.ones((3, 3), dtype=bool))
    clusters: list[Cluster] = []
    if count:
        index = np.arange(1, count + 1)
        areas = ndimage.sum_labels(np.ones_like(z), labels, index)
        slices = ndimage.find_objects(labels)
        for label, area, box in zip(index, areas, slices, strict=True):
            if area < min_cluster_size:
                continue
            member = labels[box] == label
            amplitudes = data[box][member]
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
