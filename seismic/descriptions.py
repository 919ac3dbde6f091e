"""What each agent tool is, and what can and cannot be concluded from it: one source for the
OpenAPI schema, the tool manifest at /api/v1/tools/ and the MCP server (review/mcp.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DATA = ("The data are post-stack seismic amplitudes: reflection strength recorded in two-way time (or "
        "depth, where the survey says so) on a grid of inlines and crosslines. Every number returned is "
        "computed from those amplitudes on live traces only, and carries provenance (the extraction id and "
        "the SHA-256 of the exact array).")
CAN_CONCLUDE = ("From amplitudes alone you may describe reflector geometry and continuity, relative amplitude "
                "strength and its lateral changes, apparent frequency content, and the positions (in survey "
                "annotation) where these occur.")
CANNOT_CONCLUDE = [
    "lithology: needs well logs",
    "hydrocarbon presence: needs petrophysics and AVO analysis",
    "absolute depth of a time-domain event: needs a velocity model",
    "geological age: needs biostratigraphy",
    "porosity or other rock properties: need rock physics",
    "a drilling decision: needs the integration of many data types and a human decision",
]
RULES = [
    "Qualify every interpretation (definite, probable, possible, speculative) and say what supports it.",
    "Cite a statistic from a tool response (with its extraction id) for every amplitude claim.",
    "Never state a number that is not in a tool response.",
    "Dead traces are excluded from every statistic; say so when a section has many.",
]


def limits_text() -> str:
    return ("What the data is: " + DATA + "\nWhat can be concluded: " + CAN_CONCLUDE
            + "\nWhat cannot be concluded without other data: " + "; ".join(CANNOT_CONCLUDE) + "."
            + "\nRules: " + " ".join(RULES))


@dataclass(frozen=True)
class Tool:
    name: str
    method: str
    path: str
    summary: str
    what: str
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    @property
    def description(self) -> str:
        return f"{self.summary}\n\n{self.what}\n\n{limits_text()}"

    def manifest(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
            "http": {"method": self.method, "path": self.path},
        }


_SURVEY_ID = {"survey_id": {"type": "integer", "description": "Survey id from list_surveys."}}
_RANGES = {
    f"{axis}_{end}": {"type": "number", "description": f"{'Lowest' if end == 'min' else 'Highest'} {axis} "
                      f"value to keep, in survey annotation (default: the survey's "
                      f"{'first' if end == 'min' else 'last'}). Not allowed for the section's own axis."}
    for axis in ("inline", "crossline", "sample") for end in ("min", "max")
}
_RANGE = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
          "description": "[low, high] in survey annotation"}
_SECTION = {
    **_SURVEY_ID,
    "section_type": {"type": "string", "enum": ["inline", "crossline", "timeslice"]},
    "section_number": {"type": "number", "description": "Inline or crossline number, or the time (ms) or depth "
                       "of a timeslice, in survey annotation; must lie on the survey's grid."},
    **_RANGES,
}

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            name="list_surveys",
            method="GET",
            path="/api/v1/surveys/",
            summary="List the seismic surveys available.",
            what="Returns each survey's id, name, geometry (inline, crossline and sample ranges and steps), "
                 "domain (time or depth), live and dead trace counts and data hash.",
        ),
        Tool(
            name="get_survey",
            method="GET",
            path="/api/v1/surveys/{survey_id}/",
            summary="One survey's geometry, units and coordinate system.",
            what="Use it to learn which inline, crossline and time/depth values exist before asking for a "
                 "section: a section number must lie on the grid (first to last in steps of step).",
            parameters={"type": "object", "properties": _SURVEY_ID, "required": ["survey_id"]},
        ),
        Tool(
            name="extract_section",
            method="GET",
            path="/api/v1/surveys/{survey_id}/sections/{section_type}/{section_number}/",
            summary="Extract an inline, crossline or timeslice and its statistics, with provenance.",
            what="Returns statistics over live samples only (count, live/dead traces, min, max, mean, median, "
                 "std, rms, zero crossings per trace, data range, coefficient of variation, percentiles p1-p99; "
                 "for time-domain inlines and crosslines the dominant frequency, -6 dB band, bandwidth and "
                 "spectral centroid of the trace-averaged amplitude spectrum), the extraction id to cite, the "
                 "SHA-256 of the exact array, and the URL of a PNG picture. A section number outside the survey "
                 "is answered with the valid range and step.",
            parameters={"type": "object", "properties": _SECTION,
                        "required": ["survey_id", "section_type", "section_number"]},
        ),
        Tool(
            name="get_section_image",
            method="GET",
            path="/api/v1/surveys/{survey_id}/sections/{section_type}/{section_number}/image.png",
            summary="A PNG picture of a section (seismic diverging colormap, symmetric clip).",
            what="Axes are annotated in survey numbers; dead traces are grey. A picture supports qualitative "
                 "description only: take every number from extract_section.",
            parameters={"type": "object", "properties": {
                **_SECTION, "clip": {"type": "number", "description": "Percentile of |amplitude| used as the "
                                     "symmetric colour clip, 50-100 (default 99)."}},
                "required": ["survey_id", "section_type", "section_number"]},
        ),
        Tool(
            name="validate_amplitude_claim",
            method="POST",
            path="/api/v1/surveys/{survey_id}/validate-amplitude-claim/",
            summary="Check an amplitude claim about a window of a section by recomputing it from the data.",
            what="claim_type high_amplitude or low_amplitude (with an |amplitude| threshold: the fraction of the "
                 "window at or beyond it decides, PASS at 0.5 or more; without one: the window's RMS against the "
                 "rest of the section, PASS at a contrast of 1.5), or amplitude_statistic (statistic and value, "
                 "PASS within the tolerance, ±5 % by default). Give the window as the ranges on the section's two "
                 "axes (crossline_range and sample_range for an inline). Answers verdict (PASS, FAIL or "
                 "INCONCLUSIVE), evidence (the recomputed values, tolerance, fraction beyond the threshold, "
                 "contrast) and the confidence in the verdict. It establishes what the amplitudes are, not what "
                 "causes them.",
            parameters={"type": "object", "properties": {
                **_SURVEY_ID,
                "section_type": {"type": "string", "enum": ["inline", "crossline", "timeslice"]},
                "section_number": {"type": "number"},
                "claim_type": {"type": "string", "enum": ["high_amplitude", "low_amplitude", "amplitude_statistic"]},
                "inline_range": _RANGE, "crossline_range": _RANGE, "sample_range": _RANGE,
                "statistic": {"type": "string", "enum": ["mean", "median", "rms", "std", "min", "max", "max_abs",
                                                         "mean_abs"]},
                "value": {"type": "number"}, "threshold": {"type": "number"},
                "tolerance": {"type": "number", "description": "relative, default 0.05"},
                "description": {"type": "string"}},
                "required": ["survey_id", "section_type", "section_number", "claim_type"]},
        ),
        Tool(
            name="detect_amplitude_anomalies",
            method="POST",
            path="/api/v1/surveys/{survey_id}/anomalies/",
            summary="Find amplitude anomalies on a section: amplitude out of line with its surroundings.",
            what="The envelope is compared with its background: on an inline or crossline a wide running median "
                 "along the reflectors, following their local dip (background=dip_steered, the default; "
                 "background=lateral takes it across the traces within ±6 samples, as before there was a "
                 "choice), on a timeslice a wide 2-D running median of each trace's strongest envelope within "
                 "±6 samples of the slice (a Hilbert filter of ±15 samples; the witness names it, envelope=fir). "
                 "The difference is standardised robustly "
                 "(median/MAD, or method=std), thresholded at threshold_std (3.0) and at twice the background, "
                 "and grouped into connected clusters of at least min_cluster_size (10) samples (on a vertical "
                 "section, dip-steered, clusters a few samples apart along a trace are one). A continuous strong "
                 "reflector, flat or dipping, is background, not an anomaly. Answers anomalies ranked by "
                 "strength (robust z), each with inline_range, crossline_range, sample_range, centroid, "
                 "peak_amplitude, mean_amplitude, area (samples) and strength; 50 per page (offset, limit). An "
                 "anomaly is a measurement, not a bright spot in the geological sense: gas, lithology and "
                 "tuning all make one.",
            parameters={"type": "object", "properties": {
                **_SURVEY_ID,
                "section_type": {"type": "string", "enum": ["inline", "crossline", "timeslice"]},
                "section_number": {"type": "number"},
                "threshold_std": {"type": "number"}, "min_cluster_size": {"type": "integer"},
                "method": {"type": "string", "enum": ["mad", "std"]},
                "background": {"type": "string", "enum": ["dip_steered", "lateral"]},
                "inline_range": _RANGE, "crossline_range": _RANGE, "sample_range": _RANGE,
                "offset": {"type": "integer"}, "limit": {"type": "integer"}},
                "required": ["survey_id", "section_type", "section_number"]},
        ),
        Tool(
            name="verify_feature_hypothesis",
            method="POST",
            path="/api/v1/surveys/{survey_id}/verify-hypothesis/",
            summary="Check a fault, channel, bright spot or flat spot hypothesis at a location through several views.",
            what="Looks at the inline and the crossline through the location, a timeslice through it, the "
                 "amplitude gradient, reflector continuity (correlation of neighbouring traces) and, for faults, "
                 "the vertical offset across the location. For a bright spot or a flat spot, the amplitude "
                 "anomaly steps find anomalies on the inline and crossline as detect_amplitude_anomalies does "
                 "(dip-steered background). A flat spot is checked on the flat reflection itself: the positive "
                 "reflection at the location, tracked across the traces, must stay flat where the reflectors "
                 "above it dip. So for a flat spot give a point on the flat reflection (its sample within 2 "
                 "samples of it), not the top of the bright spot over it: elsewhere the check finds no flat "
                 "event. Each step reports its evidence and a sub-score; the weighted score in [0, 1] is verified "
                 "at 0.7 or more. A verified structure is consistent with the amplitudes; it does not establish "
                 "the feature's geological nature or origin.",
            parameters={"type": "object", "properties": {
                **_SURVEY_ID,
                "feature_type": {"type": "string", "enum": ["fault", "channel", "bright_spot", "flat_spot"]},
                "location": {"type": "object", "properties": {
                    "inline": {"type": "number"}, "crossline": {"type": "number"},
                    "sample": {"type": "number", "description": "time (ms) or depth; for a flat spot, that of "
                                                                "the flat reflection (within 2 samples)"}},
                    "required": ["inline", "crossline", "sample"]},
                "characteristics": {"type": "object"}},
                "required": ["survey_id", "feature_type", "location"]},
        ),
        Tool(
            name="compare_to_reference",
            method="POST",
            path="/api/v1/surveys/{survey_id}/compare/",
            summary="Compare a section with a reference section of the same or another survey.",
            what="Answers the correlation of the amplitudes, the RMS ratio, the similarity of the amplitude "
                 "spectra (cosine) and a verdict (similar, partly similar, different) with its criteria. Across "
                 "surveys amplitudes are normalised and a warning says why raw amplitudes are not comparable.",
            parameters={"type": "object", "properties": {
                **_SURVEY_ID,
                "section_type": {"type": "string", "enum": ["inline", "crossline", "timeslice"]},
                "section_number": {"type": "number"},
                "reference_survey_id": {"type": "integer"},
                "reference_section_type": {"type": "string", "enum": ["inline", "crossline", "timeslice"]},
                "reference_section_number": {"type": "number"},
                "normalise": {"type": "boolean"}},
                "required": ["survey_id", "section_type", "section_number", "reference_section_type",
                             "reference_section_number"]},
        ),
        Tool(
            name="get_structured_analysis_template",
            method="GET",
            path="/api/v1/surveys/{survey_id}/structured-analysis/",
            summary="The structured analysis template (JSON Schema) for a focus, with the section's statistics.",
            what="focus is qc, structural, stratigraphic or amplitude. Extracts the section (its extraction_id "
                 "and statistics are in the answer) and returns the schema to fill: observations (with the "
                 "statistics they quote), interpretations (hypothesis; confidence definite, probable, possible or "
                 "speculative; supporting and contradicting evidence; needs_validation), limitations (never "
                 "empty) and recommendations.",
            parameters={"type": "object", "properties": {
                **_SURVEY_ID, "focus": {"type": "string", "enum": ["qc", "structural", "stratigraphic", "amplitude"]},
                "section_type": {"type": "string", "enum": ["inline", "crossline", "timeslice"]},
                "section_number": {"type": "number"}},
                "required": ["survey_id", "focus", "section_type", "section_number"]},
        ),
        Tool(
            name="submit_structured_analysis",
            method="POST",
            path="/api/v1/surveys/{survey_id}/structured-analysis/",
            summary="Validate a filled structured analysis against its template and the data.",
            what="A template violation (a missing section, an interpretation without evidence, empty limitations) "
                 "is a 400 naming each problem. Otherwise answers valid, every quoted statistic checked against "
                 "the cited extractions (±5 %), and the findings of the interpretation audit.",
            parameters={"type": "object", "properties": {**_SURVEY_ID, "analysis": {"type": "object"}},
                        "required": ["survey_id", "analysis"]},
        ),
        Tool(
            name="audit_interpretation",
            method="POST",
            path="/api/v1/interpretations/audit/",
            summary="Audit an interpretation (free text or a structured analysis) against the data it cites.",
            what="Finds numbers that match no statistic of the cited extractions (±5 %), locations outside the "
                 "survey or off the cited sections, features claimed where the detection and verification tools "
                 "find no support, out-of-scope claims (lithology, hydrocarbons, porosity or permeability, age, "
                 "absolute depth from time data, drilling advice) unless hedged and paired with the data that would "
                 "confirm them, and overconfident wording. Answers findings (category, severity, span, evidence) "
                 "and a grounding_score in [0, 1]. The audit finds what is unsupported; passing it does not make "
                 "an interpretation right.",
            parameters={"type": "object", "properties": {
                "text": {"type": "string"}, "structured": {"type": "object"},
                "extraction_ids": {"type": "array", "items": {"type": "integer"}}, "survey_id": {"type": "integer"}},
                "required": ["extraction_ids"]},
        ),
    ]
}
