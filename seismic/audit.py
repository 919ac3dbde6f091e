"""The interpretation audit: general rules over a geoscience vocabulary and parsed numbers that
find what an interpretation says beyond its data. Plain Python/numpy; no Django.

Findings, each with a category, a severity, the quoted span and the evidence:

- ``numeric`` (HIGH): a number presented as a statistic, a frequency, a trace count, a percentage of
  traces, a ratio or a difference of two statistics that the cited extractions do not show within ±5 %
  (or the rounding of the written number), or that cites no extraction at all; a relational claim
  (``seismic.comparisons``: one section brighter than another, a percentage or ratio between them, a
  trend with depth, where the strongest anomaly is) that the data contradict. MEDIUM: a relational
  claim the cited extractions cannot decide, naming the tool call that would. Numbers are read as
  people write them (``seismic.numbers``: pairs, lists and "respectively", ranges, percentile names,
  separators, signs, units);
- ``location`` (HIGH outside the survey, MEDIUM off the cited sections): inline, crossline or
  time/depth references;
- ``feature_fabrication`` (CRITICAL; HIGH when hedged): a fault, channel, bright spot, flat spot or
  amplitude anomaly claimed at a location where the detection and verification tools find no support;
- ``out_of_scope`` (CRITICAL for definite hydrocarbon claims, HIGH for other definite claims, MEDIUM
  when hedged but not paired with the data that would confirm it): lithology, hydrocarbons (any fluid,
  its absence included, and reserves), porosity/permeability, geological age, absolute depth from time
  data, drilling or well placement. Hydrocarbon and well claims come from the high-stakes classifier
  (``seismic.stakes``) that the review gate uses too; every topic is judged clause by clause, and only a
  clause that says the thing cannot be told is exempt;
- ``overconfidence`` (MEDIUM): certainty language, or interpretive statements with no qualifier
  and no limitation anywhere.

The grounding score is the product of (1 − penalty) over the findings: CRITICAL 0.5, HIGH 0.25,
MEDIUM 0.1, LOW 0.05. It lowers the confidence that the κ-gate sees.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seismic import comparisons, numbers, stakes
from seismic.comparisons import Anomaly, SectionData
from seismic.stakes import HEDGE, sentences  # one definition for the audit and the review gate

CATEGORIES = ("numeric", "location", "feature_fabrication", "out_of_scope", "overconfidence")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
PENALTY = {"CRITICAL": 0.5, "HIGH": 0.25, "MEDIUM": 0.1, "LOW": 0.05}
TOLERANCE = 0.05

DEPTH_RE = re.compile(r"(?P<a>\d+(?:[.,]\d+)?)\s*(?P<unit>m|metres?|meters?|km|ft|feet)\b(?!s)", re.IGNORECASE)

FEATURES: dict[str, str] = {
    "fault": r"faults?|faulted|faulting|fault plane|throw",
    "channel": r"channels?|channeli[sz]ed|incised valley|incision",
    "bright_spot": r"bright[- ]spots?|amplitude anomal(?:y|ies)|high[- ]amplitude anomal(?:y|ies)"
                   r"|strong amplitude anomal(?:y|ies)|anomalously (?:high|strong|bright)",
    "flat_spot": r"flat[- ]spots?|fluid contact|gas[- ]water contact|oil[- ]water contact",
}
_FEATURE_RE = {name: re.compile(r"\b(?:" + pattern + r")\b", re.IGNORECASE) for name, pattern in FEATURES.items()}
NEGATION = re.compile(r"\b(?:no|not|without|absence of|lack of|none|nor|neither|free of|cannot see|does not show|"
                      r"do not see|isn't|aren't|doesn't|don't|never)\b", re.IGNORECASE)
CONFIRMING_DATA = re.compile(
    r"\b(?:well[- ]?logs?|logs|(?<!may )(?<!might )(?<!could )(?<!as )wells?(?! be\b)|petrophysic\w*|avo|"
    r"amplitude (?:versus|vs\.?) offset|pre-?stack|velocity model|"
    r"check[- ]?shots?|time[- ]depth|depth conversion|biostratigraph\w*|fossils?|cores?|rock physics|well ties?|"
    r"calibration|drilling data|fluid samples?|pressure data|regional geology|dating)\b",
    re.IGNORECASE,
)
CERTAINTY = re.compile(
    r"\b(?:clearly|definitely|definitive(?:ly)?|certain(?:ly)?|undoubtedly|without (?:a )?doubt|unquestionabl[ey]|"
    r"obviously|undeniabl[ey]|proves?|proven|confirms?|confirmed|guaranteed?|beyond doubt|100 ?%|no doubt|"
    r"unambiguous(?:ly)?|conclusively|surely|there is no question|no question|without (?:any )?question|"
    r"beyond (?:any |all |reasonable )?doubt|not in (?:any )?doubt|in no doubt|no room for doubt)\b",
    re.IGNORECASE,
)
LIMITATION = re.compile(
    r"\b(?:limitations?|limited|caveats?|uncertaint(?:y|ies)|cannot|can ?not|could not|unable|not possible|"
    r"would need|would require|requires?|resolution|only (?:a|one|the)|without (?:well|log|velocity))\b",
    re.IGNORECASE,
)
# Topics of the high-stakes classifier as the audit names them.
STAKES_TOPICS = {stakes.HYDROCARBONS: "hydrocarbons", stakes.RESERVES: "hydrocarbons",
                 stakes.WELL_LOCATION: "drilling or well placement", stakes.DRILLING: "drilling or well placement"}
OUT_OF_SCOPE: list[tuple[str, str, str]] = [
    # (topic, pattern, what would confirm it); hydrocarbons and drilling come from seismic.stakes
    ("lithology", r"sandstones?|shales?|limestones?|dolomites?|mudstones?|siltstones?|carbonates?|evaporites?|"
                  r"lithology|(?:clean|porous|tight) sands?|sand bod(?:y|ies)|coal(?: seams?| beds?)?|claystones?",
     "well logs"),
    ("porosity or permeability", r"porosity|permeab\w+|net[- ]to[- ]gross|water saturation|millidarc\w*|\bmd\b",
     "rock physics and well data"),
    ("geological age", r"jurassic|cretaceous|triassic|permian|carboniferous|devonian|silurian|ordovician|cambrian|"
                       r"paleocene|palaeocene|eocene|oligocene|miocene|pliocene|pleistocene|holocene|quaternary|"
                       r"tertiary|paleogene|neogene|million years|\bma\b|\bmyr\b|years old|aged? (?:of|about)",
     "biostratigraphy"),
]
_OUT_RE = [(topic, re.compile(r"\b(?:" + pattern + r")", re.IGNORECASE), need) for topic, pattern, need in OUT_OF_SCOPE]
NEEDS = {"hydrocarbons": "petrophysics and AVO analysis",  # what would confirm a claim on each topic
         "drilling or well placement": "the integration of many data types and a human decision",
         "absolute depth from time data": "a velocity model", **{topic: need for topic, _, need in OUT_OF_SCOPE}}


@dataclass
class Finding:
    category: str
    severity: str
    span: str
    evidence: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "severity": self.severity, "span": self.span, "message": self.message,
                "evidence": self.evidence}


@dataclass
class Axis:
    first: float
    last: float
    step: float

    def contains(self, value: float) -> bool:
        lo, hi = min(self.first, self.last), max(self.first, self.last)
        return lo - 1e-6 <= value <= hi + 1e-6

    def on_grid(self, value: float) -> bool:
        return self.contains(value) and (self.step == 0 or abs(((value - self.first) / self.step)
                                                                - round((value - self.first) / self.step)) < 1e-6)


@dataclass
class Context:
    """What the interpretation can be held to: the survey's axes and the cited extractions."""

    inline: Axis
    crossline: Axis
    sample: Axis
    domain: str = "time"  # or depth
    sample_unit: str = "ms"
    extractions: list[dict[str, Any]] = field(default_factory=list)  # id, kind, number, ranges, statistics
    # feature, {"inline"?, "crossline"?, "sample"?} → (supported, evidence); None when it cannot be checked
    feature_check: Callable[[str, dict[str, float]], tuple[bool, dict[str, Any]] | None] | None = None
    # A cited extraction's samples (trends, where the largest sample is) and its anomalies (the strongest)
    section_data: Callable[[Mapping[str, Any]], SectionData | None] | None = None
    anomalies: Callable[[Mapping[str, Any]], list[Anomaly] | None] | None = None


