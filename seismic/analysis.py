"""Structured analysis templates (JSON Schema) per focus, and the checks of a filled one.
Plain Python; no Django."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

FOCUSES = ("qc", "structural", "stratigraphic", "amplitude")
CONFIDENCE_SCALE = ("definite", "probable", "possible", "speculative")
TOLERANCE = 0.05

GUIDANCE = {
    "qc": ["dead or noisy traces and their share", "amplitude range and clipping", "frequency content and bandwidth",
           "acquisition footprint or processing artefacts"],
    "structural": ["faults: position, apparent dip, offset", "folds and dip of reflectors", "unconformities",
                   "where continuity breaks"],
    "stratigraphic": ["reflector continuity and terminations (onlap, downlap, truncation)", "channels and incisions",
                      "seismic facies (parallel, chaotic, transparent)", "thickness changes"],
    "amplitude": ["amplitude anomalies and their extent", "lateral amplitude trends", "polarity and phase",
                  "tuning effects"],
}

_STATISTIC = {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1}, "value": {"type": "number"},
                   "extraction_id": {"type": "integer"}},
    "required": ["name", "value"],
    "additionalProperties": False,
}
_LOCATION = {
    "type": "object",
    "properties": {"inline": {"type": "number"}, "crossline": {"type": "number"}, "sample": {"type": "number"},
                   "inline_range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                   "crossline_range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
                   "sample_range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}},
    "additionalProperties": False,
}


def template(focus: str) -> dict[str, Any]:
    """The JSON Schema of a structured analysis with this focus."""
    if focus not in FOCUSES:
        raise ValueError(f"focus must be one of {', '.join(FOCUSES)}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Structured seismic analysis ({focus})",
        "type": "object",
        "properties": {
            "focus": {"const": focus},
            "extraction_ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1,
                               "description": "The extractions every number below comes from."},
            "observations": {
                "type": "array", "minItems": 1,
                "description": "What the data shows, without interpretation. Suggested topics: "
                               + "; ".join(GUIDANCE[focus]) + ".",
                "items": {"type": "object", "properties": {
                    "description": {"type": "string", "minLength": 1}, "location": _LOCATION,
                    "statistics": {"type": "array", "items": _STATISTIC}},
                    "required": ["description"], "additionalProperties": False},
            },
            "interpretations": {
                "type": "array",
                "items": {"type": "object", "properties": {
                    "hypothesis": {"type": "string", "minLength": 1},
                    "confidence": {"enum": list(CONFIDENCE_SCALE)},
                    "supporting_evidence": {"type": "array", "items": {"type": "string", "minLength": 1},
                                            "minItems": 1},
                    "contradicting_evidence": {"type": "array", "items": {"type": "string"}},
                    "needs_validation": {"type": "boolean"}},
                    "required": ["hypothesis", "confidence", "supporting_evidence", "needs_validation"],
                    "additionalProperties": False},
            },
            "limitations": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
            "recommendations": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["focus", "extraction_ids", "observations", "interpretations", "limitations"],
        "additionalProperties": False,
    }


def schema_errors(filled: Any, focus: str) -> list[str]:
    """Every way ``filled`` breaks its template, as messages naming the place."""
    validator = Draft202012Validator(template(focus))
    errors = []
    for error in sorted(validator.iter_errors(filled), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        errors.append(f"{where}: {error.message}")
    return errors


def check_statistics(filled: Mapping[str, Any], extractions: Mapping[int, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each number the analysis gives as a statistic, against the cited extractions (±5 %)."""
    checks = []
    for index, observation in enumerate(filled.get("observations") or []):
        for stat in observation.get("statistics") or []:
            name, value = stat["name"], float(stat["value"])
            ids = [stat["extraction_id"]] if "extraction_id" in stat else list(extractions)
            actual = None
            for extraction_id in ids:
                statistics = (extractions.get(extraction_id) or {}).get("statistics") or {}
                candidate = statistics.get(name, (statistics.get("percentiles") or {}).get(name))
                if isinstance(candidate, (int, float)) and math.isfinite(candidate):
                    actual = (float(candidate), extraction_id)
                    break
            if actual is None:
                checks.append({"observation": index, "statistic": name, "claimed": value, "verdict": "UNKNOWN",
                               "message": f"No cited extraction has a statistic named {name!r}."})
                continue
            ok = abs(value - actual[0]) <= TOLERANCE * abs(actual[0]) if actual[0] else value == 0
            checks.append({"observation": index, "statistic": name, "claimed": value, "actual": actual[0],
                           "extraction_id": actual[1], "verdict": "PASS" if ok else "FAIL"})
    return checks


def filled_example(focus: str, extraction_id: int, statistics: Mapping[str, Any]) -> dict[str, Any]:
    """A minimal valid analysis for the template (used in the GET answer as an example)."""
    return copy.deepcopy({
        "focus": focus, "extraction_ids": [extraction_id],
        "observations": [{"description": "RMS amplitude of the section.",
                          "statistics": [{"name": "rms", "value": statistics.get("rms"),
                                          "extraction_id": extraction_id}]}],
        "interpretations": [],
        "limitations": ["Post-stack amplitudes only: no well control."],
        "recommendations": [],
    })
