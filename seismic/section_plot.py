"""The section plot's data (static/js/section_plot.js): one pure function from a section to a compact JSON shape.

A browser draws at most about a thousand cells across, so sections are thinned by plain slicing to at most
``MAX_CELLS`` per side (the payload says by how much). Amplitudes travel as integers: each value is
``q × scale`` with ``scale = clip / QUANTA``, so within the clip every value is exact to ±0.05 % of the clip
(3 significant digits for the amplitudes the colour scale shows) and larger ones keep the same absolute
precision; dead traces are null. With gzip this is about a quarter of today's rounded-float JSON.

``encoding="int16"`` sends the same integers as little-endian int16 in base64, high bytes first then low bytes
(the high bytes of amplitudes near zero are nearly all 0x00 or 0xFF, so gzip shrinks them well even through
base64); dead cells are ``DEAD`` and, if a value would not fit, ``scale`` grows so that the largest does. A
1000 × 1000 section is then about 2.7 MB before compression instead of 3–4 MB of JSON numbers, as small or
smaller once gzipped (a quarter smaller on a real Penobscot crossline), and the browser decodes it from a string
instead of parsing a million JSON numbers.
The clip (the same percentile of |amplitude| over the live samples as the PNG, `imaging.clip_value`) comes
precomputed, with a table of other percentiles for the page's clip control.
"""

from __future__ import annotations

import base64
import math
from typing import Any, Literal, TypedDict

import numpy as np

from seismic import imaging
from seismic.services import Section

MAX_CELLS = 1000
QUANTA = 1000
PERCENTILE_STEPS = [float(p) for p in np.arange(50.0, 100.0, 0.5)] + [99.9, 100.0]
DEAD = -32768  # int16 encoding: a dead cell
INT16_MAX = 32767
COLOUR_STOPS = 17  # matplotlib's "seismic" is linear between 0, ¼, ½, ¾ and 1: 17 stops reproduce it exactly


class PlotAxis(TypedDict):
    name: str  # inline, crossline or sample
    title: str  # "Crossline", "Time (ms)", "Depth (m)"
    first: float
    step: float  # of the values sent, thinning included
    count: int
    decimation: int  # every n-th value of the section is sent


class SectionPayload(TypedDict):
    title: str
    kind: str
    number: float
    fixed: dict[str, Any]  # the axis the section holds fixed: name, title, value
    x: PlotAxis
    y: PlotAxis  # increases downward: samples on vertical sections, inlines on timeslices (as the PNG)
    z: dict[str, Any]  # rows (len(y)) × cols (len(x)) integers, row-major; amplitude = q × scale; null = dead
    #                    (encoding "int16": base64 "data" as described above, DEAD for dead cells, instead of "q")
    clip: dict[str, Any]  # percentile, value, table {percentile: value}
    colorscale: list[list[Any]]
    notes: list[str]
    windows: list[dict[str, Any]]
    anomalies: list[dict[str, Any]]
    world: dict[str, Any] | None  # the survey's coordinate system (origin, inline and crossline spacing, unit)


def axis_title(name: str, *, domain: str, unit: str) -> str:
    if name == "sample":
        return f"{'Depth' if domain == 'depth' else 'Time'} ({unit})" if unit else name.capitalize()
    return name.capitalize()


def colorscale(cmap: str = "seismic") -> list[list[Any]]:
    """The PNG's colour map (`imaging.colormap_lut`) as plotly stops."""
    lut = imaging.colormap_lut(cmap).astype(np.float64)
    grid = np.linspace(0.0, 1.0, len(lut))  # the PNG's index i stands for position i / 255
    stops = []
    for i in range(COLOUR_STOPS):
        position = i / (COLOUR_STOPS - 1)
        r, g, b = (round(float(np.interp(position, grid, lut[:, channel]))) for channel in range(3))
        stops.append([round(position, 4), f"rgb({r},{g},{b})"])
    return stops


