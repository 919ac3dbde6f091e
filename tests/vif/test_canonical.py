"""The ledger's canonical bytes: ``signing.canonical`` writes exactly what the rfc8785 library writes (the reference
implementation of RFC 8785), or fails where it fails, on generated JSON values and on the cases where Python's JSON
encoder and RFC 8785 part ways (whole floats, exponents, -0, key order beyond U+FFFF, escapes, big integers)."""

from __future__ import annotations

import enum
import math

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vifsite.vif import signing
from vifsite.vif.models import Witness


def reference(value):
    try:
        return rfc8785.dumps(value)
    except Exception as exc:  # noqa: BLE001  the same failure is expected of both
        return type(exc)


def ours(value):
    try:
        return signing.canonical(value)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


keys = st.text(max_size=6) | st.sampled_from(["a", "b", "\ufb33", "\U0001f600", "\u20ac", "\r", "", "é"])
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
           | st.floats(allow_nan=True, allow_infinity=True) | st.floats(min_value=-1e22, max_value=1e22)
           | st.integers(min_value=-(10**6), max_value=10**6).map(float) | st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5)
                      | st.lists(inner, max_size=3).map(tuple), max_leaves=25)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_generated_values_are_written_as_rfc8785_writes_them(value):
    assert ours(value) == reference(value)


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_float_is_written_as_rfc8785_writes_it(number):
    assert ours(number) == reference(number) and ours([number, {"x": -number}]) == reference([number, {"x": -number}])


class Level(enum.IntEnum):
    HIGH = 3


class Colour(enum.StrEnum):
    RED = "r\u00e9d\n"


class Shouty(str):
    def __str__(self) -> str:
        return self.upper()


@pytest.mark.parametrize("value", [
    1200.0, -0.0, 0.0, 5e-324, 1e-7, 1e-6, 9.99e-5, 1e-4, 0.1, 123.456, 1e15 + 0.5, 1e16,
    2.0**53 - 1, 2.0**53, 2.0**53 + 2, 6.569531453571667e16,
    1e20, 1e21, 1.5e21, -1e21, 1.7976931348623157e308, math.inf, -math.inf, math.nan,
    2**53 - 1, 2**53, -(2**53) + 1, -(2**53), True, False, None, Level.HIGH, Colour.RED, Shouty("quiet"),
    {"k": [Colour.RED, Shouty("\ud800")]}, {Colour.RED: 1},
    {"b": 1, "a": [1.0, 2.5, {"z": None, "y": "\u0000\u001f\"\\\b\f\n\r\t\u007f\u2028"}]},
    {"\ufb33": 1, "\U0001f600": 2, "\u20ac": 3, "a": 4},  # UTF-16 order puts the emoji (a surrogate pair) first
    {"\ud800": 1}, ["\udfff"], {1: "a"}, {"a": {1, 2}}, b"bytes", [[[[]]]], {}, [], "",
    {"tool_parameters": {"section_number": 1200.0, "ranges": {"sample": [800.0, None]}}, "confidence": 0.62},
])
def test_the_cases_where_python_and_rfc8785_part_ways(value):
    assert ours(value) == reference(value)


def test_the_common_payloads_do_not_need_the_library(monkeypatch):
    # The fast path is taken for what witnesses hold (a whole section number among them), not only correct.
    payload = {"vif_id": "5f0c", "operation": Witness.Operation.TOOL,
               "tool_parameters": {"survey_id": 3, "section_number": 1200.0, "ranges": {},
                                   "statistics_cached": True},
               "confidence_micros": 620000, "entropy": 0.6931471805599453, "top_k_probs": None,
               "statistics": {"mean": -0.0123, "rms": 1.25, "percentiles": {"p50": 0.0, "p99": 2.75}}}
    expected = rfc8785.dumps(payload)
    monkeypatch.setattr(rfc8785, "dumps", lambda value: pytest.fail(f"rfc8785 used for {value!r}"))
    assert signing.canonical(payload) == expected


def test_deep_nesting_falls_back_instead_of_failing_differently():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    assert ours(deep) == reference(deep)
