"""The anti-hallucination tools as services: each reads the data, calls a numerical core
(``claims``, ``detection``, ``verification``), and witnesses the call in the ledger with its exact
parameters and the hash of its result. Every tool is a pure function of its parameters and the
survey, so the same function replays it (``replay.register`` in apps.py).

Where a method was improved, the witness names the one it used, so an older witness replays with the
method it was made by. Every tool whose answer rests on the anomaly detector on a vertical section records
``background`` (``detection.BACKGROUNDS``: ``"dip_steered"`` now); every one that can check a flat spot
records ``flat_spot_method`` (``verification.FLAT_SPOT_METHODS``: 2 now); every one that can run the detector
on a timeslice records ``envelope`` (``detection.ENVELOPES``: ``"fir"`` now). A witness that names none was
recorded before there was a choice and replays with ``"lateral"``, method 1 and ``"fft"`` (``_methods``):
detect_amplitude_anomalies (background, envelope), verify_feature_hypothesis (background for a bright spot or
a flat spot, flat_spot_method for a flat spot), audit_interpretation and validate_structured_analysis (all
three)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import ndimage

from seismic import analysis, claims, detection, vds, verification
from seismic import audit as audit_rules
from seismic.models import Survey
from seismic.services import FIXED_AXIS, SECTION_AXES, Section, _sub_axis, section_read, survey_get, volume_unavailable
from vifsite.errors import InputError
from vifsite.version import APP_VERSION
from vifsite.vif import replay, signing
from vifsite.vif import services as vif_services

Ranges = Mapping[str, tuple[float | None, float | None]]
MAX_PAGE = 50
TIMESLICE_TOLERANCE = 6  # a timeslice's amplitude is the strongest envelope within this many samples of it


def _finite(value: Any) -> Any:
    """JSON-safe numbers: NaN and infinities become None (the ledger refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return _finite(value.item())
    return value


def _ranges_param(ranges: Ranges | None) -> dict[str, list[float | None]]:
    return {axis: [lo, hi] for axis, (lo, hi) in sorted((ranges or {}).items()) if (lo, hi) != (None, None)}


def _ranges_from(param: Mapping[str, list[float | None]] | None) -> dict[str, tuple[float | None, float | None]]:
    return {axis: (bounds[0], bounds[1]) for axis, bounds in (param or {}).items()}


def _methods(p: Mapping[str, Any]) -> tuple[str, int, str]:
    """The anomaly background, the flat-spot method and the timeslice envelope a witness's parameters name:
    those it was computed with. One that names none was recorded before there was a choice, and was computed
    with the first."""
    return (p.get("background", detection.UNNAMED_BACKGROUND),
            p.get("flat_spot_method", verification.UNNAMED_FLAT_SPOT_METHOD),
            p.get("envelope", detection.UNNAMED_ENVELOPE))


# What a new witness names (see the module's docstring).
CURRENT_METHODS: dict[str, Any] = {"background": detection.DEFAULT_BACKGROUND,
                                   "flat_spot_method": verification.FLAT_SPOT_METHOD,
                                   "envelope": detection.ENVELOPE}


def _result_hash(result: Mapping[str, Any]) -> str:
    return signing.sha256_hex(signing.canonical(result))


def run(tool_id: str, parameters: dict[str, Any], *, principal: str) -> dict[str, Any]:
    """Compute a tool, witness it, and return its result with provenance."""
    started = time.perf_counter()
    survey = survey_get(survey_id=parameters["survey_id"])
    parameters = {**parameters, "survey_data_sha256": survey.data_sha256, "app_version": APP_VERSION}
    result = _finite(COMPUTE[tool_id](survey, parameters))
    witness = vif_services.witness_record_tool(
        tool_id=tool_id, parameters=parameters, result_hash=_result_hash(result), writer=principal,
        execution_time_ms=(time.perf_counter() - started) * 1000.0)
    return {**result, "provenance": {"vif_id": str(witness.vif_id), "tool": tool_id, "survey_id": survey.pk,
                                     "survey_data_sha256": survey.data_sha256, "parameters": parameters,
                                     "app_version": APP_VERSION, "openvds_version": vds.openvds_version()}}


def _replayer(tool_id: str) -> replay.Replayer:
    def replay_tool(parameters: Mapping[str, Any]) -> replay.ToolReplay:
        survey = survey_get(survey_id=parameters["survey_id"])
        result = _finite(COMPUTE[tool_id](survey, dict(parameters)))
        return replay.ToolReplay(result_hash=_result_hash(result),
                                 inputs={"survey_data_sha256": survey.data_sha256, "app_version": APP_VERSION})

    return replay_tool


def register_replayers() -> None:
    for tool_id in COMPUTE:
        replay.register(tool_id, _replayer(tool_id))


# --- Reading ----------------------------------------------------------------------------------------

def _annotation(section: Section, first: float, second: float) -> dict[str, float]:
    """Survey annotation of fractional indices along a section's two axes, plus its fixed axis."""
    a, b = section.axes
    point = {a.name: a.first + first * a.step, b.name: b.first + second * b.step}
    point[FIXED_AXIS[section.kind]] = section.number
    return {name: round(point[name], 6) for name in ("inline", "crossline", "sample")}


def _window_mask(section: Section, window: Ranges) -> np.ndarray:
    """Boolean mask of the section's samples inside ``window`` (annotation ranges of its two axes)."""
    fixed = FIXED_AXIS[section.kind]
    if fixed in window and window[fixed] != (None, None):
        raise InputError(f"A {section.kind} fixes the {fixed}; give the window on "
                         f"{' and '.join(SECTION_AXES[section.kind])}.")
    unknown = set(window) - set(SECTION_AXES[section.kind]) - {fixed}
    if unknown:
        raise InputError(f"Unknown window axis {', '.join(sorted(unknown))}.")
    mask = np.ones(section.data.shape, dtype=bool)
    for position, axis in enumerate(section.axes):
        lo, hi = window.get(axis.name, (None, None))
        i0, i1 = _sub_axis(axis, lo, hi)
        keep = np.zeros(axis.count, dtype=bool)
        keep[i0:i1 + 1] = True
        mask &= keep[:, None] if position == 0 else keep[None, :]
    return mask


def _live_samples(section: Section) -> np.ndarray:
    return np.broadcast_to(section.live[:, None], section.data.shape) if section.vertical else section.live


def _slab(survey: Survey, sample_index: int, half: int, origin: tuple[int, int] = (0, 0),
          shape: tuple[int, int] | None = None) -> tuple[np.ndarray, int]:
    """Amplitudes within ±``half`` samples of a timeslice, and its index in them: over the (inline,
    crossline) index box of ``shape`` from ``origin``, the whole survey by default."""
    geometry = survey.geometry()
    lo = max(0, sample_index - half)
    hi = min(geometry.sample.count, sample_index + half + 1)
    count = shape or (geometry.inline.count - origin[0], geometry.crossline.count - origin[1])
    try:
        slab = vds.read_subset(survey.vds_url, geometry, (origin[0], origin[1], lo),
                               (origin[0] + count[0], origin[1] + count[1], hi))
    except vds.VolumeError as exc:
        raise volume_unavailable(survey, exc) from exc
    return slab, sample_index - lo


# --- validate_amplitude_claim -------------------------------------------------------------------

def _claim(survey: Survey, p: Mapping[str, Any]) -> dict[str, Any]:
    section = section_read(survey=survey, kind=p["section_type"], number=p["section_number"])
    inside = _window_mask(section, _ranges_from(p["window"]))
    live = _live_samples(section)
    try:
        outcome = claims.check_claim(section.data[inside & live], section.data[~inside & live],
                                     claim_type=p["claim_type"], statistic=p.get("statistic"), value=p.get("value"),
                                     threshold=p.get("threshold"), tolerance=p["tolerance"])
    except ValueError as exc:
        raise InputError(str(exc)) from None
    outcome["evidence"]["window"] = {name: list(bounds) for name, bounds in p["window"].items()}
    outcome["evidence"]["notes"] = section.notes
    return {"claim_type": p["claim_type"], "description": p.get("description", ""), **outcome}


def claim_validate(*, survey_id: int, section_type: str, section_number: float, window: Ranges, claim_type: str,
                   statistic: str | None = None, value: float | None = None, threshold: float | None = None,
                   tolerance: float = 0.05, description: str = "", principal: str) -> dict[str, Any]:
    if claim_type not in claims.CLAIM_TYPES:
        raise InputError(f"claim_type must be one of {', '.join(claims.CLAIM_TYPES)}, not {claim_type!r}.")
    if claim_type == "amplitude_statistic" and (statistic not in claims.STATISTICS or value is None):
        raise InputError(f"An amplitude_statistic claim needs statistic (one of {', '.join(claims.STATISTICS)}) "
                         "and value.")
    if not window:
        raise InputError("Give the claimed window: the ranges on the section's two axes (e.g. crossline and sample "
                         "for an inline).")
    if not 0 < tolerance < 1:
        raise InputError("tolerance is a fraction between 0 and 1 (0.05 for ±5 %).")
    return run("validate_amplitude_claim", {
        "survey_id": survey_id, "section_type": section_type, "section_number": section_number,
        "window": _ranges_param(window), "claim_type": claim_type, "statistic": statistic, "value": value,
        "threshold": threshold, "tolerance": tolerance, "description": description}, principal=principal)


# --- detect_amplitude_anomalies -----------------------------------------------------------------

def _timeslice_amplitude(survey: Survey, section: Section,
                         envelope: str = detection.UNNAMED_ENVELOPE) -> np.ndarray:
    """The amplitude the anomaly detector takes on a timeslice: the envelope within ±6 samples of it, by the
    envelope method ``envelope`` (``detection.ENVELOPES``)."""
    geometry = survey.geometry()
    index = geometry.sample.index_of(section.number)
    if index is None:  # section_read accepted it, so it is on the grid
        raise InputError(f"Timeslice {section.number:g} is not on the survey's sample grid.")
    # Only the section's own traces: the envelope runs along each trace alone.
    origin = (geometry.inline.index_of(section.axes[0].first), geometry.crossline.index_of(section.axes[1].first))
    if origin[0] is None or origin[1] is None:  # section_read cut the section on the grid
        raise InputError(f"Timeslice {section.number:g} is not on the survey's trace grid.")
    rows, columns = section.data.shape
    slab, centre = _slab(survey, index, detection.slab_half(envelope, TIMESLICE_TOLERANCE), (origin[0], origin[1]),
                         (rows, columns))
    return detection.timeslice_envelope(slab, centre, TIMESLICE_TOLERANCE, envelope=envelope)


def section_anomalies(survey: Survey, section: Section) -> list[detection.Cluster]:
    """A section's anomalies as detect_amplitude_anomalies finds them with its defaults (the dip-steered
    background; the envelope within ±6 samples of a timeslice, by the current method), for display, not
    witnessed: the reviewer's section plot shows what the tool reports."""
    amplitude = None if section.vertical else _timeslice_amplitude(survey, section, detection.ENVELOPE)
    clusters, _ = detection.detect(section.data, section.live, vertical=section.vertical, amplitude=amplitude,
                                   background=detection.DEFAULT_BACKGROUND)
    return clusters


def _anomalies(survey: Survey, p: Mapping[str, Any]) -> dict[str, Any]:
    section = section_read(survey=survey, kind=p["section_type"], number=p["section_number"],
                           ranges=_ranges_from(p["ranges"]))
    amplitude = None
    notes = list(section.notes)
    # A witness recorded before the tool named its methods was made by the lateral background and, on a
    # timeslice, the FFT envelope, and replays with them.
    background, _, envelope = _methods(p)
    if not section.vertical:
        amplitude = _timeslice_amplitude(survey, section, envelope)
        notes.append("On a timeslice the amplitude is the envelope within ±6 samples of the slice; a slice cuts "
                     "dipping reflectors obliquely, so confirm an anomaly on an inline and a crossline.")
    clusters, info = detection.detect(section.data, section.live, vertical=section.vertical,
                                      threshold_std=p["threshold_std"], min_cluster_size=p["min_cluster_size"],
                                      method=p["method"], amplitude=amplitude, background=background)
    if not section.vertical and envelope != detection.UNNAMED_ENVELOPE:
        info["envelope"] = envelope  # the FFT envelope's answers stay as they were recorded, without this key
    a, b = section.axes
    fixed = FIXED_AXIS[section.kind]
    anomalies = []
    for rank, cluster in enumerate(clusters, start=1):
        ranges = {a.name: [a.value(cluster.first[0]), a.value(cluster.first[1])],
                  b.name: [b.value(cluster.second[0]), b.value(cluster.second[1])],
                  fixed: [section.number, section.number]}
        anomalies.append({
            "rank": rank, "inline_range": ranges["inline"], "crossline_range": ranges["crossline"],
            "sample_range": ranges["sample"], "centroid": _annotation(section, *cluster.centroid),
            "peak_amplitude": cluster.peak_amplitude, "mean_amplitude": cluster.mean_amplitude, "area": cluster.area,
            "strength": round(cluster.strength, 4), "background_ratio": round(cluster.ratio, 4),
        })
    offset, limit = p["offset"], p["limit"]
    return {"section_type": section.kind, "section_number": section.number, "total": len(anomalies),
            "offset": offset, "limit": limit,
            "next_offset": offset + limit if offset + limit < len(anomalies) else None,
            "anomalies": anomalies[offset:offset + limit], "detection": info, "notes": notes}


def anomalies_detect(*, survey_id: int, section_type: str, section_number: float, ranges: Ranges | None = None,
                     threshold_std: float = detection.DEFAULT_THRESHOLD,
                     min_cluster_size: int = detection.DEFAULT_MIN_CLUSTER, method: str = "mad", offset: int = 0,
                     limit: int = MAX_PAGE, background: str = detection.DEFAULT_BACKGROUND,
                     principal: str) -> dict[str, Any]:
    if method not in ("mad", "std"):
        raise InputError("method must be 'mad' (median/MAD, the default) or 'std' (mean/standard deviation).")
    if background not in detection.BACKGROUNDS:
        raise InputError("background must be 'dip_steered' (along the local dip, the default) or 'lateral' "
                         "(across the traces, as before there was a choice).")
    if not 0 < threshold_std <= 100 or not 1 <= min_cluster_size <= 1_000_000:
        raise InputError("threshold_std must lie in (0, 100] and min_cluster_size in [1, 1000000].")
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise InputError(f"offset must be ≥ 0 and limit between 1 and {MAX_PAGE}.")
    return run("detect_amplitude_anomalies", {
        "survey_id": survey_id, "section_type": section_type, "section_number": section_number,
        "ranges": _ranges_param(ranges), "threshold_std": threshold_std, "min_cluster_size": min_cluster_size,
        "method": method, "offset": offset, "limit": limit, "background": background,
        "envelope": CURRENT_METHODS["envelope"]}, principal=principal)


# --- verify_feature_hypothesis ------------------------------------------------------------------

HALF_TRACES, HALF_SAMPLES = 10, 25
# The methods each feature's check uses, which its witness names: a bright spot's and a flat spot's anomaly
# steps run the detector on the inline and crossline; a fault's or a channel's witness names none.
HYPOTHESIS_METHODS: dict[str, tuple[str, ...]] = {"bright_spot": ("background",),
                                                  "flat_spot": ("background", "flat_spot_method")}


def _hypothesis(survey: Survey, p: Mapping[str, Any], reads: dict[Any, Any] | None = None) -> dict[str, Any]:
    """Verify one feature hypothesis. ``reads`` keeps what was read for the next call at the same
    trace (the feature checker of an audit tries a trace at every tenth sample): the full sections and
    the trace mask do not depend on the sample."""
    reads = {} if reads is None else reads

    def read(key: tuple[Any, ...], how: Callable[[], Any]) -> Any:
        if key not in reads:
            reads[key] = how()
        return reads[key]

    geometry = survey.geometry()
    at = []
    for axis, name in ((geometry.inline, "inline"), (geometry.crossline, "crossline"), (geometry.sample, "sample")):
        index = axis.index_of(p[name])
        if index is None:
            raise InputError(f"{name} {p[name]:g} is not in this survey: valid values are {axis.describe()}.",
                             valid_range=[axis.first, axis.last], step=axis.step)
        at.append(index)
    i, x, s = at
    lo = (max(0, i - HALF_TRACES), max(0, x - HALF_TRACES), max(0, s - HALF_SAMPLES))
    hi = (min(geometry.inline.count, i + HALF_TRACES + 1), min(geometry.crossline.count, x + HALF_TRACES + 1),
          min(geometry.sample.count, s + HALF_SAMPLES + 1))
    try:
        cube = vds.read_subset(survey.vds_url, geometry, lo, hi)
        live = read(("mask", lo[:2], hi[:2]), lambda: vds.read_trace_mask(survey.vds_url, geometry, lo[:2], hi[:2]))
    except vds.VolumeError as exc:
        raise volume_unavailable(survey, exc) from exc
    inline_section = read(("inline", p["inline"]), lambda: section_read(
        survey=survey, kind="inline", number=p["inline"])) if geometry.dimensionality == 3 else None
    crossline_section = read(("crossline", p["crossline"]), lambda: section_read(
        survey=survey, kind="crossline", number=p["crossline"]))
    # A witness recorded before the tool named its methods was made by the lateral background and flat-spot
    # method 1, and replays with them; so do the audit's feature checks in an audit witness that names none.
    background, flat_spot_method, _ = _methods(p)
    result = verification.verify(
        cube, live, (i - lo[0], x - lo[1], s - lo[2]), feature=p["feature_type"],
        inline_section=inline_section.data if inline_section else None,
        inline_live=inline_section.live if inline_section else None,
        crossline_section=crossline_section.data, crossline_live=crossline_section.live, full_at=(i, x, s),
        flat_spot_method=flat_spot_method, background=background)
    # The anomaly steps ran on full sections: their indices are the survey's.
    return {"feature_type": p["feature_type"], "location": {"inline": p["inline"], "crossline": p["crossline"],
                                                            "sample": p["sample"]},
            "characteristics": p.get("characteristics") or {}, "score": result["score"], "verified": result["verified"],
            "threshold": result["threshold"], "steps": result["steps"],
            "window": {"inline": [geometry.inline.value(lo[0]), geometry.inline.value(hi[0] - 1)],
                       "crossline": [geometry.crossline.value(lo[1]), geometry.crossline.value(hi[1] - 1)],
                       "sample": [geometry.sample.value(lo[2]), geometry.sample.value(hi[2] - 1)]}}


def hypothesis_verify(*, survey_id: int, feature_type: str, inline: float, crossline: float, sample: float,
                      characteristics: Mapping[str, Any] | None = None, principal: str) -> dict[str, Any]:
    if feature_type not in verification.FEATURES:
        raise InputError(f"feature_type must be one of {', '.join(verification.FEATURES)}, not {feature_type!r}.")
    survey = survey_get(survey_id=survey_id)
    if survey.dimensionality != 3:
        raise InputError("Feature hypotheses need a 3D survey (inline, crossline and timeslice views).")
    return run("verify_feature_hypothesis", {
        "survey_id": survey_id, "feature_type": feature_type, "inline": inline, "crossline": crossline,
        "sample": sample, "characteristics": dict(characteristics or {}),
        **{name: CURRENT_METHODS[name] for name in HYPOTHESIS_METHODS.get(feature_type, ())}}, principal=principal)


# --- compare_to_reference -----------------------------------------------------------------------

def _masked(section: Section) -> np.ndarray:
    return np.where(_live_samples(section), section.data.astype(np.float64), np.nan)


def _compare(survey: Survey, p: Mapping[str, Any]) -> dict[str, Any]:
    target = section_read(survey=survey, kind=p["section_type"], number=p["section_number"],
                          ranges=_ranges_from(p["ranges"]))
    reference_survey = survey if p["reference_survey_id"] == survey.pk else survey_get(
        survey_id=p["reference_survey_id"])
    reference = section_read(survey=reference_survey, kind=p["reference_section_type"],
                             number=p["reference_section_number"], ranges=_ranges_from(p["reference_ranges"]))
    warnings = []
    cross_survey = reference_survey.pk != survey.pk
    if cross_survey:
        warnings.append("The sections come from different surveys: raw amplitudes are not comparable (acquisition, "
                        "processing and scaling differ), so both are normalised to zero mean and unit variance "
                        "before correlating, and the RMS ratio is given for information only.")
    if target.vertical != reference.vertical:
        raise InputError("Compare a vertical section with a vertical section, or a timeslice with a timeslice.")
    t, r = _masked(target), _masked(reference)
    if r.shape != t.shape:
        factors = (t.shape[0] / r.shape[0], t.shape[1] / r.shape[1])
        filled = np.where(np.isfinite(r), r, 0.0)
        dead = ndimage.zoom(np.isfinite(r).astype(float), factors, order=0) < 0.5
        r = ndimage.zoom(filled, factors, order=1)[: t.shape[0], : t.shape[1]]
        r[dead[: t.shape[0], : t.shape[1]]] = np.nan
        warnings.append(f"The reference ({reference.data.shape[0]}×{reference.data.shape[1]}) was resampled "
                        f"linearly to the target's shape ({t.shape[0]}×{t.shape[1]}).")
    metrics = claims.compare(t, r, vertical=target.vertical, normalise=cross_survey or p["normalise"])
    return {**metrics, "warnings": warnings + target.notes + reference.notes,
            "target": {"survey_id": survey.pk, "section_type": target.kind, "section_number": target.number,
                       "ranges": target.ranges()},
            "reference": {"survey_id": reference_survey.pk, "section_type": reference.kind,
                          "section_number": reference.number, "ranges": reference.ranges()}}


def sections_compare(*, survey_id: int, section_type: str, section_number: float, ranges: Ranges | None = None,
                     reference_survey_id: int | None = None, reference_section_type: str,
                     reference_section_number: float, reference_ranges: Ranges | None = None,
                     normalise: bool = False, principal: str) -> dict[str, Any]:
    return run("compare_to_reference", {
        "survey_id": survey_id, "section_type": section_type, "section_number": section_number,
        "ranges": _ranges_param(ranges), "reference_survey_id": reference_survey_id or survey_id,
        "reference_section_type": reference_section_type, "reference_section_number": reference_section_number,
        "reference_ranges": _ranges_param(reference_ranges), "normalise": normalise}, principal=principal)


COMPUTE: dict[str, Callable[[Survey, Mapping[str, Any]], dict[str, Any]]] = {
    "validate_amplitude_claim": _claim,
    "detect_amplitude_anomalies": _anomalies,
    "verify_feature_hypothesis": _hypothesis,
    "compare_to_reference": _compare,
}


# --- The interpretation audit -------------------------------------------------------------------

CONFIDENCE_WORDS = {"definite": "", "probable": "Probably, ", "possible": "Possibly, ",
                    "speculative": "Speculatively, it may be that "}


def structured_to_text(analysis: Mapping[str, Any]) -> str:
    """A filled structured analysis as sentences the audit reads (the confidence words become hedges)."""
    lines = []
    for observation in analysis.get("observations") or []:
        lines.append(str(observation.get("description", "")).rstrip(".") + ".")
    for item in analysis.get("interpretations") or []:
        prefix = CONFIDENCE_WORDS.get(str(item.get("confidence", "")), "")
        hypothesis = str(item.get("hypothesis", "")).rstrip(".")
        lines.append(prefix + (hypothesis[:1].lower() + hypothesis[1:] if prefix else hypothesis) + ".")
        lines += [str(e).rstrip(".") + "." for e in item.get("supporting_evidence") or []]
    if analysis.get("limitations"):
        lines.append("Limitations: " + "; ".join(str(x) for x in analysis["limitations"]) + ".")
    lines += [str(r).rstrip(".") + "." for r in analysis.get("recommendations") or []]
    return "\n".join(line for line in lines if line.strip(". "))


def _feature_checker(survey: Survey, *, background: str = detection.UNNAMED_BACKGROUND,
                     flat_spot_method: int = verification.UNNAMED_FLAT_SPOT_METHOD,
                     ) -> Callable[[str, dict[str, float]], tuple[bool, dict[str, Any]] | None]:
    """The audit's check of a located feature claim: a bright spot against the anomaly detector on the
    cited line, any other against verify_feature_hypothesis, both with the methods the audit's witness
    names (``background``, ``flat_spot_method``)."""
    geometry = survey.geometry()
    sections: dict[tuple[str, float], Section] = {}

    def section(kind: str, number: float) -> Section:
        key = (kind, number)
        if key not in sections:
            sections[key] = section_read(survey=survey, kind=kind, number=number)
        return sections[key]

    def snap(axis: vds.Axis, value: float) -> float | None:
        index = round((value - axis.first) / axis.step) if axis.step else 0
        return axis.value(index) if 0 <= index < axis.count else None

    def check(feature: str, point: dict[str, float]) -> tuple[bool, dict[str, Any]] | None:
        il = snap(geometry.inline, point["inline"]) if "inline" in point else None
        xl = snap(geometry.crossline, point["crossline"]) if "crossline" in point else None
        t = snap(geometry.sample, point["sample"]) if "sample" in point else None
        line = ("inline", il, xl) if il is not None else ("crossline", xl, il) if xl is not None else None
        if feature in ("bright_spot",) and line is not None:
            kind, number, across = line
            sec = section(kind, number)
            clusters, _ = detection.detect(sec.data, sec.live, vertical=True, background=background)
            a, b = sec.axes
            for cluster in clusters:
                lo_a, hi_a = a.value(cluster.first[0]), a.value(cluster.first[1])
                lo_b, hi_b = b.value(cluster.second[0]), b.value(cluster.second[1])
                near_a = across is None or lo_a - 5 * abs(a.step) <= across <= hi_a + 5 * abs(a.step)
                near_b = t is None or lo_b - 40 <= t <= hi_b + 40
                if near_a and near_b:
                    return True, {"tool": "detect_amplitude_anomalies", "anomaly": {
                        f"{a.name}_range": [lo_a, hi_a], "sample_range": [lo_b, hi_b], "strength": cluster.strength}}
            return False, {"tool": "detect_amplitude_anomalies", "anomalies_on_section": len(clusters)}
        if il is None or xl is None or geometry.dimensionality != 3:
            return None
        # Without a time, the trace is tried along its length: every tenth sample, or for flat-spot method 2,
        # which looks for the flat reflection only within its reach of the point, often enough to reach every one.
        stride = 2 * verification.FLAT_EVENT_REACH + 1 if feature == "flat_spot" and flat_spot_method != 1 else 10
        count = geometry.sample.count
        times = [t] if t is not None else [geometry.sample.value(k) for k in range(10, count - 10, stride)]
        scores = []
        reads: dict[Any, Any] = {}
        for time_value in times:
            result = _hypothesis(survey, {"feature_type": feature, "inline": il, "crossline": xl,
                                          "sample": time_value, "background": background,
                                          "flat_spot_method": flat_spot_method}, reads)
            scores.append((result["score"], time_value))
        best = max(scores)
        verified = [s for s in scores if s[0] >= verification.VERIFIED_AT]
        # A fault spans a long time range: along the whole trace, most of it must verify.
        supported = bool(verified) if t is not None or feature != "fault" else len(verified) >= 0.2 * len(scores)
        if t is None and feature != "fault":
            supported = len(verified) >= 1 and best[0] >= 0.8
        return supported, {"tool": "verify_feature_hypothesis", "best_score": best[0], "at_sample": best[1],
                           "positions_checked": len(scores), "positions_verified": len(verified)}

    return check


def _audit(survey: Survey, p: Mapping[str, Any]) -> dict[str, Any]:
    from seismic.models import Extraction

    # An audit witness recorded before it named its methods checked features with the lateral background and
    # flat-spot method 1, and found a timeslice's anomalies with the FFT envelope, and replays with them.
    background, flat_spot_method, envelope = _methods(p)
    geometry = survey.geometry()
    extractions = [{"id": e.pk, "kind": e.kind, "number": e.number, "ranges": e.ranges, "statistics": e.statistics}
                   for e in Extraction.objects.filter(pk__in=p["extraction_ids"]).order_by("pk")]
    context = audit_rules.Context(
        inline=audit_rules.Axis(geometry.inline.first, geometry.inline.last, geometry.inline.step),
        crossline=audit_rules.Axis(geometry.crossline.first, geometry.crossline.last, geometry.crossline.step),
        sample=audit_rules.Axis(geometry.sample.first, geometry.sample.last, geometry.sample.step),
        domain=survey.domain, sample_unit=survey.sample_unit, extractions=extractions,
        feature_check=_feature_checker(survey, background=background, flat_spot_method=flat_spot_method),
        **_audit_data(survey, background=background, envelope=envelope))
    return {"extraction_ids": p["extraction_ids"], **audit_rules.audit(p["text"], context)}


def interpretation_audit(*, text: str = "", structured: Mapping[str, Any] | None = None,
                         extraction_ids: list[int] | None = None, survey_id: int | None = None,
                         principal: str) -> dict[str, Any]:
    from seismic.models import Extraction

    if structured:
        text = structured_to_text(structured)
    if not (text or "").strip():
        raise InputError("Give the interpretation: text, or a filled structured analysis.")
    ids = sorted(set(extraction_ids or []))
    found = dict(Extraction.objects.filter(pk__in=ids).values_list("pk", "survey_id"))
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError(f"No extraction with id {', '.join(map(str, missing))}.", missing=missing)
    surveys = set(found.values()) | ({survey_id} if survey_id else set())
    if len(surveys) > 1:
        raise InputError("The extractions (and survey_id) must belong to one survey.")
    if not surveys:
        raise InputError("Give the extraction_ids the interpretation is based on (or at least survey_id).")
    return run("audit_interpretation", {"survey_id": surveys.pop(), "text": text, "extraction_ids": ids,
                                        **CURRENT_METHODS}, principal=principal)


COMPUTE["audit_interpretation"] = _audit


# --- Structured analysis ------------------------------------------------------------------------

def structured_template(*, survey_id: int, focus: str, section_type: str, section_number: float,
                        principal: str) -> dict[str, Any]:
    from seismic.descriptions import CANNOT_CONCLUDE
    from seismic.services import section_extract

    if focus not in analysis.FOCUSES:
        raise InputError(f"focus must be one of {', '.join(analysis.FOCUSES)}, not {focus!r}.")
    survey = survey_get(survey_id=survey_id)
    _, extraction = section_extract(survey=survey, kind=section_type, number=section_number, principal=principal)
    return {"focus": focus, "schema": analysis.template(focus), "guidance": analysis.GUIDANCE[focus],
            "confidence_scale": list(analysis.CONFIDENCE_SCALE),
            "section": {"survey_id": survey.pk, "section_type": extraction.kind, "section_number": extraction.number,
                        "ranges": extraction.ranges},
            "extraction_id": extraction.pk, "statistics": extraction.statistics,
            "example": analysis.filled_example(focus, extraction.pk, extraction.statistics),
            "cannot_conclude": CANNOT_CONCLUDE}


def _structured(survey: Survey, p: Mapping[str, Any]) -> dict[str, Any]:
    from seismic.models import Extraction

    filled = p["analysis"]
    extractions = {e.pk: {"statistics": e.statistics} for e in
                   Extraction.objects.filter(pk__in=filled["extraction_ids"], survey=survey)}
    checks = analysis.check_statistics(filled, extractions)
    audited = _audit(survey, {"text": structured_to_text(filled), "extraction_ids": filled["extraction_ids"],
                              **{name: p[name] for name in CURRENT_METHODS if name in p}})
    serious = [f for f in audited["findings"] if f["severity"] in ("CRITICAL", "HIGH")]
    failed = [c for c in checks if c["verdict"] != "PASS"]
    return {"valid": not failed and not serious, "statistic_checks": checks, "findings": audited["findings"],
            "grounding_score": audited["grounding_score"],
            "problems": [f"observation {c['observation']}: {c['statistic']} = {c['claimed']:g} "
                         + (f"but the data says {c['actual']:g}" if "actual" in c else c.get("message", ""))
                         for c in failed] + [f["message"] for f in serious]}


def structured_validate(*, survey_id: int, filled: Any, principal: str) -> dict[str, Any]:
    from seismic.models import Extraction

    if not isinstance(filled, Mapping):
        raise InputError("The analysis must be a JSON object filled from the template.")
    try:  # it is witnessed whole, as canonical JSON (RFC 8785: integers within ±(2⁵³ − 1))
        signing.canonical(filled)
    except Exception as exc:  # rfc8785 raises its own error types
        raise InputError(f"The analysis cannot be recorded as canonical JSON: {exc}") from None
    focus = filled.get("focus")
    if focus not in analysis.FOCUSES:
        raise InputError(f"focus must be one of {', '.join(analysis.FOCUSES)}.")
    errors = analysis.schema_errors(filled, focus)
    if errors:
        raise InputError("The analysis does not follow its template: " + "; ".join(errors[:10]), errors=errors)
    ids = set(filled["extraction_ids"])
    known = set(Extraction.objects.filter(pk__in=ids, survey_id=survey_id).values_list("pk", flat=True))
    if ids - known:
        raise InputError(f"extraction_ids {sorted(ids - known)} are not extractions of survey {survey_id}.")
    return run("validate_structured_analysis", {"survey_id": survey_id, "analysis": dict(filled),
                                                **CURRENT_METHODS}, principal=principal)


COMPUTE["validate_structured_analysis"] = _structured


# --- Data for the audit's comparisons -----------------------------------------------------------

def _audit_data(survey: Survey, *, background: str = detection.UNNAMED_BACKGROUND,
                envelope: str = detection.UNNAMED_ENVELOPE) -> dict[str, Any]:
    """A cited extraction's samples (trends, the largest sample) and its anomalies as the
    detect_amplitude_anomalies tool finds them with ``background`` and, on a timeslice, ``envelope`` (the
    strongest anomaly), read once per audit."""
    from seismic.comparisons import Anomaly, SectionData

    sections: dict[int, SectionData | None] = {}
    found: dict[int, list[Anomaly] | None] = {}

    def section_data(extraction: Mapping[str, Any]) -> SectionData | None:
        key = int(extraction["id"])
        if key not in sections:
            try:
                section = section_read(survey=survey, kind=extraction["kind"], number=extraction["number"],
                                       ranges=_ranges_from(extraction.get("ranges")))
            except InputError:
                sections[key] = None
            else:
                a, b = section.axes
                sections[key] = SectionData(section.data, section.live, (a.name, a.first, a.step),
                                            (b.name, b.first, b.step), section.vertical)
        return sections[key]

    def anomalies(extraction: Mapping[str, Any]) -> list[Anomaly] | None:
        key = int(extraction["id"])
        if key not in found:
            try:
                result = _anomalies(survey, {
                    "section_type": extraction["kind"], "section_number": extraction["number"],
                    "ranges": extraction.get("ranges"), "threshold_std": detection.DEFAULT_THRESHOLD,
                    "min_cluster_size": detection.DEFAULT_MIN_CLUSTER, "method": "mad", "offset": 0,
                    "limit": MAX_PAGE, "background": background, "envelope": envelope})
            except InputError:
                found[key] = None
            else:
                found[key] = [Anomaly({axis: (a[f"{axis}_range"][0], a[f"{axis}_range"][1])
                                       for axis in ("inline", "crossline", "sample")}, float(a["strength"]))
                              for a in result["anomalies"]]
        return found[key]

    return {"section_data": section_data, "anomalies": anomalies}
