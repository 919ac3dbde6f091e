"""Percentiles and medians by selection are numpy's, bit for bit; and so are the statistics built on them."""

from __future__ import annotations

import numpy as np
import pytest

from seismic import quantiles, stats

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)


def same(got, expected) -> bool:
    """The same value or array: type, dtype, shape and every bit (a NaN equals a NaN, −0.0 differs from 0.0)."""
    got, expected = np.asarray(got), np.asarray(expected)
    return (got.dtype, got.shape) == (expected.dtype, expected.shape) and got.tobytes() == expected.tobytes()


def samples(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "normal":
        return rng.normal(3.0, 200.0, n)
    if kind == "ties":  # a handful of integer values, as 8- or 16-bit data gives
        return rng.integers(-6, 7, n).astype(np.float64)
    if kind == "constant":
        return np.full(n, -2.75)
    if kind == "narrow":  # one float32 bucket of the first count: the large-bucket path
        return 1000.0 + rng.random(n) * 1e-3
    if kind == "wide":
        return rng.lognormal(0.0, 6.0, n) * rng.choice([-1.0, 1.0], n)
    if kind == "zeros":  # mostly +0.0 with signal
        return np.where(rng.random(n) < 0.7, 0.0, rng.normal(size=n))
    if kind == "infinite":
        values = rng.normal(size=n)
        values[rng.integers(0, n, 5)] = np.inf
        values[rng.integers(0, n, 5)] = -np.inf
        return values
    raise ValueError(kind)


KINDS = ["normal", "ties", "constant", "narrow", "wide", "zeros", "infinite"]
SIZES = [quantiles.SMALL, quantiles.SMALL + 1, 40_001, 250_000]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf − inf, in numpy too
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", KINDS)
def test_percentiles_and_medians_are_numpys_bit_for_bit(kind, dtype):
    rng = np.random.default_rng(KINDS.index(kind))
    for n in SIZES:
        values = samples(kind, n, rng).astype(dtype)
        for q in (PERCENTILES, list(PERCENTILES), 99.0, 50, 0, 100, 37.5, np.array([2.5, 97.5])):
            assert same(quantiles.percentile(values, q), np.percentile(values, q)), (n, q)
        assert same(quantiles.median(values), np.median(values)), n
        # Python scalars keep numpy's weak promotion: a float32 array's percentile stays float32.
        assert type(quantiles.percentile(values, 99.0)) is type(np.percentile(values, 99.0))


def test_order_statistics_are_the_sorted_values_for_every_size_and_rank():
    rng = np.random.default_rng(1)
    for n in [1, 2, 3, 7, 64, 1000, 70_000]:
        for values in (rng.normal(size=n), rng.integers(-2, 3, n).astype(np.float64)):
            for dtype in (np.float32, np.float64):
                data = values.astype(dtype)
                ranks = rng.integers(0, n, 25)
                assert same(quantiles.order_statistics(data, ranks), np.sort(data)[ranks])


def test_a_single_value_and_two_values():
    for values in (np.array([3.25]), np.array([-1.0, 1.0]), np.array([2.0, 2.0])):
        for dtype in (np.float32, np.float64):
            data = values.astype(dtype)
            assert same(quantiles.order_statistics(data, [0, len(data) - 1]), np.sort(data)[[0, -1]])
            assert same(quantiles.percentile(data, PERCENTILES), np.percentile(data, PERCENTILES))
            assert same(quantiles.median(data), np.median(data))


def test_what_is_not_a_function_of_the_values_is_left_to_numpy():
    rng = np.random.default_rng(2)
    with_nan = rng.normal(size=20_000)
    with_nan[123] = np.nan
    assert quantiles.order_statistics(with_nan, [0, 10_000]) is None
    assert same(quantiles.percentile(with_nan, PERCENTILES), np.percentile(with_nan, PERCENTILES))
    assert same(quantiles.median(with_nan), np.median(with_nan))
    signed = np.where(rng.random(20_000) < 0.5, 0.0, -0.0)  # only zeros, of both signs
    signed[:100] = 1.0
    assert quantiles.order_statistics(signed, [10_000]) is None
    for dtype in (np.float32, np.float64):
        data = signed.astype(dtype)
        assert same(quantiles.percentile(data, PERCENTILES), np.percentile(data, PERCENTILES))
        assert same(quantiles.median(data), np.median(data))
    # −0.0 away from the wanted ranks does not matter.
    mostly = rng.normal(size=20_000)
    mostly[:3] = -0.0
    assert quantiles.order_statistics(mostly, [100, 19_000]) is not None
    assert same(quantiles.percentile(mostly, PERCENTILES), np.percentile(mostly, PERCENTILES))


def test_other_layouts_and_types_are_numpys_too():
    rng = np.random.default_rng(3)
    data = rng.normal(size=(300, 200)).astype(np.float32)
    strided = data[:, ::2].reshape(-1)  # a copy, but from a strided view
    assert same(quantiles.percentile(data[:, ::2].ravel(), PERCENTILES), np.percentile(strided, PERCENTILES))
    big_endian = data.reshape(-1).astype(">f4")
    assert same(quantiles.percentile(big_endian, PERCENTILES), np.percentile(big_endian, PERCENTILES))
    integers = rng.integers(0, 100, 10_000)
    assert same(quantiles.percentile(integers, PERCENTILES), np.percentile(integers, PERCENTILES))
    with pytest.raises(ValueError):
        quantiles.percentile(data.reshape(-1), 101)


def _reference_amplitude_statistics(values: np.ndarray):
    """The statistics as they were computed before: numpy on a float64 copy."""
    flat = values.reshape(-1).astype(np.float64)
    return (float(flat.min()), float(flat.max()), np.percentile(flat, PERCENTILES), float(flat.mean()),
            float(flat.std()), float(np.sqrt(np.mean(flat * flat))))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf − inf, in both
@pytest.mark.parametrize("kind", KINDS)
def test_the_amplitude_statistics_are_those_of_numpy_on_a_float64_copy(kind):
    rng = np.random.default_rng(10 + KINDS.index(kind))
    for shape in [(1, 1), (1, 2), (3, 5), (64, 64), (64, 65), (401, 499)]:
        values = samples(kind, shape[0] * shape[1], rng).reshape(shape).astype(np.float32)
        got = stats._amplitude_statistics(values)
        expected = _reference_amplitude_statistics(values)
        for a, b in zip(got, expected, strict=True):
            assert same(a, b), (shape, a, b)


def test_statistics_with_signed_zeros_and_nan_are_numpys():
    rng = np.random.default_rng(20)
    signed = np.where(rng.random((100, 100)) < 0.5, 0.0, -0.0).astype(np.float32)
    signed[:3] = 1.0
    with_nan = rng.normal(size=(100, 100)).astype(np.float32)
    with_nan[5, 5] = np.nan
    for values in (signed, with_nan):
        for a, b in zip(stats._amplitude_statistics(values), _reference_amplitude_statistics(values), strict=True):
            assert same(a, b)


def test_the_statistics_leave_the_section_as_it_was():
    rng = np.random.default_rng(30)
    for section, live, vertical in ((rng.normal(size=(300, 400)).astype(np.float32), np.ones(300, bool), True),
                                    (rng.normal(size=(200, 150)).astype(np.float32), np.ones((200, 150), bool), False)):
        before = section.copy()
        first = stats.section_statistics(section, live, vertical=vertical, sample_interval_s=0.004)
        assert section.tobytes() == before.tobytes()
        assert stats.section_statistics(section, live, vertical=vertical, sample_interval_s=0.004) == first