def _stat_values(extractions: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[float, int]]]:
    values: dict[str, list[tuple[float, int]]] = {}
    for extraction in extractions:
        statistics = extraction.get("statistics") or {}
        for name, value in statistics.items():
            if name == "percentiles" and isinstance(value, Mapping):
                for p_name, p_value in value.items():
                    if isinstance(p_value, (int, float)):
                        values.setdefault(p_name, []).append((float(p_value), extraction["id"]))
            elif name == "band_hz" and isinstance(value, list):
                for v in value:
                    values.setdefault("band_hz", []).append((float(v), extraction["id"]))
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                values.setdefault(name, []).append((float(value), extraction["id"]))
        for name in ("max", "min"):
            if isinstance(statistics.get(name), (int, float)):
                values.setdefault("max_abs", []).append((abs(float(statistics[name])), extraction["id"]))
    return values


def _matches(claimed: float, actual: float, resolution: float = 0.0) -> bool:
    return abs(claimed - actual) <= max(TOLERANCE * abs(actual), resolution, 1e-9)


LOW_NAMES = {"min", "p1", "p5", "p10", "p25"}
FREQUENCY_NAMES = set(numbers.FREQUENCY_KEYS)


def _pool(quantity: numbers.Quantity, context: Context) -> tuple[list[dict[str, Any]], bool]:
    """The extractions a number is checked against: the one of the section it is said of when that
    one is cited, else every cited extraction. The flag says whether it was narrowed."""
    if quantity.section is not None:
        kind = {"inline": "inline", "crossline": "crossline", "sample": "timeslice"}[quantity.section.axis]
        own = [e for e in context.extractions if e.get("kind") == kind
               and abs(float(e.get("number", -1e18)) - quantity.section.low) < 1e-6]
        if own:
            return own, True
    return list(context.extractions), False


