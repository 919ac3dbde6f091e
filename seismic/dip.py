"""Local dip of a vertical section, and running medians along it. Plain numpy/scipy; no Django.

``dip_field`` estimates the dip (samples per trace) at every sample from the structure tensor,
``horizon_times`` follows it into the horizons through every sample (a relative geological time), and
``steered_median`` takes a running median across the traces along those horizons: the lateral running
median of the section flattened on its reflectors, brought back to the section. A reflector, dipping
or undulating, is then its own background; a feature confined to a few traces of it is not.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

DIP_WINDOW = (9, 15)  # traces × samples over which the structure tensor is averaged
MAX_DIP = 2.0  # the steepest dip followed, in samples per trace


def dip_field(section: np.ndarray, live: np.ndarray) -> np.ndarray:
    """Local dip of a vertical section (traces, samples) in samples per trace, from its structure
    tensor: for a plane wave f(t − p·x) the gradients satisfy ∂f/∂x = −p·∂f/∂t, so the least-squares
    p over a ``DIP_WINDOW`` box is −⟨∂x·∂t⟩ / ⟨∂t·∂t⟩. A trace near a dead one has no gradient across
    the traces and adds nothing; where nothing varies the dip is 0. In single precision, on the section
    scaled to its largest amplitude: a dip needs no more, and it halves the memory traffic."""
    data = np.asarray(section)
    traces, samples = data.shape
    # The largest |amplitude|, without an array of them: NaN if there is one, as np.max(np.abs(data)).
    peak = float(np.maximum(data.max(), -data.min())) if data.size else 0.0
    if traces < 5 or samples < 5 or not np.isfinite(peak) or peak == 0.0:
        return np.zeros(data.shape, dtype=np.float32)
    scaled = np.empty(data.shape, dtype=np.float32)
    np.multiply(data, 1.0 / peak, out=scaled, casting="unsafe")
    # Five-point central differences (twelve times the gradient: the ratio does not mind). Three points
    # would take the gradient along the samples, where the wavelet's frequency is highest, for up to a
    # quarter too small and the dip for as much too steep; five leave a few per cent. The first and last
    # two traces and samples have none and add nothing.
    across = _zero_edges(np.empty_like(scaled))
    inner = (slice(2, -2), slice(2, -2))
    np.subtract(scaled[3:-1, 2:-2], scaled[1:-3, 2:-2], out=across[inner])
    across[inner] *= 8.0
    across[inner] -= scaled[4:, 2:-2]
    across[inner] += scaled[:-4, 2:-2]
    along = _zero_edges(np.empty_like(scaled))
    np.subtract(scaled[2:-2, 3:-1], scaled[2:-2, 1:-3], out=along[inner])
    along[inner] *= 8.0
    along[inner] -= scaled[2:-2, 4:]
    along[inner] += scaled[2:-2, :-4]
    np.multiply(across, along, out=across)
    np.multiply(along, along, out=along)
    alive = np.asarray(live, dtype=bool)
    usable = alive.copy()  # the differences across a trace reach two traces either side
    for reach in (1, 2):
        usable[reach:] &= alive[:-reach]
        usable[:-reach] &= alive[reach:]
    if not usable.all():
        across[~usable] = 0.0
        along[~usable] = 0.0
    # Zeros beyond the edges add nothing to either sum, so a window there averages what is inside; a
    # mirrored edge would add the section's reflectors with the opposite dip.
    cross = ndimage.uniform_filter(across, DIP_WINDOW, output=scaled, mode="constant")
    power = ndimage.uniform_filter(along, DIP_WINDOW, output=across, mode="constant")
    power += np.float32(float(power.mean()) * 1e-6 + 1e-30)
    np.divide(cross, power, out=cross)
    np.negative(cross, out=cross)
    return np.clip(cross, -MAX_DIP, MAX_DIP, out=cross)


def _zero_edges(array: np.ndarray) -> np.ndarray:
    """``array`` with its first and last two rows and columns set to zero (the rest is written after)."""
    array[:2] = 0.0
    array[-2:] = 0.0
    array[:, :2] = 0.0
    array[:, -2:] = 0.0
    return array


def horizon_times(dip: np.ndarray) -> np.ndarray:
    """For every sample of every trace, the sample on the middle trace of the horizon through it (the
    line that follows ``dip``), in fractional samples: the section's relative geological time, found by
    following the dip out from the middle trace. Sample t of a trace lies on the horizon through
    t ∓ (the mean dip of it and its neighbour) on the neighbour nearer the middle, read there by linear
    interpolation. Beyond the neighbour's ends (a horizon entering the section) the times go on one
    per sample: the spacing of its last samples would carry any error in the dip there into every
    horizon that enters after it."""
    traces, samples = dip.shape
    times = np.empty(dip.shape, dtype=np.float64)
    grid = np.arange(samples, dtype=np.float64)
    middle = traces // 2
    times[middle] = grid
    if samples < 2 or traces < 2:
        times[:] = grid
        return times
    step = dip[1:] + dip[:-1].astype(np.float64)
    step *= 0.5  # from trace x to trace x + 1
    position = np.empty(dip.shape, dtype=np.float64)  # where each sample was on the neighbour nearer the middle
    position[middle] = grid
    np.subtract(grid, step[middle:], out=position[middle + 1:])
    np.add(grid, step[:middle], out=position[:middle])
    inside = np.clip(position, 0, samples - 1)
    beyond = np.subtract(position, inside, out=position)  # nonzero only past the neighbour's ends
    lower = inside.astype(np.intp)  # the floor: nothing inside is negative
    np.minimum(lower, samples - 2, out=lower)
    fraction = np.subtract(inside, lower, out=inside)
    above = np.empty(samples, dtype=np.float64)
    for trace in (*range(middle + 1, traces), *range(middle - 1, -1, -1)):
        nearer = times[trace - 1] if trace > middle else times[trace + 1]
        below = times[trace]
        # "clip" only because an output array with "raise" is buffered: every index is inside already.
        nearer.take(lower[trace], out=below, mode="clip")
        nearer[1:].take(lower[trace], out=above, mode="clip")  # the sample after each
        above -= below
        above *= fraction[trace]
        below += above
        below += beyond[trace]
    return times


def window_median(values: np.ndarray, window: int) -> np.ndarray:
    """Median of ``values`` (points, grid) over ``window`` neighbouring points at every point, the
    window held inside the ends, NaNs left out (NaN where a window holds none)."""
    points = values.shape[0]
    window = min(window, points)
    start = np.clip(np.arange(points) - window // 2, 0, points - window)
    ordered = np.sort(values[start[:, None] + np.arange(window)], axis=1)  # NaNs sort last
    count = np.count_nonzero(~np.isnan(ordered), axis=1)
    low = np.take_along_axis(ordered, np.maximum(count - 1, 0)[:, None] // 2, axis=1)[:, 0]
    high = np.take_along_axis(ordered, (count // 2)[:, None], axis=1)[:, 0]
    return 0.5 * (low + high)


def steered_median(values: np.ndarray, times: np.ndarray, width: int, tolerance: int) -> np.ndarray:
    """A running median of ``values`` (traces, samples) across ``width`` traces along the horizons of
    ``times`` (``horizon_times``), each trace's value taken as its largest within ±``tolerance``
    samples of the horizon: the lateral running median of a flattened section, brought back.

    As ``detection.running_median``, on every ``width // 15``-th trace and interpolated linearly
    between them: those traces are read along a regular grid of horizon times, the median runs across
    them per horizon (a horizon outside the section on a trace leaves that trace out), and every sample
    reads the median at its own horizon time from the two nearest of them."""
    traces, samples = values.shape
    step = max(1, width // 15)
    thin = np.arange(0, traces, step)
    lifted = ndimage.grey_dilation(values[thin], size=(1, 2 * tolerance + 1)) if tolerance > 0 else values[thin]
    first = np.floor(float(times.min()))
    grid = np.arange(first, np.ceil(float(times.max())) + 2.0)
    flat = np.empty((thin.size, grid.size))
    for row, trace in enumerate(thin):
        # A horizon's times on a trace rise with it; where following the dip made them cross, hold them.
        flat[row] = np.interp(grid, np.maximum.accumulate(times[trace]), lifted[row], left=np.nan, right=np.nan)
    smooth = window_median(flat, max(3, (width // step) | 1))
    for gappy in np.nonzero(np.isnan(smooth).any(axis=1))[0]:
        # Horizon times no window reaches (beyond a corner of the section) take the nearest reached value.
        reached = ~np.isnan(smooth[gappy])
        smooth[gappy] = np.interp(grid, grid[reached], smooth[gappy, reached]) if reached.any() else 0.0
    # Between two of those traces, linearly. The grid is whole horizon times from ``first``, so a time's
    # place on it is its integer part; a block of traces at a time stays in the processor's caches.
    # Each step writes into buffers made once, in the arithmetic's order: where = clip(t − first), its integer
    # part, the fraction; low + fraction·(high − low) on either thinned trace; near + weight·(far − near).
    out = np.empty(values.shape, dtype=np.float64)
    where = np.empty((step, samples), dtype=np.float64)
    index = np.empty((step, samples), dtype=np.intp)
    after = np.empty((step, samples), dtype=np.intp)
    near, far, low = (np.empty((step, samples), dtype=np.float64) for _ in range(3))
    for row in range(thin.size):
        rows = slice(int(thin[row]), min(traces, int(thin[row]) + step))
        count = rows.stop - rows.start
        w, i, j, n, f, lo = where[:count], index[:count], after[:count], near[:count], far[:count], low[:count]
        np.subtract(times[rows], first, out=w)
        np.clip(w, 0, grid.size - 2, out=w)
        np.copyto(i, w, casting="unsafe")  # as astype: toward zero, and nothing here is negative
        np.subtract(w, i, out=w)
        np.add(i, 1, out=j)
        _between(smooth[row], i, j, w, lo, out=n)
        if row + 1 == thin.size:
            out[rows] = n
            continue
        _between(smooth[row + 1], i, j, w, lo, out=f)
        weight = (np.arange(rows.start, rows.stop) / step - row)[:, None]
        np.subtract(f, n, out=f)
        np.multiply(weight, f, out=f)
        np.add(n, f, out=out[rows])
    return out


def _between(line: np.ndarray, index: np.ndarray, after: np.ndarray, fraction: np.ndarray, low: np.ndarray, *,
             out: np.ndarray) -> None:
    """low + fraction · (high − low) of ``line`` at ``index`` and ``after`` (= index + 1, all inside it)."""
    line.take(index, out=low, mode="clip")  # "clip": with "raise", an output array is buffered
    line.take(after, out=out, mode="clip")
    np.subtract(out, low, out=out)
    np.multiply(fraction, out, out=out)
    np.add(low, out, out=out)
