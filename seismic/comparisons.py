"""Relational claims an interpretation makes, and their check against the data. Plain Python/numpy;
no Django.

What is read (clause by clause):

- ``order``: one section against another, "inline 1060 is brighter than inline 1080", "crossline 880
  has a higher dominant frequency than crossline 885", "compared with inline 125, inline 120 is
  weaker". Amplitude words (brighter, stronger, weaker, dimmer, more energetic …) compare the RMS;
  "higher/larger/lower … <statistic>" compare that statistic.
- ``percent`` and ``ratio``: "amplitudes on crossline 2010 are about 40 % above those on 2050", "inline
  120 is 1.3 times as bright as inline 125", "twice as strong as", "half the RMS of".
- ``similar``: "inline 120 and inline 121 have similar amplitudes", "comparable RMS".
- ``trend``: "RMS increases with depth", "amplitudes weaken downwards", "the upper half is brighter than
  the lower half" (the cited vertical section's top third of live samples against its bottom third),
  "amplitudes increase towards higher crosslines" (its first third of traces against its last third;
  muted samples, zero on every live trace at the top or bottom, are left out of the vertical thirds),
  "amplitudes increase from inline 1000 to inline 1050" (the two sections' RMS).
- ``strongest``: "the strongest anomaly is at crossline 2030, 420 ms" (the anomaly detector's strongest
  cluster on the cited section), "the maximum amplitude occurs near crossline 2030 at 420 ms" (where
  the largest sample is), "inline 1060 is the brightest of the lines" (the cited sections' RMS).

Each check returns a verdict: ``true``, ``false`` (the data say otherwise: HIGH), or ``undecided``
(the cited extractions do not cover it: MEDIUM, naming the tool call that would decide it).
Tolerances: a percentage within max(3 points, 10 % of itself); a ratio within 5 % (10 % when written
with one significant figure or in words); "similar" means RMS within 10 % of each other; a location
within 5 traces and 40 ms of the strongest anomaly's extent, or of the largest sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seismic.numbers import Ref, section_refs

PERCENT_POINTS, PERCENT_RELATIVE = 3.0, 0.10
RATIO_TOLERANCE, ROUGH_RATIO_TOLERANCE = 0.05, 0.10
SIMILAR = 0.10
NEAR_TRACES, NEAR_MS = 5, 40.0

STAT_WORDS: list[tuple[str, str]] = [
    (r"root[- ]mean[- ]square|rms", "rms"), (r"standard deviation|std|variability|spread", "std"),
    (r"mean|average", "mean"), (r"median", "p50"), (r"maximum|max|peak amplitude|peak", "max"),
    (r"minimum|min|most negative", "min"), (r"dominant frequency|peak frequency|dominant", "dominant_frequency_hz"),
    (r"spectral centroid|centroid", "spectral_centroid_hz"), (r"bandwidth", "bandwidth_hz"),
    (r"zero[- ]crossings?", "zero_crossings"), (r"dead traces", "dead_traces"), (r"live traces", "live_traces"),
    (r"99th percentile|p99", "p99"), (r"95th percentile|p95", "p95"), (r"90th percentile|p90", "p90"),
    (r"(?:5th|fifth) percentile|p5\b", "p5"), (r"(?:1st|first) percentile|p1\b", "p1"),
    (r"10th percentile|p10", "p10"),
    (r"amplitudes?|energy|reflectivity|reflection strength|brightness|signal strength|amplitude levels?", "rms"),
]
_STAT_RE = [(re.compile(rf"\b(?:{p})\b", re.IGNORECASE), key) for p, key in STAT_WORDS]
_UP_AMPLITUDE = (r"brighter|stronger|more energetic|more reflective|louder|hotter|more intense|"
                 r"higher[- ]amplitude|higher in amplitude|more amplitude|more energy")
_DOWN_AMPLITUDE = (r"dimmer|weaker|fainter|quieter|softer|duller|less energetic|less reflective|lower[- ]amplitude|"
                   r"lower in amplitude|less amplitude|less energy")
_UP_GENERIC = r"higher|larger|greater|bigger|more|exceeds?|exceeding|above|outshines?|over"
_DOWN_GENERIC = r"lower|smaller|less|below|under|beneath"
_COMPARATIVE = re.compile(rf"\b(?P<up>{_UP_AMPLITUDE})\b|\b(?P<down>{_DOWN_AMPLITUDE})\b|"
                          rf"\b(?P<upg>{_UP_GENERIC})\b|\b(?P<downg>{_DOWN_GENERIC})\b", re.IGNORECASE)
_OBJECT_INTRO = re.compile(r"^[^.;]{0,45}?\b(?:than|that of|those (?:on|of|in|along)|the one on|as|to|with|"
                           r"relative to|compared (?:with|to)|against|over)\b", re.IGNORECASE)
_COMPARED_FIRST = re.compile(r"\b(?:compared (?:with|to)|relative to|against|unlike|versus|vs\.?)\s+"
                             r"(?:the\s+)?(?:section\s+)?$", re.IGNORECASE)
_PERCENT_BEFORE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s?(?:%|percent|per cent)\s+(?:(?:higher|lower|more|less|"
                             r"stronger|weaker|brighter|dimmer|greater|smaller|larger)\s+(?:in\s+)?"
                             r"(?:\w+\s+){0,2}?)?$", re.IGNORECASE)
_RATIO = re.compile(r"\b(?:(?P<n>\d+(?:\.\d+)?)\s?(?:times|x|×)|(?P<word>twice|double|three times|thrice|"
                    r"four times|half))\s+(?:as\s+(?:bright|strong|high|large|energetic)\s+as|that of|the\s+\w+(?:\s+"
                    r"amplitude)?\s+of|(?:stronger|brighter|higher|larger|greater|weaker|dimmer)\s+than|those\s+(?:on|"
                    r"of|in))", re.IGNORECASE)
_RATIO_WORDS = {"twice": 2.0, "double": 2.0, "three times": 3.0, "thrice": 3.0, "four times": 4.0, "half": 0.5}
_SIMILAR = re.compile(r"\b(?:similar|comparable|about the same|roughly the same|nearly the same|almost the same|"
                      r"much the same|nearly identical|on a par|equal|indistinguishable|as (?:bright|strong) as|"
                      r"match(?:es|ing)?)\b", re.IGNORECASE)
_AMPLITUDE_NOUN = re.compile(r"\b(?:rms|amplitudes?|amplitude levels?|energy|brightness|strength|reflectivity|"
                             r"statistics|levels?|bright|strong)\b", re.IGNORECASE)
_NEGATED = re.compile(r"\b(?:not|no|never|neither|nor|hardly|isn't|aren't|doesn't|don't)\s+(?:\w+\s+){0,2}$",
                      re.IGNORECASE)
_TREND_VERB_UP = (r"increases?|increasing|rises?|rising|grows?|growing|strengthens?|strengthening|brightens?|"
                  r"brightening|builds?|gets? (?:stronger|brighter)|becomes? (?:stronger|brighter)|goes up|picks? up")
_TREND_VERB_DOWN = (r"decreases?|decreasing|drops?|dropping|falls?|falling|declines?|declining|weakens?|weakening|"
                    r"fades?|fading|dims?|dimming|diminish(?:es|ing)?|decays?|decaying|attenuates?|dies? (?:off|out)|"
                    r"gets? (?:weaker|dimmer)|becomes? (?:weaker|dimmer)|goes down|tails? off")
_TREND_SUBJECT = r"rms|amplitudes?|energy|reflectivity|reflection strength|reflections?|brightness|signal"
_VERTICAL = (r"with (?:increasing )?(?:depth|time|two-way time|twt)|downwards?|deeper|with burial|"
             r"toward(?:s)? the (?:base|bottom)(?: of the (?:section|record|line))?|down the (?:section|record|line)|"
             r"lower in the section|from top to bottom|from the top down")
_VERTICAL_UP = r"upwards?|toward(?:s)? the top|up the section|shallower|from bottom to top"
_TREND = re.compile(
    rf"\b(?P<subject>{_TREND_SUBJECT})\b[^.;]{{0,40}}?\b(?:(?P<up>{_TREND_VERB_UP})|(?P<down>{_TREND_VERB_DOWN}))\b"
    rf"[^.;]{{0,25}}?(?:\b(?P<vertical>{_VERTICAL})\b|\b(?P<vertical_up>{_VERTICAL_UP})\b|"
    rf"\btoward(?:s)? (?P<lateral>higher|larger|increasing|lower|smaller|decreasing) (?P<axis>in-?lines?|"
    rf"cross-?lines?|x-?lines?|trace numbers?)(?: numbers?)?|\bfrom (?P<from>(?:in-?line|cross-?line|x-?line)s?\s*"
    rf"\d+(?:\.\d+)?)\s+(?:to|towards?)\s+(?P<to>(?:(?:in-?line|cross-?line|x-?line)s?\s*)?\d+(?:\.\d+)?))",
    re.IGNORECASE)
_HALVES = re.compile(
    r"\b(?:the\s+)?(?P<a>upper|shallow(?:er)?|top|lower|deep(?:er)?|bottom|basal)\s+(?:half|part|third|portion|"
    r"section|interval|reflectors?|events?|layers?|package|sequence)[^.;]{0,40}?\b(?:(?P<up>"
    rf"{_UP_AMPLITUDE}|higher|larger|greater)|(?P<down>{_DOWN_AMPLITUDE}|lower|smaller))\b[^.;]{{0,15}}?\b(?:than|"
    r"compared (?:with|to))\s+(?:the\s+|in the\s+|on the\s+|those (?:of|in) the\s+)?(?P<b>upper|shallow(?:er)?|top|"
    r"lower|deep(?:er)?|bottom|basal)\b", re.IGNORECASE)
_STRONGEST_ANOMALY = re.compile(
    r"\b(?:the\s+)?(?:strongest|brightest|largest|most prominent|most intense|highest[- ]amplitude|main|"
    r"dominant|biggest|principal)\s+(?:amplitude\s+)?(?:anomal(?:y|ies)|bright[- ]spots?|cluster)\b",
    re.IGNORECASE)
_STRONGEST_SAMPLE = re.compile(
    r"\b(?:the\s+)?(?:(?:maximum|peak|largest|highest|strongest|greatest)\s+(?:absolute\s+)?(?:amplitude|sample|value)|"
    r"(?:section|line)'s (?:maximum|peak))\b(?:\s+(?:of|on|in|along)\s+(?:the|this)\s+(?:section|line))?"
    r"[^.;]{0,30}?\b(?:is|lies|sits|occurs|appears|falls|comes|was found|is found|is located|located)\b",
    re.IGNORECASE)
_BRIGHTEST_SECTION = re.compile(
    r"\b(?:the\s+)?(?:(?P<max>brightest|strongest|most energetic|highest[- ]amplitude|loudest)|"
    r"(?P<min>dimmest|weakest|faintest|quietest|lowest[- ]amplitude))\s+(?:of\s+(?:the|these|those|all)\s+)?"
    r"(?:\w+\s+)?(?P<kind>in-?lines?|cross-?lines?|x-?lines?|lines|sections|slices)\b"
    r"|\bhas the (?P<max2>highest|largest|greatest) (?:rms|amplitude|energy)|\bhas the (?P<min2>lowest|smallest) "
    r"(?:rms|amplitude|energy)"
    r"|\b(?:is|was|remains|looks|appears) (?:to be )?the (?:(?P<max3>brightest|strongest|most energetic|loudest)|"
    r"(?P<min3>dimmest|weakest|faintest|quietest))\b(?!\s+(?:anomal|event|reflector|part|interval|zone|patch|"
    r"spot|feature|horizon|layer))", re.IGNORECASE)
_SURVEY_WIDE = re.compile(r"\b(?:in|of|across) the (?:whole |entire )?(?:survey|volume|cube|data ?set)\b|"
                          r"\bof all (?:the )?(?:in-?lines|cross-?lines|lines|sections)(?! (?:examined|cited|"
                          r"extracted|here|shown|above|looked at))\b", re.IGNORECASE)


@dataclass
class SectionData:
    """A cited section's samples, for trends and for where the strongest sample is."""

    data: np.ndarray  # (traces, samples) for a vertical section, (inlines, crosslines) for a timeslice
    live: np.ndarray  # (traces,) or (inlines, crosslines)
    first_axis: tuple[str, float, float]  # name, first annotation, step
    second_axis: tuple[str, float, float]
    vertical: bool