def _values_of(extractions: list[dict[str, Any]], context: Context) -> dict[str, list[tuple[float, int]]]:
    values = _stat_values(extractions)
    if context.domain == "time" and context.sample_unit == "ms" and context.sample.step:
        nyquist = 1000.0 / (2 * context.sample.step)
        values["nyquist_hz"] = [(nyquist, e["id"]) for e in extractions] or [(nyquist, 0)]
    for extraction in extractions:
        statistics = extraction.get("statistics") or {}
        live, dead = statistics.get("live_traces"), statistics.get("dead_traces")
        if isinstance(live, int) and isinstance(dead, int) and live + dead:
            values.setdefault("total_traces", []).append((float(live + dead), extraction["id"]))
            values.setdefault("dead_percent", []).append((100.0 * dead / (live + dead), extraction["id"]))
            values.setdefault("live_percent", []).append((100.0 * live / (live + dead), extraction["id"]))
        sample_range = (extraction.get("ranges") or {}).get("sample")
        if sample_range and context.sample.step and extraction.get("kind") != "timeslice":
            per_trace = round(abs(sample_range[1] - sample_range[0]) / context.sample.step) + 1
            values.setdefault("samples_per_trace", []).append((float(per_trace), extraction["id"]))
        if isinstance(statistics.get("count"), int):
            values.setdefault("sample_count", []).append((float(statistics["count"]), extraction["id"]))
    return values


def _span(sentence: str, quantity: numbers.Quantity) -> str:
    start = max(0, quantity.number.start - 40)
    while start > 0 and sentence[start - 1].isalnum():
        start -= 1
    return sentence[start:quantity.number.end].strip()


def _wanted(quantity: numbers.Quantity) -> tuple[str, ...]:
    if quantity.kind == "trace_count":
        return {"live": ("live_traces",), "active": ("live_traces",), "valid": ("live_traces",),
                "good": ("live_traces",), "non-zero": ("live_traces",), "nonzero": ("live_traces",)}.get(
            quantity.qualifier, ("dead_traces",) if quantity.qualifier else ("live_traces", "total_traces"))
    if quantity.kind == "sample_count":
        return ("samples_per_trace",) if quantity.qualifier else ("samples_per_trace", "sample_count")
    if quantity.kind == "trace_percent":
        return ("live_percent",) if quantity.qualifier == "live" else ("dead_percent",) if quantity.qualifier \
            else ("dead_percent", "live_percent")
    if quantity.kind == "frequency" and quantity.role in ("low", "high"):
        return ("band_low", "band_high", *quantity.names)
    return quantity.names


