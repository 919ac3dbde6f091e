"""Percentiles and medians of float arrays, exactly as ``np.percentile`` and ``np.median`` give them,
for a fraction of the cost. Plain numpy; no Django.

numpy partitions a float64 copy of the data around every index it needs. The values at those ranks
are all a percentile needs, and they can be found by counting instead: a float's bits, with the
negative ones flipped, sort as unsigned integers in the float's order, so counting the top 16 bits
of every key (one ``bincount``) says which few buckets hold the wanted ranks; only their members
are then sorted (or counted again on the next 16 bits, when a bucket is large). The interpolation
between neighbouring ranks is numpy's own arithmetic, step for step, so the results are the same
bits: witnesses recorded from ``np.percentile`` replay against these.

Two cases are handed to numpy unchanged, because the answer is not a function of the values alone
there: a NaN anywhere, and a zero at a wanted rank when the data also holds −0.0 (numpy's partition
may put either zero there). Arrays too small to be worth it go to numpy as well.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

SMALL = 4096  # below this many values numpy's partition is as fast
SORT_BELOW = 1 << 15  # members of the wanted buckets sorted outright below this many
# For each float type: the signed and unsigned integers of its width, the width, and the signed one's minimum.
_BITS: dict[np.dtype[Any], tuple[type[np.signedinteger[Any]], type[np.unsignedinteger[Any]], int, int]] = {
    np.dtype(np.float32): (np.int32, np.uint32, 32, -(1 << 31)),
    np.dtype(np.float64): (np.int64, np.uint64, 64, -(1 << 63)),
}


def _keys(values: np.ndarray) -> np.ndarray:
    """Unsigned integers that sort as ``values`` do (−0.0 just below +0.0, NaNs beyond ±inf)."""
    signed, unsigned, width, smallest = _BITS[values.dtype]
    bits = values.view(signed)
    flip = bits >> (width - 1)  # all ones for negative floats, zero otherwise
    np.bitwise_or(flip, signed(smallest), out=flip)  # and always the sign bit
    np.bitwise_xor(flip, bits, out=flip)
    return flip.view(unsigned)


def _floats(keys: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray:
    _, unsigned, width, _ = _BITS[dtype]
    top = np.array(1, dtype=unsigned) << (width - 1)
    negative = keys < top
    bits = np.where(negative, ~keys, keys ^ top).astype(unsigned)
    return bits.view(dtype)


def _select(keys: np.ndarray, ranks: np.ndarray, shift: int) -> np.ndarray:
    """The keys at ``ranks`` (sorted, unique) of the sorted ``keys``, whose bits above
    ``shift + 16`` are all equal: counted 16 bits at a time."""
    if keys.size <= SORT_BELOW:
        return np.sort(keys)[ranks]
    buckets = (keys >> shift).astype(np.uint16)
    counts = np.bincount(buckets, minlength=1 << 16)
    ends = np.cumsum(counts)
    which = np.searchsorted(ends, ranks, side="right")
    within = ranks - (ends[which] - counts[which])
    if shift == 0:  # a bucket is one key: the prefix above, and the bucket below
        return (keys[0] >> 16 << 16) | which.astype(keys.dtype)
    out = np.empty(ranks.size, dtype=keys.dtype)
    for bucket in np.unique(which):
        at = which == bucket
        out[at] = _select(keys[buckets == bucket], within[at], shift - 16)
    return out


# The top 16 bits of a float32 (sign, exponent, 7 bits of mantissa) in the order of the values:
# negative floats from the largest magnitude down, then the positive ones up.
_HIGH = 1 if sys.byteorder == "little" else 0
_VALUE_ORDER = np.concatenate((np.arange(0xFFFF, 0x7FFF, -1), np.arange(0, 0x8000)))


def _sorted_at(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at ``ranks`` (sorted, unique) of the sorted ``values``, in key order (NaNs beyond
    the infinities, −0.0 below +0.0).

    Each value falls in the bucket of its float32 rounding's top 16 bits, a monotone function of
    the value; one ``bincount`` of those says which buckets hold the ranks, and only their members are
    sorted (large buckets are counted again, 16 bits of the exact keys at a time)."""
    width = _BITS[values.dtype][2]
    if values.size <= SORT_BELOW:
        return _floats(np.sort(_keys(values))[ranks], values.dtype)
    as32 = values if values.dtype == np.float32 else values.astype(np.float32)
    high = np.ascontiguousarray(as32.view(np.uint16)[_HIGH::2])
    counts = np.bincount(high, minlength=1 << 16)[_VALUE_ORDER]
    ends = np.cumsum(counts)
    which = np.searchsorted(ends, ranks, side="right")
    within = ranks - (ends[which] - counts[which])
    wanted = np.unique(which)
    out = np.empty(ranks.size, dtype=_BITS[values.dtype][1])
    if counts[wanted].sum() <= SORT_BELOW:
        table = np.zeros(1 << 16, dtype=bool)
        table[_VALUE_ORDER[wanted]] = True
        member = table.take(high)
        chosen = np.sort(_keys(values[member]))  # the wanted buckets' members, bucket after bucket
        before = np.cumsum(counts[wanted]) - counts[wanted]
        out[:] = chosen[before[np.searchsorted(wanted, which)] + within]
    else:
        for bucket in wanted:
            at = which == bucket
            out[at] = _select(_keys(values[high == _VALUE_ORDER[bucket]]), within[at], width - 16)
    return _floats(out, values.dtype)


