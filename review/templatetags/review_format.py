"""Numbers for people on the review pages: 3–4 significant digits, units, ranges and durations.

Pure functions (also usable from Python); the exact value stays one click away on the page (``<details>``).
A minus sign is U+2212 (−), a range dash U+2013 (–); units follow a non-breaking space.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import template

register = template.Library()

MINUS, DASH, NBSP = "\u2212", "\u2013", "\u00a0"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    else:
        try:
            number = float(str(value))
        except ValueError:
            return None
    return number if math.isfinite(number) else None


@register.filter
def sig(value: Any, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits: 117.74397 → "118", 27.0996 → "27.1", 0.0028165 → "0.00282",
    11702.8 → "11,700", −3.386 → "−3.39". Whole numbers stay whole (48000 → "48,000"). Not a number: as given."""
    number = _number(value)
    if number is None:
        return "" if value is None else str(value)
    digits = max(1, int(digits))
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{abs(value):,}"
    elif number == 0:
        text = "0"
    else:
        magnitude = math.floor(math.log10(abs(number)))
        decimals = digits - 1 - magnitude
        rounded = round(abs(number), decimals)
        if rounded and math.floor(math.log10(rounded)) > magnitude:  # 99.96 → 100.0: one digit fewer after the point
            decimals -= 1
            rounded = round(abs(number), decimals)
        if abs(number) < 1e-4 or abs(number) >= 1e9:
            text = f"{abs(number):.{digits - 1}e}"
        elif decimals > 0:
            text = f"{rounded:,.{decimals}f}"
        else:
            text = f"{int(rounded):,}"
    return (MINUS if number < 0 and text.strip("0.,") else "") + text


@register.filter
def sig4(value: Any) -> str:
    return sig(value, 4)


@register.filter
def unit(text: str, name: str) -> str:
    """Append a unit: ``{{ x|sig|unit:"Hz" }}`` → "27.1 Hz"; nothing for an empty value or unit."""
    return f"{text}{NBSP}{name}" if text and name else text


@register.filter
def span_of(pair: Any, name: str = "") -> str:
    """A range: [26.468, 27.685] with "Hz" → "26.5–27.7 Hz"; a range of one value is that value."""
    try:
        low, high = pair
    except (TypeError, ValueError):
        return sig(pair)
    a, b = sig(low), sig(high)
    return unit(a if a == b else f"{a}{DASH}{b}", name)


@register.filter
def percent_change(measured: Any, claimed: Any) -> str:
    """How far the data are from a claim, relative to the claim: 35.0 against 87.5 → "−60 %"."""
    m, c = _number(measured), _number(claimed)
    if m is None or c is None or c == 0:
        return ""
    change = (m - c) / abs(c) * 100
    text = sig(abs(change), 2) if abs(change) < 10 else f"{round(abs(change)):,}"
    if text == "0":
        return f"0{NBSP}%"
    return f"{MINUS if change < 0 else '+'}{text}{NBSP}%"


@register.filter
def duration(value: Any) -> str:
    """A length of time in its two largest units: 42 s, 42 min, 3 h 5 min, 2 d 4 h (seconds or a timedelta)."""
    seconds = value.total_seconds() if isinstance(value, timedelta) else _number(value)
    if seconds is None:
        return ""
    sign = MINUS if seconds < 0 else ""
    left = round(abs(seconds))
    if left < 60:
        return f"{sign}{left}{NBSP}s"
    minutes, _ = divmod(left, 60)
    if minutes < 60:
        return f"{sign}{minutes}{NBSP}min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours}{NBSP}h" + (f" {minutes}{NBSP}min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{sign}{days}{NBSP}d" + (f" {hours}{NBSP}h" if hours else "")


@register.filter
def exact(value: Any) -> str:
    """The value as stored, for the "exact values" disclosure (repr of floats: every digit that round-trips)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(exact(v) for v in value)
    return "" if value is None else str(value)


@register.filter
def status_label(code: str) -> str:
    """A status code as words: "in_review" → "in review", "needs_analysis" → "needs analysis"."""
    from review.models import Escalation

    return str(dict(Escalation.Status.choices).get(code, str(code or "").replace("_", " ")))


@register.filter
def as_json(value: Any) -> str:
    """JSON for a data attribute (autoescaping makes it safe inside the quoted attribute)."""
    import json

    return json.dumps(value)
