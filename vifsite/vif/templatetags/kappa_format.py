"""`{{ value|kappa }}`: κ with two decimals, or three when the third is not zero (thresholds.kappa_text)."""

from __future__ import annotations

from typing import Any

from django import template

from vifsite.vif.thresholds import kappa_text

register = template.Library()


@register.filter
def kappa(value: Any) -> str:
    return kappa_text(value)