def order_statistics(values: np.ndarray, ranks: Sequence[int] | np.ndarray) -> np.ndarray | None:
    """The values at ``ranks`` (0 ≤ rank < n) of the sorted 1-D float32 or float64 ``values``, in the
    order of ``ranks``; None when that is not a function of the values alone (a NaN among them, or a
    zero at a wanted rank when −0.0 and +0.0 both may sit there)."""
    values = np.ascontiguousarray(values)
    ranks = np.asarray(ranks, dtype=np.intp)
    # The smallest and largest values come along: NaNs sort beyond the infinities, so they show there.
    unique, back = np.unique(np.concatenate((ranks, [0, values.size - 1])), return_inverse=True)
    found = _sorted_at(values, unique)
    if np.isnan(found).any():
        return None
    if (found == 0).any() and np.signbit(values[values == 0]).any():
        return None
    return found[back[: ranks.size]]


def interpolate(a: Any, b: Any, t: Any) -> Any:
    """numpy's linear interpolation of its quantiles (``numpy.lib._function_base_impl._lerp``)."""
    diff_b_a = b - a
    lerp_interpolation = np.add(a, diff_b_a * t, out=...)
    np.subtract(b, diff_b_a * (1 - t), out=lerp_interpolation, where=t >= 0.5, casting="unsafe",
                dtype=type(lerp_interpolation.dtype))
    if lerp_interpolation.ndim == 0:
        lerp_interpolation = lerp_interpolation[()]
    return lerp_interpolation


def linear_ranks(n: int, q: float | Sequence[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The neighbouring ranks and weights ``np.percentile`` (linear method) interpolates between for
    percentiles ``q`` of ``n`` values: (lower rank, upper rank, weight), with numpy's arithmetic; a
    rank of −1 stands for the largest value, as there."""
    quantiles = np.true_divide(q, 100, out=...)
    if not ((quantiles >= 0) & (quantiles <= 1)).all():
        raise ValueError("Percentiles must be in the range [0, 100]")
    virtual = (n - 1) * quantiles
    previous = np.floor(virtual, out=...)
    following = np.add(previous, 1, out=...)
    above = virtual >= n - 1
    previous[above] = -1
    following[above] = -1
    previous_index, following_index = previous.astype(np.intp), following.astype(np.intp)
    gamma = np.asanyarray(virtual - previous_index, dtype=virtual.dtype)
    return previous_index, following_index, gamma


def percentile(values: np.ndarray, q: float | Sequence[float]) -> Any:
    """``np.percentile(values, q)`` (linear method, 1-D float32 or float64 ``values``), bit for bit."""
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype not in _BITS or values.size < SMALL:
        return np.percentile(values, q)
    n = values.size
    previous, following, gamma = linear_ranks(n, q)
    found = order_statistics(values, np.concatenate((previous.ravel(), following.ravel())) % n)
    if found is None:
        return np.percentile(values, q)
    a = found[: previous.size].reshape(previous.shape)
    b = found[previous.size:].reshape(previous.shape)
    if type(q) in (int, float):  # numpy's weak promotion of a Python scalar q: the arithmetic stays in a's dtype
        return interpolate(a[()], b[()], float(gamma))
    return interpolate(a, b, gamma)


def median(values: np.ndarray) -> Any:
    """``np.median(values)`` of a 1-D float32 or float64 array, bit for bit."""
    values = np.asarray(values)
    if values.ndim != 1 or values.dtype not in _BITS or values.size < SMALL:
        return np.median(values)
    half = values.size // 2
    middle = [half] if values.size % 2 else [half - 1, half]
    found = order_statistics(values, middle)
    if found is None:
        return np.median(values)
    return np.mean(found)
