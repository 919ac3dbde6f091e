"""`{% section_plot_plotly %}`: the URL of the plotly.js bundle the section plot uses (see settings)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.templatetags.static import static

register = template.Library()


@register.simple_tag
def section_plot_plotly() -> str:
    return static(settings.VIFSITE_SECTION_PLOTLY_JS)
