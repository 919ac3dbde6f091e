"""The interpretation audit: general rules over a geoscience vocabulary and parsed numbers that
find what an interpretation says beyond its data. Plain Python/numpy; no Django.

Findings, each with a category, a severity, the quoted span and the evidence:

- ``numeric`` (HIGH): a number presented as a statistic or amplitude that matches no statistic of
  the cited extractions within ±5 %, or that cites no extraction at all;
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

from seismic import stakes
from seismic.stakes import HEDGE, sentences  # one definition for the audit and the review gate

CATEGORIES = ("numeric", "location", "feature_fabrication", "out_of_scope", "overconfidence")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
PENALTY = {"CRITICAL": 0.5, "HIGH": 0.25, "MEDIUM": 0.1, "LOW": 0.05}
TOLERANCE = 0.05

NUMBER = r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"

# Words that present a number as a statistic or an amplitude, mapped to the statistics it may be.
# The most specific word nearest before a number decides; generic words ("amplitude") match any.
STATISTIC_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (r"root[- ]mean[- ]square|r\.?m\.?s\.?", ("rms",)),
    (r"standard deviation|std\.?|sigma", ("std",)),
    (r"average|avg\.?", ("mean", "rms")),
    (r"mean", ("mean",)),
    (r"median", ("median", "p50")),
    (r"(?P<pct>\d{1,2})(?:st|nd|rd|th) percentile|p(?P<pnum>1|5|10|25|50|75|90|95|99)\b", ("percentile",)),
    (r"maximum|max\.?|peak(?! frequency)|highest|largest|strongest|up to|reach(?:es|ing)?", ("max", "max_abs", "p99")),
    (r"minimum|min\.?|lowest|smallest|weakest|most negative|trough", ("min", "p1")),
    (r"dominant frequency|peak frequency|dominant", ("dominant_frequency_hz",)),
    (r"spectral centroid|centroid frequency|centroid", ("spectral_centroid_hz",)),
    (r"bandwidth", ("bandwidth_hz",)),
    (r"frequency|frequencies", ("dominant_frequency_hz", "spectral_centroid_hz", "band_hz")),
    (r"zero[- ]crossings?", ("zero_crossings",)),
    (r"data range|dynamic range", ("data_range",)),
    (r"coefficient of variation", ("coefficient_of_variation",)),
    (r"amplitudes?|values?|level", ("any",)),
]
_WORD_RE = [(re.compile(r"\b(?:" + pattern + r")", re.IGNORECASE), names) for pattern, names in STATISTIC_WORDS]
_NUMBER_RE = re.compile(r"(?<![\w.])(?P<number>" + NUMBER + r")(?![\w.]*\d)\s*(?P<unit>hz|ms|milliseconds?|s\b|%|"
                        r"percent|m\b|km|ft|md\b|°)?", re.IGNORECASE)
LOCATION_RE = re.compile(
    r"\b(?P<axis>inlines?|in-lines?|iline|il|crosslines?|cross-lines?|xlines?|xl|traces?|cdps?)\b\.?\s*"
    r"(?:#|no\.?|number)?\s*(?P<a>\d+(?:\.\d+)?)(?:\s*(?:-|–|to|and)\s*(?P<b>\d+(?:\.\d+)?))?",
    re.IGNORECASE,
)
TIME_RE = re.compile(r"(?P<a>\d+(?:\.\d+)?)(?:\s*(?:-|–|to)\s*(?P<b>\d+(?:\.\d+)?))?\s*"
                     r"(?P<unit>ms|milliseconds?|s\b|seconds?)",
                     re.IGNORECASE)
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
    r"\b(?:well[- ]?logs?|logs|wells?|petrophysic\w*|avo|amplitude (?:versus|vs\.?) offset|pre-?stack|velocity model|"
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


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _stat_values(extractions: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[float, int]]]:
    values: dict[str, list[tuple[float, int]]] = {}
    for extraction in extractions:
        statistics = extraction.get("statistics") or {}
        for name, value in statistics.items():
            if name == "percentiles" and isinstance(value, Mapping):
                for p_name, p_value in value.items():
                    if isinstance(p_value, (int, float)):
                        values.setdefault(p_name, []).append((float(p_value), extraction["id"]))
                        values.setdefault("percentile", []).append((float(p_value), extraction["id"]))
            elif name == "band_hz" and isinstance(value, list):
                for v in value:
                    values.setdefault("band_hz", []).append((float(v), extraction["id"]))
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                values.setdefault(name, []).append((float(value), extraction["id"]))
        for name in ("max", "min"):
            if isinstance(statistics.get(name), (int, float)):
                values.setdefault("max_abs", []).append((abs(float(statistics[name])), extraction["id"]))
    return values


def _matches(claimed: float, actual: float) -> bool:
    if actual == 0:
        return abs(claimed) < 1e-9
    return abs(claimed - actual) <= TOLERANCE * abs(actual)


def _is_location_number(sentence: str, start: int) -> bool:
    before = sentence[max(0, start - 20):start].lower()
    return bool(re.search(r"(inlines?|crosslines?|xlines?|ilines?|\bil|\bxl|traces?|cdps?|lines?|#|between|from)"
                          r"\s*(no\.?|number)?\s*(\d+(\.\d+)?\s*(-|–|to|and)\s*)?$", before))


def _statistic_before(sentence: str, start: int) -> tuple[str, tuple[str, ...]] | None:
    """The statistic a number at ``start`` is presented as: the most specific statistic word within
    the 60 characters before it (not across another statistic's number)."""
    window_start = max(0, start - 60)
    window = sentence[window_start:start]
    best = None
    for pattern, names in _WORD_RE:
        for match in pattern.finditer(window):
            if names == ("percentile",):
                number = match.group("pct") or match.group("pnum")
                names = (f"p{number}",)
            candidate = (names == ("any",), -match.end(), match.group(0), names)
            if best is None or candidate < best:
                best = candidate
    if best is None:
        return None
    return best[2], best[3]


def check_numbers(sentence: str, context: Context) -> list[Finding]:
    findings = []
    values = _stat_values(context.extractions)
    for match in _NUMBER_RE.finditer(sentence):
        unit = (match.group("unit") or "").lower()
        start = match.start("number")
        if unit and unit not in ("hz",):
            continue  # times, percentages, depths, permeabilities: other rules
        if _is_location_number(sentence, start) or re.match(r"\s*(st|nd|rd|th)\b", sentence[match.end("number"):]):
            continue
        found = _statistic_before(sentence, start)
        counted = re.match(r"\s*(?:live |dead )?(traces|samples)\b", sentence[match.end("number"):], re.IGNORECASE)
        if counted:
            found = (counted.group(0).strip(), ("live_traces", "dead_traces", "count"))
        if found is None and unit != "hz":
            continue  # not presented as a statistic
        word, names = found if found else ("frequency", ())
        if unit == "hz" and not set(names) & {"dominant_frequency_hz", "spectral_centroid_hz", "bandwidth_hz",
                                               "band_hz"}:
            names = ("dominant_frequency_hz", "spectral_centroid_hz", "band_hz")
        claimed = _number(match.group("number"))
        span_start = max(0, start - 40)
        while span_start > 0 and sentence[span_start - 1].isalnum():
            span_start -= 1
        span = sentence[span_start:match.end()].strip()
        if not context.extractions:
            findings.append(Finding("numeric", "HIGH", span, {"claimed": claimed},
                                    "A number is presented as a statistic but no extraction is cited to support it."))
            continue
        if "any" in names:
            candidates = [(n, v, e) for n, pairs in values.items() for v, e in pairs]
        else:
            candidates = [(n, v, e) for n, pairs in values.items() for v, e in pairs if n in names]
        if any(_matches(claimed, v) for _, v, _ in candidates):
            continue
        closest = min(candidates, key=lambda c: abs(c[1] - claimed), default=None)
        evidence: dict[str, Any] = {"claimed": claimed, "presented_as": word, "tolerance": TOLERANCE,
                                    "checked_statistics": sorted({n for n, _, _ in candidates})}
        if closest:
            evidence["closest"] = {"statistic": closest[0], "value": closest[1], "extraction_id": closest[2]}
        findings.append(Finding("numeric", "HIGH", span, evidence,
                                f"{claimed:g} ({word}) matches no statistic of the cited extractions within ±5 %."))
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
    """(axis, low, high, span) for every inline, crossline and time reference in a sentence."""
    found = []
    for match in LOCATION_RE.finditer(sentence):
        word = match.group("axis").lower()
        axis = "inline" if word.startswith(("in", "il")) else "crossline"
        a = float(match.group("a"))
        b = float(match.group("b")) if match.group("b") else a
        found.append((axis, min(a, b), max(a, b), match.group(0).strip()))
    for match in TIME_RE.finditer(sentence):
        scale = 1000.0 if match.group("unit").lower().startswith("s") and not match.group("unit").lower().startswith(
            "ms") else 1.0
        a = float(match.group("a")) * scale
        b = float(match.group("b")) * scale if match.group("b") else a
        found.append(("sample", min(a, b), max(a, b), match.group(0).strip()))
    return found


def check_locations(sentence: str, context: Context) -> list[Finding]:
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


def check_scope(sentence: str, context: Context, next_sentence: str = "") -> list[Finding]:
    """Out-of-scope claims, at most one per topic (the most severe). A claim stands unless its own clause
    only says the thing cannot be told ("porosity cannot be estimated from amplitudes"); a limitation
    elsewhere in the sentence exempts nothing. Hydrocarbon and well claims count negated as well ("the
    trap is barren"); for the other topics a negation still means no claim ("no evidence of shale")."""
    claims: list[tuple[str, str, bool, bool]] = []  # (topic, span, hedged, confirming)
    for hit in stakes.classify(sentence):
        rest = sentence[:hit.start] + " " + sentence[hit.end:]  # "a well at the crest" confirms nothing itself
        claims.append((STAKES_TOPICS[hit.topic], hit.span, hit.hedged,
                       bool(CONFIRMING_DATA.search(rest) or CONFIRMING_DATA.search(next_sentence))))
    confirming = bool(CONFIRMING_DATA.search(sentence) or CONFIRMING_DATA.search(next_sentence))
    for _, clause, hedged in stakes.clauses(sentence):
        matches = [(topic, m) for topic, pattern, _ in _OUT_RE for m in pattern.finditer(clause)]
        if context.domain == "time" and re.search(r"\bdepths?\b|\bdeep\b|below (?:the )?(?:sea|surface|mudline|seabed|"
                                                  r"sea ?floor|ground)|\bbsl\b|\btvd", clause, re.IGNORECASE):
            matches += [("absolute depth from time data", m) for m in DEPTH_RE.finditer(clause)]
        negated_everywhere = re.match(r"^\s*(?:no|not|we cannot|cannot|it is not possible)", clause, re.IGNORECASE)
        for topic, match in matches:
            if negated_everywhere or (NEGATION.search(clause[:match.start()][-50:]) and not hedged) or \
                    stakes.exempt(clause, match.start(), match.end()):
                continue  # "no evidence of shale", "lithology cannot be determined"
            claims.append((topic, match.group(0), hedged, confirming))
    best: dict[str, tuple[int, Finding]] = {}
    for topic, span, hedged, confirmed in claims:
        severity = _severity(topic, hedged, confirmed)
        if severity is None or (topic in best and best[topic][0] <= SEVERITIES.index(severity)):
            continue
        need = NEEDS[topic]
        message = (f"A hedged {topic} statement, but it does not say that {need} would confirm it." if hedged else
                   f"A definite {topic} claim: seismic amplitudes alone cannot establish it; it needs {need}.")
        best[topic] = (SEVERITIES.index(severity), Finding("out_of_scope", severity, span,
                                                           {"topic": topic, "needs": need, "hedged": hedged}, message))
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
