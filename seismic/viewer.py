"""What the survey page's viewer shows: the section as the section plot draws it (seismic/section_plot.py), and
beside it the base map (the survey's outline in its own coordinates, the live traces, the line shown), the
amplitude histogram and the average amplitude spectrum of the shown section, its statistics in words and the
hashes its provenance rests on.

The numbers are plain functions of numpy arrays (``outline_corners``, ``live_runs``, ``amplitude_histogram``,
``amplitude_spectrum``), so they can be checked against independent computations; ``section_view`` and
``basemap`` put them together from a section or a survey.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypedDict
from urllib.parse import quote

import numpy as np
from django.urls import reverse

from seismic import section_plot, services, stats, vds
from seismic.models import Survey
from vifsite.version import APP_VERSION

KINDS = services.SECTION_KINDS
HISTOGRAM_BINS = 81  # odd: zero amplitude is the middle of a bin
HISTOGRAM_PERCENTILE = 99.9  # the histogram spans ±this percentile of |amplitude|; the rest is counted beside it
SPECTRUM_FLOOR_DB = -120.0
BASEMAP_MAX_CELLS = 200  # live-trace map cells per side at most (thinned by plain slicing, as the section plot)
# The statistics in reading order: (key, label, unit).
STATISTICS: list[tuple[str, str, str]] = [
    ("rms", "RMS amplitude", ""), ("mean", "Mean", ""), ("median", "Median", ""), ("std", "Standard deviation", ""),
    ("min", "Minimum", ""), ("max", "Maximum", ""), ("dominant_frequency_hz", "Dominant frequency", "Hz"),
    ("band_hz", "Band (−6 dB)", "Hz"), ("bandwidth_hz", "Bandwidth", "Hz"),
    ("spectral_centroid_hz", "Spectral centroid", "Hz"), ("zero_crossings", "Zero crossings", "per trace"),
    ("live_traces", "Live traces", ""), ("dead_traces", "Dead traces", ""), ("count", "Samples", ""),
]


class AxisControl(TypedDict):
    kind: str  # inline, crossline, timeslice
    label: str  # "Inline", "Crossline", "Time (ms)"
    plural: str  # "inlines", "crosslines", "times"
    first: float
    last: float
    step: float
    count: int


def _text(value: float) -> str:
    """A survey number as people write it (1015, 4, 0.5), also the form it takes in URLs."""
    return f"{float(value):.12g}"


def _sig(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}".replace("-", "\u2212")


# --- The controls and the page ---------------------------------------------------------------------------

def section_axes(survey: Survey) -> dict[str, AxisControl]:
    """For each kind of section, the survey numbers it can take."""
    sample_label = section_plot.axis_title("sample", domain=survey.domain, unit=survey.sample_unit)
    sample_word = "depths" if survey.domain == Survey.Domain.DEPTH else "times"
    return {kind: {"kind": kind, "label": label, "plural": plural, "first": getattr(survey, f"{prefix}_first"),
                   "last": getattr(survey, f"{prefix}_last"), "step": getattr(survey, f"{prefix}_step"),
                   "count": getattr(survey, f"{prefix}_count")}
            for kind, prefix, label, plural in (("inline", "inline", "Inline", "inlines"),
                                                ("crossline", "crossline", "Crossline", "crosslines"),
                                                ("timeslice", "sample", sample_label, sample_word))}


def middle(axis: AxisControl) -> float:
    return axis["first"] + (axis["count"] - 1) // 2 * axis["step"]


def requested_section(query: Mapping[str, str], survey: Survey) -> tuple[str, str]:
    """The section a URL asks for (``?inline=1015``, ``?crossline=…``, ``?timeslice=…``, or the form's
    ``?section_type=…&section_number=…``): its kind and number as typed; by default the middle inline (the
    middle crossline of a survey that is one crossline)."""
    kind = query.get("section_type", "")
    if kind in KINDS and query.get("section_number", "").strip():
        return kind, query["section_number"].strip()
    for kind in KINDS:
        if query.get(kind, "").strip():
            return kind, query[kind].strip()
    kind = "crossline" if survey.crossline_count == 1 < survey.inline_count else "inline"  # not a lone trace
    return kind, _text(middle(section_axes(survey)[kind]))


def section_urls(survey: Survey) -> dict[str, str]:
    """URL templates the page's script fills with a kind and a number (``KIND`` and ``NUMBER``)."""
    kwargs = {"survey_id": survey.pk, "kind": "KIND", "number": "NUMBER"}
    api = {"survey_id": survey.pk, "section_type": "KIND", "section_number": "NUMBER"}
    return {"data": reverse("seismic:section-plot-data", kwargs=kwargs),
            "png": reverse("api:seismic:section-image", kwargs=api),
            "extract": reverse("api:seismic:section", kwargs=api),
            "witness": reverse("api:vif:witness-detail", kwargs={"vif_id": "VIF_ID"})}