@dataclass
class Anomaly:
    ranges: dict[str, tuple[float, float]]  # axis name → (low, high), in annotation units
    strength: float


@dataclass
class Relation:
    kind: str
    span: str
    statistic: str = "rms"
    subject: Ref | None = None
    object: Ref | None = None
    direction: int = 1  # +1: the subject is the larger, −1 the smaller
    value: float | None = None  # a percentage or a ratio
    rough: bool = False
    axis: str = ""  # trends: "vertical", or the lateral axis
    point: dict[str, float] = field(default_factory=dict)  # strongest: the location claimed
    among: str = ""  # strongest section: the kind compared


@dataclass
class Verdict:
    verdict: str  # true, false, undecided
    evidence: dict[str, Any]
    message: str


def _statistic(text: str, default: str | None = "rms") -> str | None:
    best = None
    for pattern, key in _STAT_RE:
        match = pattern.search(text)
        if match and (best is None or (key != "rms" or best[1] == "rms") and match.start() < best[0]):
            if best is None or key != "rms" or best[1] == "rms":
                best = (match.start(), key)
    return best[1] if best else default


def _clauses(sentence: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for match in re.finditer(r";|\bwhile\b|\bwhereas\b|\bbut\b", sentence):
        out.append((start, sentence[start:match.start()]))
        start = match.end()
    out.append((start, sentence[start:]))
    return out


def find(sentence: str) -> list[Relation]:
    """Every relational claim of a sentence that the data can decide."""
    relations: list[Relation] = []
    for _, clause in _clauses(sentence):
        refs = [r for r in section_refs(clause)]
        relations += _trends(clause, refs)
        relations += _halves(clause)
        relations += _strongest(clause, refs)
        if len([r for r in refs if r.single]) >= 2 or _bare_object(clause, refs):
            relations += _pairwise(clause, refs)
    return relations


def _bare_object(clause: str, refs: list[Ref]) -> bool:
    return bool(refs) and bool(re.search(r"\bthan\s+(?:that of\s+|those (?:on|of)\s+)?\d+", clause))


def _pairwise(clause: str, refs: list[Ref]) -> list[Relation]:
    singles = [r for r in refs if r.single]
    for match in re.finditer(r"\bthan\s+(?:that of\s+|those (?:on|of)\s+)?(?P<n>\d+(?:\.\d+)?)\b", clause):
        if singles and not any(r.start <= match.start("n") < r.end for r in singles):
            before = [r for r in singles if r.end <= match.start()]
            if before:
                value = float(match.group("n"))
                singles.append(Ref(before[-1].axis, value, value, match.start("n"), match.end("n"), match.group("n")))
    singles.sort(key=lambda r: r.start)
    if len(singles) < 2:
        return []
    out: list[Relation] = []
    ratio = _RATIO.search(clause)
    similar = _SIMILAR.search(clause)
    comparatives = [m for m in _COMPARATIVE.finditer(clause)
                    if not (m.group("upg") or m.group("downg")) or _generic_is_about_amplitude(clause, m)]
    if ratio:
        subject, obj = _sides(clause, singles, ratio.start(), ratio.end())
        if subject and obj:
            value = float(ratio.group("n")) if ratio.group("n") else _RATIO_WORDS[ratio.group("word").lower()]
            rough = bool(ratio.group("word")) or len(re.sub(r"\D", "", ratio.group("n") or "").lstrip("0")) <= 1
            out.append(Relation("ratio", ratio.group(0), _statistic(clause) or "rms", subject, obj, 1, value, rough))
            return out
    for match in comparatives:
        if _NEGATED.search(clause[:match.start()]):
            continue
        subject, obj = _sides(clause, singles, match.start(), match.end())
        if not (subject and obj) or (subject.axis, subject.low) == (obj.axis, obj.low):
            continue
        direction = 1 if (match.group("up") or match.group("upg")) else -1
        percent = _PERCENT_BEFORE.search(clause[:match.end()]) or _PERCENT_BEFORE.search(clause[:match.start()])
        statistic = _statistic(clause[min(subject.end, match.start()):obj.start] or clause) or "rms"
        if percent:
            out.append(Relation("percent", clause[percent.start():match.end()].strip(), statistic, subject, obj,
                                direction, float(percent.group("n"))))
        else:
            out.append(Relation("order", match.group(0), statistic, subject, obj, direction))
        return out
    if similar and (_AMPLITUDE_NOUN.search(clause[max(0, similar.start() - 40):similar.end() + 30])):
        first, second = singles[0], singles[1]
        if (first.axis, first.low) != (second.axis, second.low):
            out.append(Relation("similar", similar.group(0), _statistic(clause) or "rms", first, second))
    return out


def _generic_is_about_amplitude(clause: str, match: re.Match[str]) -> bool:
    """"higher RMS", "a larger maximum", "exceeds that of": a generic comparative counts only next to a
    statistic or amplitude word."""
    window = clause[max(0, match.start() - 25):match.end() + 30]
    if re.search(r"\b(?:higher|lower|larger|smaller|increasing|decreasing)\s+(?:in-?lines?|cross-?lines?|x-?lines?|"
                 r"numbers?|times?|frequenc\w+ content)\b", clause[match.start():match.end() + 20], re.IGNORECASE):
        return False
    if match.group(0).lower() in ("above", "below", "under", "beneath", "over"):
        return bool(re.search(r"\b(?:those|that)\s+(?:on|of|in|along)\b", clause[match.end():match.end() + 20],
                              re.IGNORECASE)) and bool(_AMPLITUDE_NOUN.search(clause[:match.start()]))
    return _statistic(window, None) is not None


def _sides(clause: str, refs: list[Ref], start: int, end: int) -> tuple[Ref | None, Ref | None]:
    before = [r for r in refs if r.end <= start]
    after = [r for r in refs if r.start >= end]
    if before and after:
        compared_first = [r for r in before if _COMPARED_FIRST.search(clause[:r.start])]
        if compared_first:  # "compared with inline 125, inline 120 is weaker"
            others = [r for r in before if r is not compared_first[0]]
            return (others[-1] if others else after[0]), compared_first[0]
        intro = _OBJECT_INTRO.match(clause[end:after[0].start + 1])
        if intro or after[0].start - end < 45:
            return before[-1], after[0]
        return None, None
    if len(before) >= 2 and _COMPARED_FIRST.search(clause[:before[0].start]):
        return before[1], before[0]
    distinct = {(r.axis, r.low): r for r in before}
    if not after and len(distinct) == 2 and not re.match(r"^\s*than\b", clause[end:]):
        # "inline 1300 vs inline 1320: inline 1300 is brighter": than the other one
        subject = before[-1]
        return subject, next(r for key, r in distinct.items() if key != (subject.axis, subject.low))
    return None, None


def _trends(clause: str, refs: list[Ref]) -> list[Relation]:
    out = []
    for match in _TREND.finditer(clause):
        if _NEGATED.search(clause[:match.start("up") if match.group("up") else match.start("down")]):
            continue
        direction = 1 if match.group("up") else -1
        statistic = _statistic(match.group("subject")) or "rms"
        if match.group("vertical") or match.group("vertical_up"):
            if match.group("vertical_up"):
                direction = -direction
            on = [r for r in refs if r.single and r.axis != "sample"]
            out.append(Relation("trend", match.group(0), statistic, on[0] if on else None, None, direction,
                                axis="vertical"))
        elif match.group("lateral"):
            lateral_up = match.group("lateral").lower() in ("higher", "larger", "increasing")
            axis = "inline" if match.group("axis").lower().startswith("in") else "crossline"
            on = [r for r in refs if r.single and r.axis != axis and r.axis != "sample"]
            out.append(Relation("trend", match.group(0), statistic, on[0] if on else None, None,
                                direction if lateral_up else -direction, axis=axis))
        else:
            ends = section_refs(match.group("from") + " to " + (match.group("to") or ""))
            if len(ends) == 2:
                a, b = ends
                if not re.match(r"\D", match.group("to")):
                    b = Ref(a.axis, b.low, b.high, b.start, b.end, b.span)
                # "increases from A to B": B is the larger
                out.append(Relation("order", match.group(0), statistic, b, a, direction, axis="across"))
    return out


def _halves(clause: str) -> list[Relation]:
    out = []
    for match in _HALVES.finditer(clause):
        upper = re.match(r"upper|shallow|top", match.group("a"), re.IGNORECASE)
        other_upper = re.match(r"upper|shallow|top", match.group("b"), re.IGNORECASE)
        if bool(upper) == bool(other_upper):
            continue
        direction = 1 if match.group("up") else -1
        # The claim "deeper > upper" is a trend that increases with depth.
        out.append(Relation("trend", match.group(0), "rms", None, None, direction if not upper else -direction,
                            axis="vertical"))
    return out


def _strongest(clause: str, refs: list[Ref]) -> list[Relation]:
    out = []
    times = [(float(m.group(1).replace(",", "")) * (1000 if m.group(2).lower() == "s" else 1))
             for m in re.finditer(r"(\d[\d,]*(?:\.\d+)?)\s?(ms|s)\b", clause)]
    for pattern, kind in ((_STRONGEST_ANOMALY, "strongest_anomaly"), (_STRONGEST_SAMPLE, "strongest_sample")):
        match = pattern.search(clause)
        if not match or _NEGATED.search(clause[:match.start()]):
            continue
        point: dict[str, float] = {}
        for ref in refs:
            if ref.start >= match.end() - 2 and ref.single and ref.axis != "sample":
                point.setdefault(ref.axis, ref.low)
        after_times = [t for t in times]
        if after_times:
            point["sample"] = after_times[0]
        on = [r for r in refs if r.single and r.start < match.start() and r.axis != "sample"]
        if point:
            out.append(Relation(kind, match.group(0), "rms", on[-1] if on else None, point=point))
        return out
    match = _BRIGHTEST_SECTION.search(clause)
    if match and not _NEGATED.search(clause[:match.start()]):
        singles = [r for r in refs if r.single and r.axis != "sample"]
        before = [r for r in singles if r.end <= match.start()]
        if singles:
            maximum = bool(match.group("max") or match.group("max2") or match.group("max3"))
            survey_wide = bool(_SURVEY_WIDE.search(clause))
            subject = before[-1] if before else singles[0]
            out.append(Relation("strongest_section", match.group(0), "rms", subject, None, 1 if maximum else -1,
                                among="survey" if survey_wide else "cited"))
    return out


# --- Checking -------------------------------------------------------------------------------------

def _extraction_for(ref: Ref, extractions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    kind = {"inline": "inline", "crossline": "crossline", "sample": "timeslice"}[ref.axis]
    for extraction in extractions:
        if extraction.get("kind") == kind and abs(float(extraction.get("number", -1e18)) - ref.low) < 1e-6:
            return extraction
    return None


def _value(extraction: Mapping[str, Any], statistic: str) -> float | None:
    statistics = extraction.get("statistics") or {}
    value = statistics.get(statistic)
    if value is None:
        value = (statistics.get("percentiles") or {}).get(statistic)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _name(ref: Ref) -> str:
    return f"{'timeslice' if ref.axis == 'sample' else ref.axis} {ref.low:g}"


def _extract_call(ref: Ref) -> dict[str, Any]:
    return {"tool": "extract_section", "section_type": "timeslice" if ref.axis == "sample" else ref.axis,
            "section_number": ref.low}


def _undecided(relation: Relation, missing: list[Ref], why: str = "") -> Verdict:
    calls = [_extract_call(r) for r in missing]
    names = ", ".join(_name(r) for r in missing)
    return Verdict("undecided", {"decide_with": calls},
                   why or f"The cited extractions cannot decide this comparison: extract {names} (extract_section) "
                          f"and cite it.")


def check(relation: Relation, extractions: Sequence[Mapping[str, Any]],
          section_data: Callable[[Mapping[str, Any]], SectionData | None] | None = None,
          anomalies: Callable[[Mapping[str, Any]], list[Anomaly] | None] | None = None) -> Verdict | None:
    """The verdict on one relation; None when it names nothing the audit can hold it to."""
    if relation.kind in ("order", "percent", "ratio", "similar"):
        return _check_pair(relation, extractions)
    if relation.kind == "trend":
        return _check_trend(relation, extractions, section_data)
    if relation.kind == "strongest_section":
        return _check_brightest(relation, extractions)
    return _check_strongest(relation, extractions, section_data, anomalies)


def _check_pair(relation: Relation, extractions: Sequence[Mapping[str, Any]]) -> Verdict | None:
    if relation.subject is None or relation.object is None:
        return None
    a, b = _extraction_for(relation.subject, extractions), _extraction_for(relation.object, extractions)
    missing = [ref for ref, e in ((relation.subject, a), (relation.object, b)) if e is None]
    if missing:
        return _undecided(relation, missing)
    if a is None or b is None:
        return None
    va, vb = _value(a, relation.statistic), _value(b, relation.statistic)
    if va is None or vb is None:
        return None
    evidence: dict[str, Any] = {"check": "comparison", "statistic": relation.statistic,
                                _name(relation.subject): va, _name(relation.object): vb,
                                "extraction_ids": [a.get("id"), b.get("id")]}
    claim = f"{_name(relation.subject)} against {_name(relation.object)}"
    if relation.kind == "order":
        holds = (va > vb) if relation.direction > 0 else (va < vb)
        evidence["claimed"] = "larger" if relation.direction > 0 else "smaller"
        return Verdict("true" if holds else "false", evidence,
                       f"{claim}: the {relation.statistic} is {va:.4g} against {vb:.4g}, so the subject is "
                       f"{'larger' if va > vb else 'smaller'}, not {evidence['claimed']}.")
    if relation.kind == "similar":
        ratio = va / vb if vb else float("inf")
        evidence.update(ratio=ratio, tolerance=SIMILAR)
        holds = abs(ratio - 1) <= SIMILAR
        return Verdict("true" if holds else "false", evidence,
                       f"{claim}: the {relation.statistic} differs by {abs(ratio - 1):.0%}, more than the "
                       f"{SIMILAR:.0%} that 'similar' allows.")
    if relation.value is None:
        return None
    if relation.kind == "ratio":
        ratio = va / vb if vb else float("inf")
        tolerance = ROUGH_RATIO_TOLERANCE if relation.rough else RATIO_TOLERANCE
        evidence.update(claimed_ratio=relation.value, ratio=ratio, tolerance=tolerance)
        holds = abs(ratio - relation.value) <= tolerance * relation.value
        return Verdict("true" if holds else "false", evidence,
                       f"{claim}: the {relation.statistic} ratio is {ratio:.3g}, not {relation.value:g}.")
    ratio = va / vb if vb else float("inf")
    actual = (ratio - 1) * 100 if relation.direction > 0 else (1 - ratio) * 100
    tolerance = max(PERCENT_POINTS, PERCENT_RELATIVE * relation.value)
    evidence.update(claimed_percent=relation.value, actual_percent=actual, tolerance_points=tolerance,
                    direction="above" if relation.direction > 0 else "below")
    holds = actual > 0 and abs(actual - relation.value) <= tolerance
    return Verdict("true" if holds else "false", evidence,
                   f"{claim}: the {relation.statistic} is {va:.4g} against {vb:.4g}, "
                   f"{abs(ratio - 1) * 100:.1f} % {'above' if ratio > 1 else 'below'}, not "
                   f"{relation.value:g} % {evidence['direction']}.")


def _vertical_extractions(relation: Relation, extractions: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if relation.subject is not None:
        found = _extraction_for(relation.subject, extractions)
        return [found] if found else []
    return [e for e in extractions if e.get("kind") in ("inline", "crossline")]


def thirds(section: SectionData, axis: str) -> tuple[float, float] | None:
    """RMS of the first and last thirds of a vertical section's live samples: along time (``vertical``)
    or along its traces."""
    data = section.data[section.live] if section.live.ndim == 1 else None
    if data is None or data.size == 0:
        return None
    if axis == "vertical":
        # Muted samples (zero on every live trace: the top mute, a padded end) hold no reflector.
        signal = np.flatnonzero(np.any(data != 0, axis=0))
        if signal.size < 6:
            return None
        data = data[:, signal[0]:signal[-1] + 1]
        n = data.shape[1]
        top, bottom = data[:, : n // 3], data[:, n - n // 3:]
    else:
        traces = np.flatnonzero(section.live)
        n = traces.size
        if n < 6:
            return None
        top, bottom = section.data[traces[: n // 3]], section.data[traces[n - n // 3:]]
        if section.first_axis[2] < 0:
            top, bottom = bottom, top
    return float(np.sqrt(np.mean(np.square(top, dtype=np.float64)))), \
        float(np.sqrt(np.mean(np.square(bottom, dtype=np.float64))))


def _check_trend(relation: Relation, extractions: Sequence[Mapping[str, Any]],
                 section_data: Callable[[Mapping[str, Any]], SectionData | None] | None) -> Verdict | None:
    candidates = _vertical_extractions(relation, extractions)
    if relation.axis not in ("vertical",):
        candidates = [e for e in candidates if {"inline": "crossline", "crossline": "inline"}.get(str(e.get("kind")))
                      == relation.axis]
    if not candidates:
        if relation.subject is not None:
            return _undecided(relation, [relation.subject])
        return Verdict("undecided", {"decide_with": [{"tool": "extract_section", "section_type": "inline"}]},
                       "No cited vertical section can decide this trend: extract one (extract_section) and cite it.")
    if section_data is None:
        return None
    extraction = candidates[0]
    section = section_data(extraction)
    if section is None:
        return None
    found = thirds(section, relation.axis)
    if found is None:
        return None
    first, last = found
    holds = (last > first) if relation.direction > 0 else (last < first)
    where = "the top and bottom thirds" if relation.axis == "vertical" else f"the first and last thirds along " \
                                                                            f"{section.first_axis[0]}"
    evidence = {"check": "trend", "axis": relation.axis, "rms_first_third": first, "rms_last_third": last,
                "extraction_id": extraction.get("id"), "claimed": "increases" if relation.direction > 0 else
                "decreases"}
    return Verdict("true" if holds else "false", evidence,
                   f"The RMS of {where} of {extraction.get('kind')} {float(extraction.get('number', 0)):g} is "
                   f"{first:.4g} and {last:.4g}: it {'increases' if last > first else 'decreases'}, not as claimed.")


def _check_brightest(relation: Relation, extractions: Sequence[Mapping[str, Any]]) -> Verdict | None:
    if relation.subject is None:
        return None
    kind = {"inline": "inline", "crossline": "crossline", "sample": "timeslice"}[relation.subject.axis]
    same = [e for e in extractions if e.get("kind") == kind and _value(e, "rms") is not None]
    subject = _extraction_for(relation.subject, extractions)
    if relation.among == "survey":
        return Verdict("undecided", {"decide_with": [{"tool": "extract_section", "section_type": kind,
                                                      "section_number": "every one"}]},
                       f"Whether {_name(relation.subject)} is the extreme of the whole survey needs every {kind}: "
                       f"the cited extractions cannot decide it.")
    if subject is None:
        return _undecided(relation, [relation.subject])
    if len(same) < 2:
        return None
    values = {float(e["number"]): _value(e, "rms") or 0.0 for e in same}
    best = (max if relation.direction > 0 else min)(values, key=lambda k: values[k])
    holds = best == relation.subject.low
    return Verdict("true" if holds else "false", {"check": "extreme_section", "extreme": best,
                                                  "rms": {f"{kind} {k:g}": v for k, v in values.items()}},
                   f"Of the cited {kind}s, {kind} {best:g} has the {'highest' if relation.direction > 0 else 'lowest'}"
                   f" RMS, not {_name(relation.subject)}.")


def _check_strongest(relation: Relation, extractions: Sequence[Mapping[str, Any]],
                     section_data: Callable[[Mapping[str, Any]], SectionData | None] | None,
                     anomalies: Callable[[Mapping[str, Any]], list[Anomaly] | None] | None) -> Verdict | None:
    if relation.subject is not None:
        extraction = _extraction_for(relation.subject, extractions)
        if extraction is None:
            return _undecided(relation, [relation.subject])
    else:
        fixed = {"inline": "inline", "crossline": "crossline", "timeslice": "sample"}
        # The cited section the point lies on (the point names the other axes).
        cited = [e for e in extractions if fixed.get(str(e.get("kind"))) not in relation.point
                 or abs(relation.point[fixed[str(e.get("kind"))]] - float(e.get("number", 0))) < 1e-6]
        if not cited:
            return None
        extraction = cited[0]
    point = relation.point
    if relation.kind == "strongest_anomaly":
        if anomalies is None:
            return None
        found = anomalies(extraction)
        if found is None:
            return None
        if not found:
            return Verdict("false", {"check": "strongest_anomaly", "tool": "detect_amplitude_anomalies",
                                     "anomalies": 0, "extraction_id": extraction.get("id")},
                           "The anomaly detector finds no anomaly on this section at all.")
        strongest = max(found, key=lambda a: a.strength)
        holds = _near(point, strongest.ranges, extraction)
        return Verdict("true" if holds else "false", {
            "check": "strongest_anomaly", "tool": "detect_amplitude_anomalies", "claimed": point,
            "strongest": {k: list(v) for k, v in strongest.ranges.items()}, "strength": strongest.strength,
            "extraction_id": extraction.get("id")},
            f"The strongest anomaly the detector finds on {extraction.get('kind')} "
            f"{float(extraction.get('number', 0)):g} is elsewhere: " + ", ".join(
                f"{k} {lo:g}–{hi:g}" for k, (lo, hi) in strongest.ranges.items()) + ".")
    if section_data is None:
        return None
    section = section_data(extraction)
    if section is None:
        return None
    live = section.live if section.live.ndim == section.data.ndim else section.live[:, None]
    magnitude = np.where(np.broadcast_to(live, section.data.shape), np.abs(section.data), -np.inf)
    i, j = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
    a_name, a_first, a_step = section.first_axis
    b_name, b_first, b_step = section.second_axis
    at = {a_name: a_first + i * a_step, b_name: b_first + j * b_step}
    holds = _near(point, {k: (v, v) for k, v in at.items()}, extraction)
    return Verdict("true" if holds else "false", {"check": "strongest_sample", "claimed": point, "largest_at": at,
                                                  "extraction_id": extraction.get("id")},
                   "The largest sample of the section lies at " + ", ".join(f"{k} {v:g}" for k, v in at.items())
                   + ".")


def _near(point: dict[str, float], ranges: Mapping[str, tuple[float, float]], extraction: Mapping[str, Any]) -> bool:
    checked = 0
    for axis, value in point.items():
        if axis not in ranges:
            continue
        lo, hi = ranges[axis]
        slack = NEAR_MS if axis == "sample" else NEAR_TRACES
        if not lo - slack <= value <= hi + slack:
            return False
        checked += 1
    return checked > 0
