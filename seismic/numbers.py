"""Reading numbers as people write them, and what each one is said to measure. Plain Python; no Django.

``read(sentence)`` finds every number with its sign, thousands separators, scientific notation
("1.5e3", "1.5 × 10^3") and unit (ms, s, m, km, ft, Hz, dB, %), and groups the numbers that belong
together: a range ("from A to B", "A–B", "between A and B", "±A") or an enumeration ("A, B and C",
"A and B respectively"). A unit written once at the end of a group applies to all of it
("12–48 Hz", "800 to 1,200 ms").

``statistic_names(sentence)`` finds the statistics a sentence names, percentiles in every common
spelling (1st, 5th, 99th percentile, P90, p10, "the 5th and 95th percentiles", median, quartiles),
as lists where they are enumerated ("the minimum and maximum"), so that "the minimum and maximum are
−7,110 and 5,530" pairs each number with its own statistic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MINUS = "-−"  # hyphen-minus and the minus sign; an en dash is a range, never a sign
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_BODY = r"(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[\u202f\u2009\u00a0]\d{3})+|\d+)(?:\.\d+)?|\.\d+"
_EXPONENT = r"(?:[eE][-+−]?\d+|\s*[×x*]\s*10(?:\^|\*\*)?(?:[-−]?\d+|[⁻]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+))"
UNITS: list[tuple[str, str]] = [  # (pattern, normalised unit); the longest spellings first
    (r"milliseconds?|msecs?|ms", "ms"), (r"kilohertz|khz", "khz"), (r"hertz|hz", "hz"), (r"decibels?|db", "db"),
    (r"percent|per cent|%", "%"), (r"kilomet(?:re|er)s?|km", "km"), (r"feet|foot|ft", "ft"),
    (r"seconds?|secs?|s", "s"), (r"met(?:re|er)s?|m", "m"),
]
_UNIT = "|".join(f"(?:{p})" for p, _ in UNITS)
NUMBER_RE = re.compile(
    rf"(?<![\w.,])(?P<sign>[{MINUS}+±](?=\s?[\d.]))?\s?(?P<body>{_BODY})(?P<exp>{_EXPONENT})?(?![\d])"
    rf"(?:\s?(?P<unit>{_UNIT})(?![\w]))?", re.IGNORECASE)
_ORDINAL_AFTER = re.compile(r"^(?:st|nd|rd|th)\b", re.IGNORECASE)


@dataclass
class Number:
    value: float
    start: int  # of the number (its sign included)
    end: int  # of the number and its own unit
    text: str
    unit: str | None = None  # normalised (see UNITS), possibly taken from the end of its group
    own_unit: bool = False  # written right after this number
    decimals: int = 0
    group: int = -1  # index into Reading.groups
    plus_minus: bool = False
    exponent: int = 0  # of scientific notation

    @property
    def resolution(self) -> float:
        """Half a unit in the last written digit: what rounding to this many places can hide."""
        return 0.5 * 10.0 ** (self.exponent - self.decimals)


@dataclass
class Group:
    kind: str  # "range", "list" or "single"
    members: list[int] = field(default_factory=list)  # indices into Reading.numbers
    respectively: bool = False


@dataclass
class Reading:
    numbers: list[Number]
    groups: list[Group]

    def group_of(self, index: int) -> Group:
        return self.groups[self.numbers[index].group]


def _unit(text: str | None) -> str | None:
    if not text:
        return None
    low = text.lower()
    for pattern, unit in UNITS:
        if re.fullmatch(pattern, low):
            return unit
    return None


def _power(exponent: str | None) -> int:
    if not exponent:
        return 0
    power = re.search(r"[-+]?\d+$", exponent.translate(_SUPERSCRIPT).replace("−", "-"))
    return int(power.group(0)) if power else 0


def parse_value(body: str, exponent: str | None = None, sign: str | None = None) -> float:
    value = float(re.sub(r"[,\u202f\u2009\u00a0]", "", body)) * 10.0 ** _power(exponent)
    if sign and sign in MINUS:
        value = -value
    return value


def numbers(sentence: str) -> list[Number]:
    found = []
    for match in NUMBER_RE.finditer(sentence):
        following = sentence[match.end():match.end() + 1]
        if _ORDINAL_AFTER.match(sentence[match.end("body"):]) or re.match(r"[a-z]", following, re.IGNORECASE):
            continue  # "5th", "3D", "2nd": not quantities
        before = sentence[max(0, match.start() - 2):match.start()]
        if re.search(r"[A-Za-z]$", before) and not match.group("sign"):
            continue  # "P90", "F3", "x10": part of a name
        body = match.group("body")
        decimals = len(body.split(".")[1]) if "." in body else 0
        sign = match.group("sign")
        # A hyphen right after a digit or a letter is a range dash or a hyphenation, not a sign.
        start = match.start("sign") if sign else match.start("body")
        if sign and sign in MINUS and re.search(r"[\w)]$", sentence[:start]):
            sign, start = None, match.start("body")
        unit = _unit(match.group("unit"))
        found.append(Number(value=parse_value(body, match.group("exp"), sign), start=start, end=match.end(),
                            text=sentence[start:match.end()].strip(), unit=unit, own_unit=unit is not None,
                            decimals=decimals, plus_minus=sign == "±", exponent=_power(match.group("exp"))))
    return found


_RANGE_SEP = re.compile(r"^\s*(?:-|–|—|to|through|until|up to)\s*$", re.IGNORECASE)
_LIST_SEP = re.compile(r"^\s*(?:,|;|/|,? and|,? or|&|,? then|vs\.?|versus|against|compared (?:with|to))\s*$",
                       re.IGNORECASE)
_RANGE_BEFORE = re.compile(r"\b(?:between|from|range of|ranging|ranges?|spans?|spanning|varies|varying|vary)"
                           r"(?:\s+\w+){0,4}\s*$", re.IGNORECASE)
_BETWEEN = re.compile(r"\bbetween\s*$", re.IGNORECASE)


def read(sentence: str) -> Reading:
    found = numbers(sentence)
    groups: list[Group] = []
    index = 0
    while index < len(found):
        members = [index]
        kind = "single"
        while members[-1] + 1 < len(found):
            a, b = found[members[-1]], found[members[-1] + 1]
            gap = sentence[a.end:b.start]
            if a.own_unit and a.unit and b.unit and a.unit != b.unit:
                break
            if kind in ("single", "range") and len(members) == 1 and _RANGE_SEP.match(gap):
                kind = "range"
            elif len(members) == 1 and re.match(r"^\s*and\s*$", gap, re.IGNORECASE) and \
                    _BETWEEN.search(sentence[:a.start]):
                kind = "range"
            elif kind != "range" and _LIST_SEP.match(gap):
                kind = "list"
            else:
                break
            members.append(members[-1] + 1)
        group = Group(kind if len(members) > 1 else "single", members)
        tail = sentence[found[members[-1]].end:found[members[-1]].end + 60]
        group.respectively = bool(re.match(r"^[^.;]*?\brespectively\b", tail, re.IGNORECASE))
        unit = found[members[-1]].unit
        for member in members:
            found[member].group = len(groups)
            if found[member].unit is None and unit and len(members) > 1:
                found[member].unit = unit
        groups.append(group)
        index = members[-1] + 1
    for number in found:  # "±4,000": a symmetric range
        if number.plus_minus:
            number.value = abs(number.value)
    return Reading(found, groups)


# --- Statistic names ---------------------------------------------------------------------------------

PERCENTILE_RE = re.compile(
    r"\b(?:the\s+)?(?P<list>\d{1,2}(?:st|nd|rd|th)?(?:\s*(?:,|and|&|/|or)\s*\d{1,2}(?:st|nd|rd|th)?)+)"
    r"[- ]percentiles?\b"
    r"|\b(?P<one>\d{1,2})(?:st|nd|rd|th)?[- ]percentile\b"
    r"|\bpercentile\s+(?P<after>\d{1,2})\b"
    r"|\b[Pp](?P<short>\d{1,2})\b(?:\s*(?:/|and|,)\s*[Pp](?P<short2>\d{1,2})\b)?",
    re.IGNORECASE)
STATISTIC_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (r"root[- ]mean[- ]square|r\.?m\.?s\.?(?![\w])", ("rms",)),
    (r"standard deviation|std\.?(?!\w)|sigma|σ", ("std",)),
    (r"average absolute|mean absolute", ("rms",)),
    (r"average|avg\.?(?!\w)", ("mean", "rms")),
    (r"mean", ("mean",)),
    (r"median", ("p50",)),
    (r"upper quartile|third quartile", ("p75",)),
    (r"lower quartile|first quartile", ("p25",)),
    (r"(?:absolute|overall|global|section) (?:maximum|max|peak)", ("max", "max_abs")),
    (r"maximum|max\.?(?!\w)|peak(?! frequency)|highest|largest|strongest|brightest|"
     r"positive extreme|crest", ("max", "max_abs", "p99")),
    (r"up to|reach(?:es|ing)?|as high as", ("max", "max_abs", "p99", "weak")),
    (r"extremes?|extreme values|end ?members", ("min", "max", "max_abs", "p1", "p99")),
    (r"minimum|min\.?(?!\w)|lowest|smallest|weakest|most negative|troughs?|negative extreme|down to", ("min", "p1")),
    (r"dominant frequency|peak frequency|dominant|spectral peak", ("dominant_frequency_hz",)),
    (r"spectral centroid|centroid frequency|centroid|mean frequency", ("spectral_centroid_hz",)),
    (r"bandwidth", ("bandwidth_hz",)),
    (r"nyquist", ("nyquist_hz",)),
    (r"frequency band|band|frequencies|frequency", ("dominant_frequency_hz", "spectral_centroid_hz", "band_hz")),
    (r"zero[- ]crossings?", ("zero_crossings",)),
    (r"data range|dynamic range|peak[- ]to[- ]peak|spread", ("data_range",)),
    (r"coefficient of variation|\bcv\b", ("coefficient_of_variation",)),
    (r"amplitudes?|values?|levels?|energy|samples?", ("any",)),
]
_WORD_RE = [(re.compile(r"\b(?:" + pattern + r")", re.IGNORECASE), names) for pattern, names in STATISTIC_WORDS]
_GENERIC_FREQUENCY = ("dominant_frequency_hz", "spectral_centroid_hz", "band_hz")
_NAME_LIST_SEP = re.compile(r"^\s*(?:,|,? and|&|/|,? or)\s*(?:the\s+)?$", re.IGNORECASE)


@dataclass
class Name:
    start: int
    end: int
    text: str
    names: tuple[str, ...]  # candidate statistic keys; ("any",) for a generic word


def statistic_names(sentence: str) -> list[Name]:
    """Every statistic the sentence names, left to right; percentiles as their keys (p5, p95)."""
    found: list[Name] = []
    taken: list[tuple[int, int]] = []
    for match in PERCENTILE_RE.finditer(sentence):
        if match.group("list"):
            # One name per percentile, at its own position, so that a list pairs with a list of numbers.
            for item in re.finditer(r"(\d{1,2})(?:st|nd|rd|th)?", match.group("list")):
                at = match.start("list") + item.start()
                found.append(Name(at, match.start("list") + item.end(), match.group(0), (f"p{int(item.group(1))}",)))
        else:
            digit = match.group("one") or match.group("after") or match.group("short")
            found.append(Name(match.start(), match.end("short") if match.group("short") else match.end(),
                              match.group(0), (f"p{int(digit)}",)))
            if match.group("short2"):
                found.append(Name(match.start("short2") - 1, match.end(), match.group(0),
                                  (f"p{int(match.group('short2'))}",)))
        taken.append(match.span())
    if re.search(r"\bpercentiles?\b", sentence, re.IGNORECASE):
        # "Percentiles: 10th = −1,590, 90th = 3,876": bare ordinals name percentiles
        for match in re.finditer(r"\b(\d{1,2})(?:st|nd|rd|th)\b(?![- ]percentile)", sentence, re.IGNORECASE):
            if not any(s_ <= match.start() < e_ for s_, e_ in taken):
                found.append(Name(match.start(), match.end(), match.group(0), (f"p{int(match.group(1))}",)))
                taken.append(match.span())
    for match in re.finditer(r"\b(?P<a>upper|lower|first|third)\s+(?:and|&|/)\s+(?P<b>upper|lower|first|third)\s+"
                             r"quartiles\b", sentence, re.IGNORECASE):
        for part in ("a", "b"):  # "the upper and lower quartiles": two names, in order
            key = "p75" if match.group(part).lower() in ("upper", "third") else "p25"
            found.append(Name(match.start(part), match.end(part), match.group(0), (key,)))
        taken.append(match.span())
    for pattern, names in _WORD_RE:
        for match in pattern.finditer(sentence):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            found.append(Name(match.start(), match.end(), match.group(0), names))
            taken.append(match.span())
    return sorted(found, key=lambda n: n.start)


def name_lists(sentence: str, names: list[Name]) -> list[list[Name]]:
    """Specific statistic names enumerated together ("the minimum and maximum", "P10/P90")."""
    specific = [n for n in names if n.names != ("any",)]
    lists: list[list[Name]] = []
    for name in specific:
        if lists and _NAME_LIST_SEP.match(sentence[lists[-1][-1].end:name.start]):
            lists[-1].append(name)
        else:
            lists.append([name])
    # Percentiles of one "5th and 95th percentiles" phrase share its text and are one list too.
    return [group for group in lists if len(group) > 1]


# --- Section references ------------------------------------------------------------------------------

_AXIS_WORD = (r"(?P<axis>in-?lines?|ilines?|il|cross-?lines?|x-?lines?|xl|time[- ]?slices?|slices?|"
              r"traces?|cdps?)")
REF_RE = re.compile(rf"\b{_AXIS_WORD}\b\.?\s*(?:#|no\.?|number)?\s*(?:at\s+)?(?P<a>\d+(?:\.\d+)?)(?!\.\d|\d)"
                    r"(?:\s?(?P<unit>ms|s)\b)?", re.IGNORECASE)
_SLICE_BEFORE = re.compile(r"(?P<a>\d+(?:\.\d+)?)\s?(?P<unit>ms|s)[- ](?:time[- ]?slice|slice)\b", re.IGNORECASE)
_REF_CONT = re.compile(r"^\s*(?P<sep>,|,?\s*and|,?\s*or|&|/|-|–|—|to|through|vs\.?|versus)\s*"
                       r"(?:(?:in-?lines?|ilines?|il|cross-?lines?|x-?lines?|xl)\b\.?\s*)?(?P<b>\d+(?:\.\d+)?)(?!\.\d|\d)"
                       r"(?!\s?(?:%|(?:ms|s|m|hz|percent|traces?|samples?)\b))"
                       # nor the start of a range that carries a unit ("crosslines 2005-2012 and 120-200 ms")
                       r"(?!\s*(?:-|–|—|to)\s*\d+(?:\.\d+)?\s?(?:%|(?:ms|s|m|hz|percent)\b))", re.IGNORECASE)


@dataclass
class Ref:
    axis: str  # inline, crossline or sample (a timeslice)
    low: float
    high: float
    start: int
    end: int
    span: str

    @property
    def single(self) -> bool:
        return self.low == self.high


def axis_of(word: str) -> str:
    word = word.lower()
    if word.startswith(("in", "il")):
        return "inline"
    if "slice" in word:
        return "sample"
    return "crossline"


def section_refs(sentence: str) -> list[Ref]:
    """Inlines, crosslines and timeslices a sentence names: "inline 120", "inlines 120, 125 and 130",
    "crosslines 880–885" (one range), "the 400 ms timeslice"."""
    refs: list[Ref] = []
    for match in REF_RE.finditer(sentence):
        axis = axis_of(match.group("axis"))
        if axis == "sample" and match.group("unit") == "s":
            value = float(match.group("a")) * 1000
        else:
            value = float(match.group("a"))
        refs.append(Ref(axis, value, value, match.start(), match.end(), match.group(0)))
        position = match.end()
        while cont := _REF_CONT.match(sentence[position:]):
            value_b = float(cont.group("b"))
            separator = cont.group("sep").strip().lower()
            if re.search(r"(in-?lines?|ilines?|il|cross-?lines?|x-?lines?|xl)\b", cont.group(0), re.IGNORECASE):
                break  # "inline 120 and crossline 880": the next reference is a match of its own
            axis_b = axis
            if separator in ("-", "–", "—", "to", "through") and refs[-1].single:
                refs[-1].high = max(refs[-1].low, value_b)
                refs[-1].low = min(refs[-1].low, value_b)
                refs[-1].end = position + cont.end()
                refs[-1].span = sentence[refs[-1].start:refs[-1].end]
            else:
                refs.append(Ref(axis_b, value_b, value_b, position + cont.start("b"), position + cont.end(),
                                cont.group("b")))
            position += cont.end()
    for match in _SLICE_BEFORE.finditer(sentence):
        value = float(match.group("a")) * (1000 if match.group("unit").lower() == "s" else 1)
        refs.append(Ref("sample", value, value, match.start(), match.end(), match.group(0)))
    return sorted(refs, key=lambda r: r.start)


# --- What each number is said to measure --------------------------------------------------------------

@dataclass
class Quantity:
    number: Number
    kind: str  # statistic, frequency, time, duration, depth, trace_count, sample_count, trace_percent,
    #            ratio, difference, percent_change, decibel
    names: tuple[str, ...] = ()  # candidate statistic keys (statistic, frequency)
    word: str = ""
    role: str = "value"  # value, low or high (the ends of a range)
    section: Ref | None = None  # the section the number is said of, when the sentence pairs them
    qualifier: str = ""  # live, dead (trace counts and percentages)
    operands: tuple[tuple[str, ...], ...] = ()  # ratio and difference: the statistics compared


_LOW = ("min", "p1", "p5", "p10", "p25")
_HIGH = ("max", "max_abs", "p99", "p95", "p90", "p75")
FREQUENCY_KEYS = ("dominant_frequency_hz", "spectral_centroid_hz", "band_hz", "bandwidth_hz", "nyquist_hz")
_COMPARATIVE = re.compile(r"\b(?:exceeds?|exceeding|higher|lower|larger|smaller|greater|less|more|above|below|"
                          r"stronger|weaker|brighter|dimmer|bigger|up|down|increases?|decreases?|drops?|rises?|"
                          r"differs?|outstrips|surpass\w*)\b", re.IGNORECASE)
_CHANGE_AFTER = re.compile(r"^\s*(?:higher|lower|larger|smaller|greater|less|more|above|below|stronger|weaker|"
                           r"brighter|dimmer|bigger|up|down|over|under|increase|decrease|drop|rise|louder|quieter|"
                           r"difference|contrast|gain|loss)\b", re.IGNORECASE)
_DURATION_AFTER = re.compile(r"^\s*(?:-|–)?\s*(?:window|interval|gate|period|thick|thickness|wide|long|step|sampling|"
                             r"sample|lag|shift|of (?:throw|offset|lag|shift)|throw|offset|delay|apart|above|below|"
                             r"deeper|shallower|later|earlier|before|after|wavelength|cycle|per|spacing|of data|"
                             r"of record|record|increments?|resolution|into|long)\b", re.IGNORECASE)
_DURATION_BEFORE = re.compile(r"\b(?:interval|rate|every|period|throw|lag|shift|thickness|spacing|window|windows|"
                              r"within|by|resolution|lasting|spanning|over|across|step|of about|duration|length|"
                              r"sampled at|sampling of|separation|offset|delay|wavelet of|half|tuning)\s*"
                              r"(?:of\s+)?(?:about|roughly|approximately|some|~|only|just)?\s*$", re.IGNORECASE)
_TIME_BEFORE = re.compile(r"\b(?:at|near|around|from|between|to|until|above|below|beneath|under|before|after|"
                          r"deeper than|shallower than|down to|timeslice|time slice|slice|twt|time)\s*"
                          r"(?:about|roughly|approximately|~|c\.)?\s*$", re.IGNORECASE)
_COUNT_AFTER = re.compile(r"^\s*(?P<q>live |dead |missing |empty |zero(?:ed)? |null |valid |good |bad |active |"
                          r"non-?zero )?traces?\b(?!\s*(?:wide|apart|away|either|around|long|on each|in width|to the|"
                          r"of (?:the |an? |this |that )?(?:anomaly|feature|fault|channel|spot|window|zone)))",
                          re.IGNORECASE)
_SAMPLES_AFTER = re.compile(r"^\s*(?:live |valid )?samples?\b(?P<per>\s+(?:per|a|each|in (?:each|every|a)) trace)?",
                            re.IGNORECASE)
_RATIO_AFTER = re.compile(r"^\s*(?:times|x\b|×|-?fold)", re.IGNORECASE)
_RATIO_BEFORE = re.compile(r"\b(?:factor of|ratio (?:of|is|was|at|near)?|ratio|contrast (?:of|is)?|"
                           r"crest factor (?:of|is)?)\s*(?:about|roughly|approximately|some|~|only|just|nearly|"
                           r"almost|around)?\s*$", re.IGNORECASE)
_BY_BEFORE = re.compile(r"\bby\s*(?:about|roughly|approximately|some|~|only|just|nearly|almost|around)?\s*$",
                        re.IGNORECASE)
_DIFFERENCE_BEFORE = re.compile(r"\bdifference\b[^.;]{0,60}?\b(?:of|is|was|at|about|near|:|=)\s*(?:about|roughly|"
                                r"approximately|some|~|only|just)?\s*$", re.IGNORECASE)
_PERCENT_TRACES = re.compile(r"^\s*(?:of\s+(?:the\s+|all\s+|its\s+)?(?P<q1>live |dead |missing |empty )?traces\b"
                             r"(?:[^.;]{0,30}?\b(?P<q2>live|dead|missing|empty|absent|zero))?)", re.IGNORECASE)
_PERCENT_TRACES_BEFORE = re.compile(r"\b(?P<q>live|dead|missing|empty)\s+traces?\b[^.;]{0,25}$", re.IGNORECASE)
_INHERIT_GAP = re.compile(r"^[\s,;(]*(?:and|while|whereas|but|against|versus|vs\.?|compared (?:with|to)|with)?\s*"
                          r"(?:(?:on|for|at|in|of|along)\s+)?(?:the\s+)?(?:REF)?\s*\)?\s*,?\s*(?:it\s+is\s+|is\s+|has\s+|"
                          r"gives?\s+|shows?\s+|was\s+|reaches\s+)?(?:only\s+|about\s+|roughly\s+|approximately\s+|"
                          r"~\s*|just\s+)?$", re.IGNORECASE)


def _clause_start(sentence: str, position: int) -> int:
    return sentence.rfind(";", 0, position) + 1  # a colon introduces its value ("RMS: 2,879"), it ends nothing


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= position < e for s, e in spans)


def quantities(sentence: str) -> list[Quantity]:
    """Each number of the sentence with what it is said to measure; numbers that name a place (inline
    120), a percentile (95th) or nothing checkable are left out."""
    reading = read(sentence)
    names = statistic_names(sentence)
    refs = section_refs(sentence)
    ref_spans = [(r.start, r.end) for r in refs]
    name_spans = [(n.start, n.end) for n in names if n.names[0].startswith("p") and n.names[0][1:].isdigit()]
    lists = name_lists(sentence, names)
    out: list[Quantity] = []
    previous_value: Quantity | None = None
    previous_end = 0  # of the last statistic or frequency
    last_end = 0  # of the last number of any kind
    chosen_for_group: dict[int, Name | None] = {}
    for index, number in enumerate(reading.numbers):
        if _inside(number.start, ref_spans) or _inside(number.start, name_spans):
            continue
        before = sentence[:number.start]
        after = sentence[number.end:]
        if re.search(r"(?:#|\bno\.|\bfig(?:ure)?\.?|\btable|\bstep|\bcase|\bversion|\bv)\s*$", before, re.IGNORECASE):
            continue
        group = reading.group_of(index)
        position_in_group = group.members.index(index)
        last = reading.numbers[group.members[-1]]
        after_group = sentence[last.end:]
        unit = number.unit
        quantity: Quantity | None = None
        if unit in ("ms", "s"):
            duration = _DURATION_AFTER.match(after_group) or (
                _DURATION_BEFORE.search(sentence[:reading.numbers[group.members[0]].start])
                and not _TIME_BEFORE.search(sentence[:reading.numbers[group.members[0]].start]))
            quantity = Quantity(number, "duration" if duration else "time")
        elif unit in ("m", "km", "ft"):
            quantity = Quantity(number, "depth")
        elif unit == "db":
            quantity = Quantity(number, "decibel")
        elif unit == "%":
            traces = _PERCENT_TRACES.match(after_group)
            traces_before = _PERCENT_TRACES_BEFORE.search(before)
            if traces or traces_before:
                q = ((traces.group("q1") or traces.group("q2") or "") if traces else "") or \
                    (traces_before.group("q") if traces_before else "")
                quantity = Quantity(number, "trace_percent", qualifier=q.strip().lower())
            elif _CHANGE_AFTER.match(after_group):
                quantity = Quantity(number, "percent_change")
            else:
                continue  # a percentage of something the data do not count
        elif unit in ("hz", "khz"):
            if unit == "khz":
                number.value *= 1000
            quantity = Quantity(number, "frequency")
        elif _RATIO_AFTER.match(after) or _RATIO_BEFORE.search(before):
            quantity = Quantity(number, "ratio")
        elif _DIFFERENCE_BEFORE.search(before) or (
                _BY_BEFORE.search(before) and _COMPARATIVE.search(before[_clause_start(sentence, number.start):])):
            quantity = Quantity(number, "difference")
        elif count := _COUNT_AFTER.match(after_group):
            quantity = Quantity(number, "trace_count", qualifier=(count.group("q") or "").strip().lower())
        elif samples := _SAMPLES_AFTER.match(after_group):
            quantity = Quantity(number, "sample_count", qualifier="per trace" if samples.group("per") else "")
        elif re.match(r"^\s*zero[- ]crossings?", after_group, re.IGNORECASE):
            quantity = Quantity(number, "statistic", ("zero_crossings",), "zero crossings")
        elif re.match(r"^\s*(?:lines?|inlines?|crosslines?|sections?|slices?|windows?|clusters?|anomal|events?|"
                      r"reflectors?|horizons?|faults?|channels?|spots?|wells?|layers?|cycles?|peaks?|troughs?|"
                      r"points?|bins?|percentiles?|out of|of the|of (?:these|those|them))", after_group,
                      re.IGNORECASE):
            continue  # "3 inlines", "2 of the 5 anomalies": counts of other things
        else:
            quantity = Quantity(number, "statistic")
        own = re.match(r"^\s*\((?:the\s+)?([^()]{1,30})\)", after)
        own_names = [n for n in names if own and number.end < n.start < number.end + own.end()
                     and n.names != ("any",)]
        if quantity.kind == "statistic" and not quantity.names and own_names:
            # "−5,500 (1st percentile)": a name in brackets right after the number is its own
            quantity.names, quantity.word = own_names[0].names, own_names[0].text
            chosen_for_group.setdefault(number.group, own_names[0])
        elif quantity.kind in ("statistic", "frequency") and not quantity.names:
            _name(quantity, sentence, reading, index, names, lists, previous_value, previous_end, chosen_for_group)
            if quantity.kind == "statistic" and not quantity.names:
                continue  # not presented as a statistic
        if quantity.kind in ("ratio", "difference"):
            start = max(_clause_start(sentence, number.start), last_end)
            tail = re.split(r",|;| and | while | but | whereas ", sentence[number.end:number.end + 40])[0]
            operands = [n.names for n in names if n.names != ("any",) and (
                start <= n.start < number.start or number.end <= n.start < number.end + len(tail))]
            quantity.operands = tuple(dict.fromkeys(operands))
        quantity.section = _section_for(quantity, sentence, reading, index, refs, previous_end)
        if group.kind == "range" and quantity.kind in ("statistic", "frequency", "time"):
            quantity.role = "low" if position_in_group == 0 else "high"
        out.append(quantity)
        last_end = number.end
        if quantity.kind in ("statistic", "frequency"):
            previous_value, previous_end = quantity, number.end
    _pair_respectively(out, reading, refs)
    return out


def _name(quantity: Quantity, sentence: str, reading: Reading, index: int, names: list[Name],
          lists: list[list[Name]], previous: Quantity | None, previous_end: int,
          chosen_for_group: dict[int, Name | None]) -> None:
    number = quantity.number
    group = reading.group_of(index)
    position = group.members.index(index)
    first = reading.numbers[group.members[0]]
    if len(group.members) > 1 and group.kind == "list":
        # "the minimum and maximum are −7,110 and 5,530", "the 5th and 95th percentiles are A and B":
        # a list of names as long as the list of numbers, before it (or after it, "respectively").
        matching = [names_ for names_ in lists if len(names_) == len(group.members)]
        before = [names_ for names_ in matching if names_[-1].end <= first.start]
        chosen = before[-1] if before else next((n for n in matching if n[0].start > first.start), None)
        if chosen:
            quantity.names, quantity.word = chosen[position].names, chosen[position].text
            return
    if position > 0 and number.group in chosen_for_group:
        chosen_name = chosen_for_group[number.group]  # the later numbers of a range or list share its name
    else:
        window_start = max(previous_end, number.start - 70, _clause_start(sentence, number.start))
        candidates = [n for n in names if window_start <= n.start and n.end <= number.start]
        if quantity.kind == "frequency":
            candidates = [n for n in candidates if set(n.names) & set(FREQUENCY_KEYS)]
        if quantity.kind == "frequency" and len(candidates) >= 2 and \
                candidates[-1].names == _GENERIC_FREQUENCY and candidates[-2].end >= candidates[-1].start - 2:
            candidates = candidates[:-1]  # "Nyquist frequency", "centroid frequency": the qualifier decides
        specific = [n for n in candidates if n.names != ("any",) and "weak" not in n.names]
        weak = [n for n in candidates if "weak" in n.names]
        chosen_name = specific[-1] if specific else weak[-1] if weak else (candidates[-1] if candidates else None)
        chosen_for_group[number.group] = chosen_name
    if quantity.kind == "frequency":
        quantity.names = chosen_name.names if chosen_name else FREQUENCY_KEYS
        quantity.word = chosen_name.text if chosen_name else "frequency"
        if group.kind == "range" and quantity.names != ("bandwidth_hz",):
            quantity.names = ("band_hz", *FREQUENCY_KEYS)
        return
    if chosen_name is None and previous is not None and previous_end and position == 0:
        gap = sentence[previous_end:number.start]
        pattern = _INHERIT_GAP.pattern.replace("(?:REF)?", r"(?:(?:in-?lines?|cross-?lines?|x-?lines?|il|xl)\s*\d+)?")
        if re.match(pattern, gap, re.IGNORECASE):
            quantity.names, quantity.word = previous.names, previous.word
            return
    if chosen_name is None:
        return
    quantity.names, quantity.word = tuple(n for n in chosen_name.names if n != "weak"), chosen_name.text
    ranged = group.kind == "range" and (quantity.names in (("any",), ("data_range",)) or (
        re.search(r"\branges?\b|\branging\b|\bbetween\b|\bfrom\b|\bspans?\b", quantity.word
                  + sentence[chosen_name.end:first.start], re.IGNORECASE)
        and set(quantity.names) <= {"any", "max", "max_abs", "p99", "min", "p1", "data_range"}))
    if ranged:
        quantity.names = _LOW if position == 0 else _HIGH
    if quantity.names == ("any",) and number.plus_minus:
        quantity.names = ("max_abs", "p99", "max", "min", "p1")


def _section_for(quantity: Quantity, sentence: str, reading: Reading, index: int, refs: list[Ref],
                 previous_end: int) -> Ref | None:
    """The section a number is said of, only where the wording leaves no doubt: right after it ("1,520
    (inline 120)", "1,520 on inline 120"), the one section named since the previous value, or the only
    section the sentence names."""
    number = quantity.number
    next_start = next((n.start for n in reading.numbers[index + 1:]
                       if not any(r.start <= n.start < r.end for r in refs)), len(sentence))
    after = [r for r in refs if number.end <= r.start < min(next_start, number.end + 30) and r.single]
    if after and re.match(r"^\s*(?:\(|on|for|along|in|at|of)\b|^\s*\(", sentence[number.end:after[0].start]):
        return after[0]
    between = [r for r in refs if previous_end <= r.start < number.start and r.single and r.axis != "sample"]
    if len({(r.axis, r.low) for r in between}) == 1:
        return between[-1]
    named = [r for r in refs if r.single and r.axis != "sample"]
    if len({(r.axis, r.low) for r in named}) == 1 and not between:
        return named[0]
    return None


def _pair_respectively(out: list[Quantity], reading: Reading, refs: list[Ref]) -> None:
    """"The RMS is 1,520 and 1,610 on inlines 120 and 125 (respectively)": the numbers of a list go to
    the sections of a list of the same length, in order."""
    singles = [r for r in refs if r.single and r.axis != "sample"]
    by_group: dict[int, list[Quantity]] = {}
    for quantity in out:
        by_group.setdefault(quantity.number.group, []).append(quantity)
    for group_index, members in by_group.items():
        group = reading.groups[group_index]
        if group.kind != "list" or len(members) < 2:
            continue
        same = [r for r in singles if len(singles) >= len(members)]
        for start in range(0, len(same) - len(members) + 1):
            run = same[start:start + len(members)]
            if len({(r.axis, r.low) for r in run}) == len(members) and (
                    group.respectively or all(run[i + 1].start - run[i].end < 25 for i in range(len(run) - 1))):
                for quantity, ref in zip(members, run, strict=True):
                    quantity.section = ref
                break
