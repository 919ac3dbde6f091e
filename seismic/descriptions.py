"""What each agent tool is, and what can and cannot be concluded from it: one source for the
OpenAPI schema, the tool manifest at /api/v1/tools/ and (later) the MCP server."""

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
    ]
}