def page_context(survey: Survey, *, kind: str, number: str) -> dict[str, Any]:
    """The page's context; ``config`` is what its script needs (``json_script``): the controls' ranges, URL
    templates, the section the URL asks for and the base map."""
    urls = section_urls(survey)
    axes = section_axes(survey)
    config = {"surveyId": survey.pk, "surveyName": survey.name, "kind": kind, "number": number, "axes": axes,
              "urls": urls, "basemap": basemap(survey)}
    return {"survey": survey, "config": config, "kind": kind, "number": number, "axis": axes[kind],
            "png_url": urls["png"].replace("KIND", kind).replace("NUMBER", quote(number, safe=""))}


# --- The base map ----------------------------------------------------------------------------------------

def outline_corners(transform: Mapping[str, Any] | None, inline: vds.Axis,
                    crossline: vds.Axis) -> list[dict[str, float]]:
    """The corner traces in order (first inline, first crossline), (first, last), (last, last), (last, first),
    with their X and Y (origin + inline × inline spacing + crossline × crossline spacing), or their inline and
    crossline numbers as X and Y when the volume carries no coordinate system."""
    corners = []
    for il, xl in ((inline.first, crossline.first), (inline.first, crossline.last),
                   (inline.last, crossline.last), (inline.last, crossline.first)):
        x, y = world(transform, il, xl)
        corners.append({"inline": il, "crossline": xl, "x": x, "y": y})
    return corners


def world(transform: Mapping[str, Any] | None, inline: float, crossline: float) -> tuple[float, float]:
    if transform is None:
        return float(crossline), float(inline)
    point = (np.asarray(transform["origin"], dtype=np.float64) + inline * np.asarray(transform["inline_spacing"])
             + crossline * np.asarray(transform["crossline_spacing"]))
    return float(point[0]), float(point[1])


def live_runs(live: np.ndarray, inline: vds.Axis, crossline: vds.Axis,
              max_cells: int = BASEMAP_MAX_CELLS) -> dict[str, Any]:
    """The live-trace map, thinned to at most ``max_cells`` per side by plain slicing, as runs of live cells
    along each kept inline: ``[inline, first crossline, last crossline]`` in survey numbers, with the cell size
    (annotation steps after thinning)."""
    step_il = max(1, math.ceil(live.shape[0] / max_cells))
    step_xl = max(1, math.ceil(live.shape[1] / max_cells))
    kept = np.asarray(live, dtype=bool)[::step_il, ::step_xl]
    runs: list[list[float]] = []
    for row, cells in enumerate(kept):
        padded = np.concatenate([[False], cells, [False]])
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        il = inline.value(row * step_il)
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            runs.append([il, crossline.value(int(start) * step_xl), crossline.value((int(stop) - 1) * step_xl)])
    return {"inline_step": inline.step * step_il, "crossline_step": crossline.step * step_xl,
            "decimation": [step_il, step_xl], "runs": runs}


def basemap_payload(survey: Survey, live: np.ndarray | None) -> dict[str, Any]:
    geometry = survey.geometry()
    transform = section_plot.world_transform(survey.coordinate_system)
    notes = []
    if transform is None:
        notes.append("The volume carries no survey coordinate system: the map is drawn in inline and crossline "
                     "numbers.")
    if live is None:
        notes.append("The volume cannot be read now: live traces are not shown.")
    elif not survey.has_trace_channel:
        notes.append("This volume has no Trace channel: every trace is drawn live.")
    runs = live_runs(live, geometry.inline, geometry.crossline) if live is not None else None
    if runs is not None and runs["decimation"] != [1, 1]:
        il_step, xl_step = runs["decimation"]
        notes.append(f"Live traces drawn for {section_plot.every(il_step, 'inline')} and "
                     f"{section_plot.every(xl_step, 'crossline')}.")
    return {
        "transform": transform, "unit": transform["unit"] if transform else "",
        "inline": {"first": geometry.inline.first, "last": geometry.inline.last, "step": geometry.inline.step,
                   "count": geometry.inline.count},
        "crossline": {"first": geometry.crossline.first, "last": geometry.crossline.last,
                      "step": geometry.crossline.step, "count": geometry.crossline.count},
        "corners": outline_corners(transform, geometry.inline, geometry.crossline),
        "live": runs,
        "live_traces": survey.live_traces, "total_traces": survey.total_traces,
        "crs": bool(survey.crs_wkt), "notes": notes,
    }