def _candidates(quantity: numbers.Quantity, values: dict[str, list[tuple[float, int]]],
                extractions: list[dict[str, Any]]) -> list[tuple[str, float, int]]:
    wanted = _wanted(quantity)
    if "any" in wanted:
        return [(n, v, e) for n, pairs in values.items() for v, e in pairs
                if n not in FREQUENCY_NAMES | {"zero_crossings", "total_traces", "dead_percent", "live_percent",
                                                "samples_per_trace", "sample_count", "live_traces", "dead_traces",
                                                "count", "coefficient_of_variation"}]
    found = [(n, v, e) for n, pairs in values.items() for v, e in pairs if n in wanted]
    if {"band_low", "band_high"} & set(wanted):
        for extraction in extractions:
            band = (extraction.get("statistics") or {}).get("band_hz")
            if isinstance(band, list) and len(band) == 2:
                found.append(("band_hz", float(band[0 if quantity.role == "low" else 1]), extraction["id"]))
    return found


def _check_pair_of_statistics(quantity: numbers.Quantity, pool: list[dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
    """A ratio or a difference of two statistics named in the sentence ("the maximum exceeds the RMS by
    4,000", "P99 is about 3 times the RMS"), on any extraction of the pool."""
    first, second = quantity.operands[0], quantity.operands[1]
    claimed = quantity.number.value
    rough = len(re.sub(r"\D", "", quantity.number.text).lstrip("0")) <= 1
    tried = []
    for extraction in pool:
        values = _stat_values([extraction])
        for a_name in first:
            for b_name in second:
                for a, _ in values.get(a_name, []):
                    for b, _ in values.get(b_name, []):
                        if quantity.kind == "ratio":
                            actual = max(abs(a), abs(b)) / min(abs(a), abs(b)) if min(abs(a), abs(b)) else math.inf
                            if claimed < 1 and actual:
                                actual = 1 / actual
                            tolerance = 0.10 if rough else TOLERANCE
                            if abs(claimed - actual) <= tolerance * abs(actual):
                                return True, {}
                        else:
                            actual = abs(a - b)
                            if _matches(abs(claimed), actual, quantity.number.resolution):
                                return True, {}
                        tried.append({"statistics": [a_name, b_name], "value": actual,
                                      "extraction_id": extraction["id"]})
    return False, {"claimed": claimed, "presented_as": quantity.kind, "checked": tried[:6]}


def check_numbers(sentence: str, context: Context) -> list[Finding]:
    findings = []
    for quantity in numbers.quantities(sentence):
        if quantity.kind in ("time", "duration", "depth", "decibel", "percent_change"):
            continue  # places (check_locations), scope (check_scope) and relations (check_relations)
        span = _span(sentence, quantity)
        claimed = quantity.number.value
        if quantity.kind in ("ratio", "difference"):
            if len(quantity.operands) < 2 or not context.extractions:
                continue  # between sections: a relation; between unnamed things: nothing to hold it to
            pool, _ = _pool(quantity, context)
            ok, checked = _check_pair_of_statistics(quantity, pool)
            if not ok:
                findings.append(Finding("numeric", "HIGH", span, checked,
                                        f"{claimed:g} as a {quantity.kind} of the statistics named matches none of "
                                        f"the cited extractions within ±5 %."))
            continue
        if not context.extractions:
            findings.append(Finding("numeric", "HIGH", span, {"claimed": claimed},
                                    "A number is presented as a statistic but no extraction is cited to support it."))
            continue
        pool, narrowed = _pool(quantity, context)
        values = _values_of(pool, context)
        candidates = _candidates(quantity, values, pool)
        if not candidates:
            known = set(numbers.FREQUENCY_KEYS) | {"rms", "mean", "std", "min", "max", "p50", "max_abs"}
            if quantity.kind != "frequency" and not set(_wanted(quantity)) & known:
                continue  # a statistic no extraction computes (a 20th percentile): nothing to hold it to
        sign_free = bool(set(quantity.names) & LOW_NAMES) and claimed > 0
        resolution = quantity.number.resolution
        if any(_matches(claimed, v, resolution) or (sign_free and _matches(-claimed, v, resolution))
               for _, v, _ in candidates):
            continue
        evidence: dict[str, Any] = {"claimed": claimed, "presented_as": quantity.word or quantity.kind,
                                    "tolerance": TOLERANCE, "checked_statistics": sorted({n for n, _, _ in candidates})}
        closest = min(candidates, key=lambda c: abs(c[1] - claimed), default=None)
        if closest:
            evidence["closest"] = {"statistic": closest[0], "value": closest[1], "extraction_id": closest[2]}
        message = f"{claimed:g} ({quantity.word or quantity.kind.replace('_', ' ')}) matches no statistic of the " \
                  f"cited extractions within ±5 %."
        if narrowed:
            others = [e for e in context.extractions if e not in pool]
            elsewhere = [(n, v, e) for n, v, e in _candidates(quantity, _values_of(others, context), others)
                         if _matches(claimed, v, resolution)]
            if elsewhere:
                evidence["belongs_to_extraction"] = elsewhere[0][2]
                message = f"{claimed:g} ({quantity.word or quantity.kind}) is the value of another cited section, " \
                          f"not of {quantity.section.span if quantity.section else 'this one'}."
        findings.append(Finding("numeric", "HIGH", span, evidence, message))
    return findings


def check_relations(sentence: str, context: Context) -> list[Finding]:
    """Comparisons, trends and extremes (``seismic.comparisons``) against the cited extractions."""
    findings = []
    for relation in comparisons.find(sentence):
        verdict = comparisons.check(relation, context.extractions, context.section_data, context.anomalies)
        if verdict is None or verdict.verdict == "true":
            continue
        severity = "HIGH" if verdict.verdict == "false" else "MEDIUM"
        findings.append(Finding("numeric", severity, relation.span,
                                {"relation": relation.kind, **verdict.evidence}, verdict.message))
    return findings


def _cited_axis_values(context: Context, axis: str) -> list[tuple[float, float]]:
    """The ranges of ``axis`` the cited extractions covered."""
    covered = []
    for extraction in context.extractions:
        kind = extraction.get("kind", "")
        fixed = {"inline": "inline", "crossline": "crossline", "timeslice": "sample"}.get(kind)
        if fixed == axis:
            covered.append((extraction["number"], extraction["number"]))
        elif axis in (extraction.get("ranges") or {}):
            lo, hi = extraction["ranges"][axis]
            covered.append((min(lo, hi), max(lo, hi)))
    return covered


def locations(sentence: str) -> list[tuple[str, float, float, str]]:
    """(axis, low, high, span) for every inline, crossline, timeslice and time reference in a sentence;
    durations ("a 20 ms window", "sampled every 4 ms") are not places."""
    found = [(ref.axis, ref.low, ref.high, ref.span.strip()) for ref in numbers.section_refs(sentence)]
    times = [q for q in numbers.quantities(sentence) if q.kind == "time"]
    index = 0
    while index < len(times):
        quantity = times[index]
        scale = 1000.0 if quantity.number.unit == "s" else 1.0
        low = high = quantity.number.value * scale
        end = quantity.number.end
        if quantity.role == "low" and index + 1 < len(times) and times[index + 1].role == "high":
            high = times[index + 1].number.value * scale
            end = times[index + 1].number.end
            index += 1
        found.append(("sample", min(low, high), max(low, high), sentence[quantity.number.start:end].strip()))
        index += 1
    return found


NOT_EXTRACTED = re.compile(r"\b(?:could not|cannot|can't|couldn't|unable to|did not|didn't)\s+(?:be\s+)?"
                           r"(?:extract|read|find|load|open|request)\w*|\b(?:outside|beyond) (?:the |this )?survey\b|"
                           r"\bnot (?:in|part of) (?:the|this) survey\b|\bdoes not exist\b|\bno such\b", re.IGNORECASE)


def check_locations(sentence: str, context: Context) -> list[Finding]:
    """Places outside the survey (HIGH) or off the cited sections (MEDIUM); a sentence that says it could
    not extract a place, or that the place lies outside the survey, claims nothing about it."""
    if NOT_EXTRACTED.search(sentence):
        return []
    findings = []
    axes = {"inline": context.inline, "crossline": context.crossline, "sample": context.sample}
    for axis, lo, hi, span in locations(sentence):
        if axis == "sample" and context.domain != "time":
            continue
        grid = axes[axis]
        if not (grid.contains(lo) and grid.contains(hi)):
            label = "time" if axis == "sample" else axis
            findings.append(Finding("location", "HIGH", span, {"axis": axis, "value": [lo, hi],
                                                               "survey_range": [grid.first, grid.last]},
                                    f"This {label} lies outside the survey ({grid.first:g}–{grid.last:g})."))
            continue
        covered = _cited_axis_values(context, axis)
        inside = any(c_lo - 1e-6 <= lo and hi <= c_hi + 1e-6 for c_lo, c_hi in covered)
        if context.extractions and covered and not inside:
            findings.append(Finding("location", "MEDIUM", span, {"axis": axis, "value": [lo, hi], "cited": covered},
                                    "This location is not on any cited section: the agent did not look at it."))
    return findings


def _location_of(sentence: str, context: Context) -> dict[str, float]:
    """The point a sentence's feature claim refers to, completed from the cited sections."""
    point: dict[str, float] = {}
    for axis, lo, hi, _ in locations(sentence):
        point.setdefault(axis, (lo + hi) / 2)
    if context.extractions:
        first = context.extractions[0]
        fixed = {"inline": "inline", "crossline": "crossline", "timeslice": "sample"}.get(first.get("kind", ""))
        if fixed and fixed not in point:
            point[fixed] = float(first["number"])
    return point


def check_features(sentence: str, context: Context) -> list[Finding]:
    findings: list[Finding] = []
    if context.feature_check is None:
        return findings
    for feature, pattern in _FEATURE_RE.items():
        match = pattern.search(sentence)
        if not match:
            continue
        before = sentence[:match.start()]
        hedged = re.search(r"\b(if|whether|check|verify|test)\b", before[-40:], re.IGNORECASE)
        if NEGATION.search(before[-60:]) or hedged:
            continue
        point = _location_of(sentence, context)
        if not ({"inline", "crossline"} & point.keys()) or len(point) < 2:
            continue  # not located: nothing to check it against
        outcome = context.feature_check(feature, point)
        if outcome is None:
            continue
        supported, evidence = outcome
        if supported:
            continue
        qualified = bool(HEDGE.search(sentence))
        findings.append(Finding("feature_fabrication", "HIGH" if qualified else "CRITICAL", match.group(0),
                                {"feature": feature, "location": point, **evidence},
                                f"The tools find no {feature.replace('_', ' ')} at this location."))
    return findings


def _severity(topic: str, hedged: bool, confirming: bool) -> str | None:
    if hedged:
        return None if confirming else "MEDIUM"
    return "CRITICAL" if topic == "hydrocarbons" else "HIGH"


# A clause that declines to answer: it claims nothing, whatever topic it names ("I cannot give a
# porosity from seismic alone", "net pay needs well logs and petrophysical cut-offs").
DECLINE = re.compile(
    r"\b(?:cannot|can ?not|can't|could not|couldn't|unable to|not able to|impossible to|not possible to|no way to|"
    r"won't|will not|would not|do not|does not|did not|is not something|are not something|isn't something|"
    r"nothing (?:more |else )?(?:can|could)|no one can)\b[^.;]{0,60}?\b(?:give|giving|provide|providing|supply|"
    r"supplying|"
    r"estimate|estimating|determine|determining|answer|answering|assign|assigning|read|reading|tell|say|derive|"
    r"deriving|compute|computing|calculate|calculating|quantify|quantifying|predict|predicting|infer|inferring|"
    r"establish|establishing|measure|measuring|offer|state|report|deliver|put a (?:number|figure|value)|"
    r"be (?:given|estimated|determined|answered|assigned|read|told|derived|computed|calculated|quantified|"
    r"predicted|inferred|established|measured|resolved|dated|known|said|stated|reported|supplied|provided))\b"
    r"|\b(?:outside|beyond) (?:what|the scope|the reach)\b|\bnot (?:answerable|determinable|recoverable|"
    r"resolvable|derivable|measurable)\b|\bunanswerable\b|\b(?:declines?|declining|decline to|refrain from)\b"
    r"|^\s*(?:you|the user|the question|the request|the client)\s+(?:asked|asks|asking|wants?|wanted|requests?|"
    r"requested)\b|^\s*(?:as for|regarding|on the question of)\b",
    re.IGNORECASE)
DATA_NEEDED = re.compile(
    r"\b(?:needs?|needed|requires?|required|would (?:need|require|take)|calls? for|depends? on|takes?|only .{0,30}"
    r"(?:can|could)|must come from|has to come from|comes? from)\b|\b(?:would|could)\W*$", re.IGNORECASE)
DATA_WORDS = re.compile(
    CONFIRMING_DATA.pattern + r"|\b(?:log data|density logs?|sonic logs?|neutron logs?|resistivity logs?|"
    r"gamma[- ]ray logs?|cut-?offs?|saturation models?|radiometric\w*|palynolog\w*|micropal\w*|well tests?|"
    r"formation tests?|core (?:plugs?|analysis|measurements?)|laboratory|lab measurements?|a well|wells?)\b",
    re.IGNORECASE)
# Quantities of a topic only other data can measure: a number for one is a measurement seismic did not make.
QUANTIFIED = re.compile(
    r"\b(?:porosity|porosities|permeabilit\w+|net[- ]to[- ]gross|(?:water |oil |gas |hydrocarbon )?saturations?|"
    r"net pay|pay thickness|gross pay|pay|age|aged|years old|million years|ma|myr)\b[^.;]{0,40}?\d"
    r"|\d[\d.,]*\s*(?:%|percent|p\.?u\.?|m|metres?|meters?|ft|feet|md|millidarcys?|darcys?|ma|myr|million years)"
    r"\s*(?:of\s+)?(?:porosity|permeability|net pay|pay|saturation|net-to-gross|old|bp)\b", re.IGNORECASE)


ASSERTION = re.compile(
    r"\b(?:is|are|was|were|be|been|holds?|holding|contains?|containing|shows?|showing|has|have|had|carr(?:y|ies)|"
    r"bears?|indicates?|marks?|proves?|confirms?|means)\s+(?:\w+\s+){0,3}?(?:gas|oil|brine|water|hydrocarbons?|"
    r"condensate|charged|filled|bearing|saturated|wet|dry|barren|pay|porous|tight|sand(?:stone)?s?|shales?|"
    r"carbonates?|limestones?)\b|[-\s](?:charged|filled|bearing|saturated)\b|\b(?:gas|oil|hydrocarbons?|brine)\s+"
    r"(?:is|are|was|were|fills?|occupies|sits?)\b", re.IGNORECASE)


def declines(clause: str) -> bool:
    """Whether a clause only declines ("porosity cannot be given from seismic alone") or names the data a
    quantity needs ("net pay needs well logs") without giving a value or asserting a fluid or a rock."""
    if re.search(r"\d", clause) or ASSERTION.search(clause):
        return False
    return bool(DECLINE.search(clause)) or bool(DATA_NEEDED.search(clause) and DATA_WORDS.search(clause))


def check_scope(sentence: str, context: Context, next_sentence: str = "") -> list[Finding]:
    """Out-of-scope claims, at most one per topic (the most severe). A claim stands unless its own clause
    only says the thing cannot be told ("porosity cannot be estimated from amplitudes") or declines and
    names the data it needs ("net pay needs well logs"); a limitation elsewhere in the sentence exempts
    nothing. Hydrocarbon and well claims count negated as well ("the trap is barren"); for the other
    topics a negation still means no claim ("no evidence of shale"). A number given for porosity,
    permeability, saturation, net pay or age is a measurement seismic did not make: HIGH (CRITICAL for
    pay) even when hedged."""
    parts = stakes.clauses(sentence)
    declined = [(offset, offset + len(clause)) for offset, clause, _ in parts if declines(clause)]

    def in_decline(start: int) -> bool:
        return any(lo <= start < hi for lo, hi in declined)

    claims: list[tuple[str, str, bool, bool, bool]] = []  # (topic, span, hedged, confirming, quantified)
    for hit in stakes.classify(sentence):
        if in_decline(hit.start):
            continue
        rest = sentence[:hit.start] + " " + sentence[hit.end:]  # "a well at the crest" confirms nothing itself
        clause = next((c for o, c, _ in parts if o <= hit.start < o + len(c)), hit.clause)
        claims.append((STAKES_TOPICS[hit.topic], hit.span, hit.hedged,
                       bool(CONFIRMING_DATA.search(rest) or CONFIRMING_DATA.search(next_sentence)),
                       bool(QUANTIFIED.search(clause))))
    confirming = bool(CONFIRMING_DATA.search(sentence) or CONFIRMING_DATA.search(next_sentence))
    for offset, clause, hedged in parts:
        if (offset, offset + len(clause)) in declined:
            continue
        matches = [(topic, m) for topic, pattern, _ in _OUT_RE for m in pattern.finditer(clause)]
        if context.domain == "time" and re.search(r"\bdepths?\b|\bdeep\b|below (?:the )?(?:sea|surface|mudline|seabed|"
                                                  r"sea ?floor|ground)|\bbsl\b|\btvd", clause, re.IGNORECASE):
            matches += [("absolute depth from time data", m) for m in DEPTH_RE.finditer(clause)]
        negated_everywhere = re.match(r"^\s*(?:no|not|we cannot|cannot|it is not possible)", clause, re.IGNORECASE)
        quantified = bool(QUANTIFIED.search(clause))
        for topic, match in matches:
            if negated_everywhere or (NEGATION.search(clause[:match.start()][-50:]) and not hedged) or \
                    stakes.exempt(clause, match.start(), match.end()):
                continue  # "no evidence of shale", "lithology cannot be determined"
            claims.append((topic, match.group(0), hedged, confirming,
                           quantified and topic in ("porosity or permeability", "geological age")))
    best: dict[str, tuple[int, Finding]] = {}
    for topic, span, hedged, confirmed, measured in claims:
        severity = _severity(topic, hedged, confirmed)
        if measured:
            severity = "CRITICAL" if topic == "hydrocarbons" else "HIGH" if severity != "CRITICAL" else severity
        if severity is None or (topic in best and best[topic][0] <= SEVERITIES.index(severity)):
            continue
        need = NEEDS[topic]
        message = (f"A value for {topic} from seismic alone: seismic amplitudes cannot measure it; it needs {need}."
                   if measured else
                   f"A hedged {topic} statement, but it does not say that {need} would confirm it." if hedged else
                   f"A definite {topic} claim: seismic amplitudes alone cannot establish it; it needs {need}.")
        best[topic] = (SEVERITIES.index(severity), Finding("out_of_scope", severity, span,
                                                           {"topic": topic, "needs": need, "hedged": hedged,
                                                            "value_given": measured}, message))
    return [finding for _, finding in best.values()]


MODAL = re.compile(r"\b(?:should|would|could|may|might|can|will|to|help|helps|needs?|must|be|been|not|if|whether|"
                   r"until|unless|cannot|can't|un)\b\W*(?:\w+\W+){0,2}$", re.IGNORECASE)


def check_certainty(sentence: str) -> list[Finding]:
    for match in CERTAINTY.finditer(sentence):
        before = sentence[max(0, match.start() - 30):match.start()]
        if NEGATION.search(before[-25:]):
            continue  # "not certain", "no doubt" handled by the pattern itself
        if re.match(r"confirm|prove", match.group(0), re.IGNORECASE) and MODAL.search(before):
            continue  # "should be confirmed", "would help confirm", "to prove": a plan, not a claim
        return [Finding("overconfidence", "MEDIUM", match.group(0), {"sentence": sentence},
                        "Certainty language on an interpretation: say how probable it is and what supports it.")]
    return []


def audit(text: str, context: Context) -> dict[str, Any]:
    parts = sentences(text)
    findings: list[Finding] = []
    for index, sentence in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        findings += check_numbers(sentence, context)
        findings += check_relations(sentence, context)
        findings += check_locations(sentence, context)
        findings += check_features(sentence, context)
        findings += check_scope(sentence, context, following)
        findings += check_certainty(sentence)
    interpretive = [s for s in parts if any((m := p.search(s)) and not NEGATION.search(s[:m.start()][-60:])
                                            for p in _FEATURE_RE.values())]
    if interpretive and not any(HEDGE.search(s) for s in parts) and not any(LIMITATION.search(s) for s in parts):
        findings.append(Finding("overconfidence", "MEDIUM", interpretive[0][:200], {},
                                "Interpretive statements with no qualifier and no limitation anywhere."))
    score = 1.0
    for finding in findings:
        score *= 1 - PENALTY[finding.severity]
    counts = {severity: sum(f.severity == severity for f in findings) for severity in SEVERITIES}
    return {"findings": [f.as_dict() for f in findings], "grounding_score": round(score, 4), "counts": counts,
            "sentences": len(parts)}