def section_payload(section: Section, *, clip_percentile: float, windows: list[dict[str, Any]] | None = None,
                    anomalies: list[dict[str, Any]] | None = None, max_cells: int = MAX_CELLS,
                    encoding: Literal["json", "int16"] = "json") -> SectionPayload:
    """Plot data of ``section``: image rows are the vertical axis (samples, or inlines on a timeslice)."""
    survey = section.survey
    first, second = section.axes
    live = np.broadcast_to(section.live[:, None] if section.vertical else section.live, section.data.shape)
    data = np.asarray(section.data, dtype=np.float32)
    # Rows run down the screen: samples for inlines and crosslines, inlines for timeslices (as the PNG).
    if section.vertical:
        image, image_live, x_axis, y_axis = data.T, live.T, first, second
    else:
        image, image_live, x_axis, y_axis = data, live, second, first
    live_values = np.abs(data[live])
    clip = imaging.clip_value(data[live], clip_percentile)
    table = dict(zip(PERCENTILE_STEPS, np.percentile(live_values, PERCENTILE_STEPS).tolist()
                     if live_values.size else [1.0] * len(PERCENTILE_STEPS), strict=True))
    step_y = max(1, math.ceil(image.shape[0] / max_cells))
    step_x = max(1, math.ceil(image.shape[1] / max_cells))
    shown = image[::step_y, ::step_x]
    shown_live = image_live[::step_y, ::step_x]
    z = (_int16_cells if encoding == "int16" else _json_cells)(shown, shown_live, clip / QUANTA)
    notes = list(section.notes)
    if step_x > 1 or step_y > 1:
        notes.append(f"Thinned for display: {every(step_x, x_axis.name)} and {every(step_y, y_axis.name)} "
                     f"of {image.shape[1]} × {image.shape[0]}; statistics and the clip use them all.")
    fixed_axis = {"inline": "inline", "crossline": "crossline", "timeslice": "sample"}[section.kind]
    sample_unit = survey.sample_unit

    def plot_axis(axis: Any, step: int) -> PlotAxis:
        return {"name": axis.name, "title": axis_title(axis.name, domain=survey.domain, unit=sample_unit),
                "first": axis.first, "step": axis.step * step, "count": math.ceil(axis.count / step),
                "decimation": step}

    return {
        "title": f"{survey.name} · {section.kind} {section.number:g}",
        "kind": section.kind, "number": section.number,
        "fixed": {"name": fixed_axis, "value": section.number,
                  "title": axis_title(fixed_axis, domain=survey.domain, unit=sample_unit)},
        "x": plot_axis(x_axis, step_x), "y": plot_axis(y_axis, step_y),
        "z": z,
        "clip": {"percentile": clip_percentile, "value": clip, "table": {f"{k:g}": v for k, v in table.items()}},
        "colorscale": colorscale(),
        "notes": notes, "windows": windows or [], "anomalies": anomalies or [],
        "world": world_transform(getattr(survey, "coordinate_system", None)),
    }


def world_transform(system: Any) -> dict[str, Any] | None:
    """The survey coordinate system OpenVDS carries, when complete: X, Y = origin + inline × inline_spacing +
    crossline × crossline_spacing (inline and crossline in survey annotation)."""
    if not isinstance(system, dict) or not all(
            isinstance(system.get(key), list) and len(system[key]) == 2 for key in ("origin", "inlineSpacing",
                                                                                  "crosslineSpacing")):
        return None
    origin, inline, crossline = (np.asarray(system[k], dtype=np.float64) for k in ("origin", "inlineSpacing",
                                                                                 "crosslineSpacing"))
    if not np.isfinite([origin, inline, crossline]).all() or abs(np.linalg.det(np.c_[inline, crossline])) < 1e-12:
        return None
    return {"origin": origin.tolist(), "inline_spacing": inline.tolist(), "crossline_spacing": crossline.tolist(),
            "unit": str(system.get("unit") or "")}


def _json_cells(shown: np.ndarray, live: np.ndarray, scale: float) -> dict[str, Any]:
    quantised = np.rint(shown.astype(np.float64) / scale).astype(np.int64)
    cells: list[int | None] = list(quantised.ravel().tolist())
    if not live.all():
        for index in np.flatnonzero(~live.ravel()).tolist():
            cells[index] = None
    return {"rows": shown.shape[0], "cols": shown.shape[1], "scale": scale, "q": cells}


def _int16_cells(shown: np.ndarray, live: np.ndarray, scale: float) -> dict[str, Any]:
    values = shown.astype(np.float64)
    largest = float(np.abs(values[live]).max()) if live.any() else 0.0
    if largest / scale > INT16_MAX - 0.5:
        scale = largest / (INT16_MAX - 1)  # a few huge values: coarser steps rather than wrapped integers
    quantised = np.where(live, np.rint(values / scale), DEAD).astype("<i2")
    pairs = quantised.ravel().view(np.uint8).reshape(-1, 2)  # little-endian: [low, high]
    planes = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return {"rows": shown.shape[0], "cols": shown.shape[1], "scale": scale, "encoding": "int16", "dead": DEAD,
            "data": base64.b64encode(planes.tobytes()).decode("ascii")}


def decode_cells(z: dict[str, Any]) -> np.ndarray:
    """The amplitudes a payload's ``z`` carries (either encoding), rows × cols, NaN where dead: what the
    browser draws."""
    if z.get("encoding") == "int16":
        planes = np.frombuffer(base64.b64decode(z["data"]), dtype=np.uint8).reshape(2, -1)
        quantised = (planes[0].astype(np.uint16) << 8 | planes[1]).view("<i2")
        values = np.where(quantised == z["dead"], np.nan, quantised * z["scale"])
    else:
        values = np.array([np.nan if q is None else q for q in z["q"]], dtype=np.float64) * z["scale"]
    return np.asarray(values, dtype=np.float64).reshape(z["rows"], z["cols"])


def every(n: int, name: str) -> str:
    """"every crossline", "every 2nd sample", "every 21st inline"."""
    if n == 1:
        return f"every {name}"
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"every {n}{suffix} {name}"