def basemap(survey: Survey) -> dict[str, Any]:
    geometry = survey.geometry()
    try:
        live = vds.read_trace_mask(survey.vds_url, geometry, (0, 0), (geometry.inline.count,
                                                                      geometry.crossline.count))
    except vds.VolumeError as exc:
        services.volume_unavailable(survey, exc)  # logs why
        live = None
    return basemap_payload(survey, live)


# --- The shown section: histogram, spectrum, statistics, provenance -------------------------------------------

def amplitude_histogram(values: np.ndarray, *, bins: int = HISTOGRAM_BINS,
                        percentile: float = HISTOGRAM_PERCENTILE) -> dict[str, Any] | None:
    """Counts of ``values`` in ``bins`` equal bins over ±(``percentile`` of |value|); those beyond are counted
    as ``below`` and ``above`` (a value exactly at +limit falls in the last bin, as numpy's)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        return None
    limit = float(np.percentile(np.abs(values), percentile))
    if limit <= 0:
        limit = float(np.abs(values).max()) or 1.0
    edges = np.linspace(-limit, limit, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    return {"first": -limit, "width": 2 * limit / bins, "bins": bins, "limit": limit, "percentile": percentile,
            "counts": counts.tolist(), "below": int(np.count_nonzero(values < -limit)),
            "above": int(np.count_nonzero(values > limit)), "total": int(values.size)}


def amplitude_spectrum(traces: np.ndarray, sample_interval_s: float,
                       statistics: Mapping[str, Any]) -> dict[str, Any] | None:
    """The trace-averaged amplitude spectrum of ``traces`` (live traces × samples) in dB below its peak above
    0 Hz (``stats.average_amplitude_spectrum``, as the statistics), with the statistics' −6 dB band."""
    if traces.shape[0] == 0 or statistics.get("band_hz") is None:
        return None
    freqs, amp = stats.average_amplitude_spectrum(traces, sample_interval_s)
    peak = float(amp[1:].max())
    with np.errstate(divide="ignore"):
        db = np.maximum(20 * np.log10(amp / peak), SPECTRUM_FLOOR_DB)
    return {"first_hz": float(freqs[0]), "step_hz": float(freqs[1] - freqs[0]), "db": np.round(db, 3).tolist(),
            "peak_hz": statistics["dominant_frequency_hz"], "band_hz": list(statistics["band_hz"]),
            "level_db": -6.0, "traces": int(traces.shape[0]), "samples": int(traces.shape[1])}


def statistics_rows(statistics: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for key, label, unit in STATISTICS:
        value = statistics.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            shown = "–".join(f"{v:.1f}" for v in value)
        elif key in ("count", "live_traces", "dead_traces"):
            shown = f"{int(value):,}".replace(",", "\u202f")
        else:
            shown = _sig(float(value))
        rows.append({"key": key, "label": label, "value": f"{shown} {unit}".strip(), "exact": value})
    percentiles = statistics.get("percentiles") or {}
    if percentiles.get("p1") is not None:
        rows.append({"key": "percentiles", "label": "Percentiles 1 · 50 · 99", "exact": percentiles,
                     "value": " · ".join(_sig(percentiles[p]) for p in ("p1", "p50", "p99"))})
    return rows


def sample_interval_s(survey: Survey) -> float | None:
    """As ``services.section_statistics``: spectra in Hz for time data in milliseconds only."""
    if survey.domain == Survey.Domain.TIME and survey.sample_unit == "ms" and survey.sample_step > 0:
        return survey.sample_step / 1000.0
    return None


def section_view(section: services.Section, *, clip_percentile: float) -> dict[str, Any]:
    """The section plot's data (compact) and the panels beside it, from one read of the section."""
    payload: dict[str, Any] = dict(section_plot.section_payload(section, clip_percentile=clip_percentile,
                                                                encoding="int16"))
    statistics = services.section_statistics(section)
    live = np.asarray(section.live, dtype=bool)
    values = section.data[live]  # live traces × samples, or the live cells of a timeslice
    interval = sample_interval_s(section.survey)
    survey = section.survey
    payload["panels"] = {
        "statistics": statistics_rows(statistics),
        "notes": statistics.get("notes", []),
        "histogram": amplitude_histogram(values),
        "spectrum": (amplitude_spectrum(values, interval, statistics)
                     if section.vertical and interval else None),
        "provenance": {"survey_id": survey.pk, "survey_data_sha256": survey.data_sha256,
                       "array_sha256": services.array_sha256(section.data), "shape": list(section.data.shape),
                       "openvds_version": vds.openvds_version(), "app_version": APP_VERSION},
    }
    return payload
